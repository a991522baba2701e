package intakefn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/shared/report"
)

func TestHealthAndCategories(t *testing.T) {
	h := newHarness(t)
	if r := h.do(nobody, "GET", "GET /v1/health", "/v1/health", nil, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"status":"ok"}` {
		t.Errorf("health = %d %s", r.Status, r.Body)
	}
	r := h.do(nobody, "GET", "GET /v1/categories", "/v1/categories", nil, nil)
	var got struct{ Items []report.Category }
	r.json(t, &got)
	if r.Status != 200 || len(got.Items) != 10 {
		t.Fatalf("categories = %d %s", r.Status, r.Body)
	}
	names := map[string]string{}
	for _, c := range got.Items {
		names[c.Code] = c.NameZH
	}
	if names["rubbish"] != "垃圾" || names["street_light"] != "路灯" {
		t.Errorf("categories = %v", names)
	}
}

func TestPresignedPostPolicy(t *testing.T) {
	h := newHarness(t)
	before := time.Now()
	r := h.do(alice, "POST", "POST /v1/uploads", "/v1/uploads", []byte(`{"contentType":"image/png","size":12345}`), nil)
	if r.Status != 201 {
		t.Fatalf("status %d %s", r.Status, r.Body)
	}
	var up report.Upload
	r.json(t, &up)
	if !strings.HasPrefix(up.Key, h.uploadKey("")) || strings.Contains(up.Key, "alice") || !strings.HasSuffix(up.Key, ".png") {
		t.Errorf("key = %q", up.Key)
	}
	if d := up.ExpiresAt.Sub(before); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("expiresAt in %v, want 10 minutes", d)
	}
	if up.Fields["key"] != up.Key || up.Fields["Content-Type"] != "image/png" || up.Fields["x-amz-meta-owner"] != "alice" || up.Fields["X-Amz-Signature"] == "" {
		t.Errorf("fields = %v", up.Fields)
	}
	raw, err := base64.StdEncoding.DecodeString(up.Fields["policy"])
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Expiration time.Time `json:"expiration"`
		Conditions []any     `json:"conditions"`
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		t.Fatal(err)
	}
	if d := policy.Expiration.Sub(before); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("policy expires in %v", d)
	}
	var sawKey, sawType, sawRange, sawOwner bool
	for _, c := range policy.Conditions {
		switch c := c.(type) {
		case map[string]any:
			if c["key"] == up.Key {
				sawKey = true
			}
			if c["Content-Type"] == "image/png" {
				sawType = true
			}
			if c["x-amz-meta-owner"] == "alice" {
				sawOwner = true // the uploader, which the key does not name
			}
		case []any:
			if len(c) == 3 && c[0] == "content-length-range" && c[1] == float64(1) && c[2] == float64(maxUpload) {
				sawRange = true
			}
			if len(c) == 3 && (c[0] == "starts-with") {
				t.Errorf("policy allows a prefix: %v", c)
			}
		}
	}
	if !sawKey || !sawType || !sawRange || !sawOwner {
		t.Errorf("policy conditions %v: exact key %v, content type %v, length range %v, owner %v", policy.Conditions, sawKey, sawType, sawRange, sawOwner)
	}
	h.assertNothingWritten()
}

func TestUploadRejections(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		who    caller
		body   string
		status int
		code   string
	}{
		{"gif not allowed", alice, `{"contentType":"image/gif","size":100}`, 400, "unsupported_content_type"},
		{"no content type", alice, `{"size":100}`, 400, "unsupported_content_type"},
		{"zero size", alice, `{"contentType":"image/jpeg","size":0}`, 400, "invalid_size"},
		{"too large", alice, fmt.Sprintf(`{"contentType":"image/jpeg","size":%d}`, maxUpload+1), 400, "invalid_size"},
		{"unknown field", alice, `{"contentType":"image/jpeg","size":10,"acl":"public-read"}`, 400, "invalid_json"},
		{"not json", alice, `contentType=image/jpeg`, 400, "invalid_json"},
		{"clerk may not upload", clerkOn, `{"contentType":"image/jpeg","size":10}`, 403, "forbidden"},
		{"anonymous", nobody, `{"contentType":"image/jpeg","size":10}`, 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.who, "POST", "POST /v1/uploads", "/v1/uploads", []byte(tt.body), nil)
			if r.Status != tt.status || r.code(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
		})
	}
	h.assertNothingWritten()
	if r := h.do(staff, "POST", "POST /v1/uploads", "/v1/uploads", []byte(`{"contentType":"image/jpeg","size":10}`), nil); r.Status != 201 {
		t.Errorf("staff upload (proof of fix) = %d", r.Status)
	}
}

func TestCreateReportEndToEndWithPresignedUpload(t *testing.T) {
	h := newHarness(t)
	photo := jpegBytes(t, true)
	key := h.presign(alice, "image/jpeg", photo)
	h.do(nobody, "GET", "GET /v1/categories", "/v1/categories", nil, nil) // warm the per-container cache
	h.calls.Reset()

	body := reportBody("rubbish", key)
	r := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", body, map[string]string{"Idempotency-Key": "k-1"})
	if r.Status != 201 {
		t.Fatalf("create = %d %s", r.Status, r.Body)
	}
	calls := h.calls.Snapshot()
	t.Logf("calls per create-report with 1 photo: %v", calls)
	if h.calls.Service("DynamoDB") != 2 || calls["DynamoDB.GetItem"] != 1 || calls["DynamoDB.PutItem"] != 1 {
		t.Errorf("DynamoDB calls = %v, want 2: the read of a replay's report, then the report's one write", calls)
	}
	if calls["S3.GetObject"] != 1 || calls["S3.PutObject"] != 1 || h.calls.Service("S3") != 2 {
		t.Errorf("S3 calls = %v, want 1 check and 1 write of the stripped photo", calls)
	}

	var rep report.Report
	r.json(t, &rep)
	if rep.Status != report.Submitted || rep.Category != "rubbish" || rep.ReporterSub != "alice" || len(rep.Photos) != 1 ||
		rep.Location.Lat != 23.37 || rep.CreatedAt.IsZero() || len(rep.Timeline) != 1 {
		t.Errorf("report = %+v", rep)
	}
	if r.Header["Location"] != "/v1/reports/"+rep.ID {
		t.Errorf("Location = %q", r.Header["Location"])
	}
	ph := rep.Photos[0]
	if ph.Key != key || ph.VersionID == "" || ph.ContentType != "image/jpeg" || !ph.MetadataStripped {
		t.Errorf("photo = %+v, want the upload's key %s pinned to a version", ph, key)
	}
	readVersion := func(ph report.Photo) []byte {
		t.Helper()
		obj, err := h.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &h.bucket, Key: &ph.Key, VersionId: &ph.VersionID})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Body.Close()
		b, _ := io.ReadAll(obj.Body)
		return b
	}
	stored := readVersion(ph)
	if bytes.Contains(stored, []byte("GPSLatitude")) || bytes.Contains(stored, []byte("Exif")) || len(stored) == 0 {
		t.Errorf("stored photo still carries EXIF")
	}
	// The client posts to its key again (its form is valid for minutes): the report still shows the
	// version that was checked.
	swapped := jpegBytes(t, true)
	if _, err := h.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &h.bucket, Key: &key, Body: bytes.NewReader(swapped), ContentType: aws.String("image/jpeg")}); err != nil {
		t.Fatal(err)
	}
	var shown report.Report
	if g := h.do(alice, "GET", "GET /v1/reports/{id}", "/v1/reports/"+rep.ID, nil, nil); g.Status != 200 {
		t.Fatalf("get = %d %s", g.Status, g.Body)
	} else {
		g.json(t, &shown)
	}
	if len(shown.Photos) != 1 || shown.Photos[0] != ph || !bytes.Equal(readVersion(shown.Photos[0]), stored) {
		t.Errorf("after a re-upload the report shows %+v, want %+v with the checked bytes", shown.Photos, ph)
	}

	// Same key, same body: the same response and still one report.
	h.calls.Reset()
	again := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", body, map[string]string{"Idempotency-Key": "k-1"})
	if again.Status != 201 || !bytes.Equal(again.Body, r.Body) {
		t.Errorf("replay = %d %s\nwant %s", again.Status, again.Body, r.Body)
	}
	if n := h.calls.Service("S3"); n != 0 {
		t.Errorf("replay touched S3 %d times", n)
	}
	t.Logf("calls per replay: %v", h.calls.Snapshot())
	// Same key, other body.
	other := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", reportBody("noise", key), map[string]string{"Idempotency-Key": "k-1"})
	if other.Status != 422 || other.code(t) != "idempotency_key_reused" {
		t.Errorf("reuse = %d %s", other.Status, other.Body)
	}
	items, _ := h.written()
	reports := 0
	for _, pk := range items {
		if strings.HasPrefix(pk, "REPORT#") {
			reports++
		}
	}
	if reports != 1 || slices.ContainsFunc(items, func(k string) bool { return strings.HasPrefix(k, "IDEM#") }) {
		t.Errorf("items written = %v, want the report alone (its first timeline entry is implied, it is its own idempotency record)", items)
	}

	// Visibility.
	for _, tt := range []struct {
		who          caller
		status       int
		seesReporter bool
	}{{alice, 200, true}, {bob, 404, false}, {staff, 200, false}, {admin, 200, true}} {
		g := h.do(tt.who, "GET", "GET /v1/reports/{id}", "/v1/reports/"+rep.ID, nil, nil)
		if g.Status != tt.status {
			t.Errorf("%s GET = %d, want %d", tt.who.sub, g.Status, tt.status)
			continue
		}
		if g.Status == 200 {
			var seen report.Report
			g.json(t, &seen)
			if (seen.ReporterSub != "") != tt.seesReporter {
				t.Errorf("%s sees reporter %q", tt.who.sub, seen.ReporterSub)
			}
			if len(seen.Timeline) != 1 || seen.Timeline[0].Status != report.Submitted {
				t.Errorf("timeline = %+v", seen.Timeline)
			}
		} else if g.code(t) != "report_not_found" {
			t.Errorf("other citizen code = %s", g.code(t))
		}
	}
}

func TestCreateReportRejections(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	good := h.putPending("alice", "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b.jpg", "image/jpeg", jpegBytes(t, false))
	notImage := h.putPending("alice", "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5c.jpg", "image/jpeg", []byte("this is not a jpeg at all"))
	wrongType := h.putPending("alice", "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5d.png", "image/png", jpegBytes(t, false))
	huge := h.putPending("alice", "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5e.jpg", "image/jpeg", append(jpegBytes(t, false), make([]byte, maxUpload)...))
	bobs := h.putPending("bob", "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5f.jpg", "image/jpeg", jpegBytes(t, false))
	missing := h.uploadKey("0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a60.jpg")
	// Uploaded two days ago: the photo sweeper's to delete by now, so no report may attach it.
	stale := "photos/" + time.Now().In(h.e.TZ).AddDate(0, 0, -2).Format("2006-01-02") + "/0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a61.jpg"
	if out, err := h.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &h.bucket, Key: &stale, Body: bytes.NewReader(jpegBytes(t, false)), ContentType: aws.String("image/jpeg"),
		Metadata: map[string]string{"owner": "alice"}}); err != nil {
		t.Fatal(err)
	} else {
		h.upload(stale, aws.ToString(out.VersionId))
	}
	withBody := func(mut func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal(reportBody("rubbish", good), &m)
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	idemKey := map[string]string{"Idempotency-Key": "k"}
	tests := []struct {
		name    string
		who     caller
		body    string
		headers map[string]string
		status  int
		code    string
	}{
		{"missing idempotency key", alice, string(reportBody("rubbish", good)), nil, 400, "idempotency_key_required"},
		{"bad idempotency key", alice, string(reportBody("rubbish", good)), map[string]string{"Idempotency-Key": "has space"}, 400, "idempotency_key_invalid"},
		{"unknown field", alice, withBody(func(m map[string]any) { m["status"] = "resolved" }), idemKey, 400, "invalid_json"},
		{"malformed json", alice, `{"category":`, idemKey, 400, "invalid_json"},
		{"trailing data", alice, string(reportBody("rubbish", good)) + `{}`, idemKey, 400, "invalid_json"},
		{"wrong type", alice, withBody(func(m map[string]any) { m["photoKeys"] = "x" }), idemKey, 400, "invalid_json"},
		{"body over 64 KiB", alice, withBody(func(m map[string]any) { m["description"] = strings.Repeat("x", 70<<10) }), idemKey, 413, "body_too_large"},
		{"unknown category", alice, string(reportBody("ufo", good)), idemKey, 400, "unknown_category"},
		{"description too long", alice, withBody(func(m map[string]any) { m["description"] = strings.Repeat("灯", 2001) }), idemKey, 400, "invalid_description"},
		{"no location", alice, withBody(func(m map[string]any) { delete(m, "location") }), idemKey, 400, "location_required"},
		{"outside the city", alice, withBody(func(m map[string]any) { m["location"] = map[string]float64{"lat": 39.9, "lng": 116.4} }), idemKey, 400, "location_outside_city"},
		{"no photos", alice, string(reportBody("rubbish")), idemKey, 400, "invalid_photo_count"},
		{"ten photos", alice, withBody(func(m map[string]any) {
			var ks []string
			for i := range 10 {
				ks = append(ks, h.uploadKey(fmt.Sprintf("0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a%02d.jpg", i)))
			}
			m["photoKeys"] = ks
		}), idemKey, 400, "invalid_photo_count"},
		{"someone else's photo", alice, string(reportBody("rubbish", bobs)), idemKey, 400, "invalid_photo_key"},
		{"photo never uploaded", alice, string(reportBody("rubbish", good, missing)), idemKey, 400, "photo_not_found"},
		{"photo uploaded two days ago", alice, string(reportBody("rubbish", good, stale)), idemKey, 400, "photo_not_found"},
		{"photo key of the shape before photos/", alice, string(reportBody("rubbish", "uploads/pending/alice/0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b.jpg")), idemKey, 400, "invalid_photo_key"},
		{"photo is not an image", alice, string(reportBody("rubbish", notImage)), idemKey, 400, "photo_not_image"},
		{"photo type differs from its bytes", alice, string(reportBody("rubbish", wrongType)), idemKey, 400, "photo_not_image"},
		{"photo too large", alice, string(reportBody("rubbish", huge)), idemKey, 400, "photo_too_large"},
		{"staff may not report", staff, string(reportBody("rubbish", good)), idemKey, 403, "forbidden"},
		{"anonymous caller", nobody, string(reportBody("rubbish", good)), idemKey, 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.who, "POST", "POST /v1/reports", "/v1/reports", []byte(tt.body), tt.headers)
			if r.Status != tt.status || r.code(t) != tt.code {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
			h.assertNothingWritten()
		})
	}

	// A rejected request released its key: the same key with a good body now succeeds.
	if r := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", reportBody("rubbish", good), idemKey); r.Status != 201 {
		t.Errorf("after rejections, create = %d %s", r.Status, r.Body)
	}

	// No claim holds a key while its request runs: a request with a key an earlier one used with another
	// body is 422 and writes nothing, whatever state the earlier one's report is in.
	before := h.items()
	r := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", reportBody("noise", good), idemKey)
	if r.Status != 422 || r.code(t) != "idempotency_key_reused" {
		t.Errorf("other body = %d %s", r.Status, r.Body)
	}
	if after := h.items(); !maps.Equal(after, before) {
		t.Errorf("refused request wrote: %d items before, %d after", len(before), len(after))
	}
}

func TestGetReportNotFound(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b", "not-a-uuid"} {
		r := h.do(alice, "GET", "GET /v1/reports/{id}", "/v1/reports/"+id, nil, nil)
		if r.Status != 404 || r.code(t) != "report_not_found" {
			t.Errorf("%s: %d %s", id, r.Status, r.Body)
		}
	}
	// An id no report can have is refused at the edge, before the store (httpapi's input rules).
	if r := h.do(alice, "GET", "GET /v1/reports/{id}", "/v1/reports/REPORT%23x", nil, nil); r.Status != 400 || r.code(t) != "invalid_path_parameter" {
		t.Errorf("REPORT%%23x: %d %s", r.Status, r.Body)
	}
}

func TestListMinePagination(t *testing.T) {
	h := newHarness(t)
	var created []string
	for i := range 5 {
		key := h.putPending("alice", fmt.Sprintf("0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4b%02d.jpg", i), "image/jpeg", jpegBytes(t, false))
		r := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", reportBody("rubbish", key), map[string]string{"Idempotency-Key": fmt.Sprint("p", i)})
		if r.Status != 201 {
			t.Fatalf("create %d: %d %s", i, r.Status, r.Body)
		}
		var rep report.Report
		r.json(t, &rep)
		created = append(created, rep.ID)
		time.Sleep(2 * time.Millisecond) // distinct createdAt (ms resolution)
	}
	bk := h.putPending("bob", "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4bff.jpg", "image/jpeg", jpegBytes(t, false))
	if r := h.do(bob, "POST", "POST /v1/reports", "/v1/reports", reportBody("noise", bk), map[string]string{"Idempotency-Key": "b"}); r.Status != 201 {
		t.Fatal(r.Status)
	}

	var got []string
	cursor := ""
	pages := 0
	var firstCursor string
	for {
		path := "/v1/me/reports?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := h.do(alice, "GET", "GET /v1/me/reports", path, nil, nil)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var page report.Page
		r.json(t, &page)
		for _, it := range page.Items {
			got = append(got, it.ID)
			if it.ReporterSub != "alice" {
				t.Errorf("listed someone else's report: %+v", it)
			}
		}
		pages++
		if page.NextCursor == "" || pages > 5 {
			break
		}
		if firstCursor == "" {
			firstCursor = page.NextCursor
		}
		cursor = page.NextCursor
	}
	want := []string{created[4], created[3], created[2], created[1], created[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listed %v, want newest first %v", got, want)
	}

	for _, tt := range []struct {
		name, who, path, code string
	}{
		{"garbage cursor", "alice", "/v1/me/reports?cursor=!!!", "invalid_cursor"},
		{"someone else's cursor", "bob", "/v1/me/reports?cursor=" + firstCursor, "invalid_cursor"},
		{"limit zero", "alice", "/v1/me/reports?limit=0", "invalid_limit"},
		{"limit too big", "alice", "/v1/me/reports?limit=101", "invalid_limit"},
		{"limit not a number", "alice", "/v1/me/reports?limit=ten", "invalid_limit"},
	} {
		c := alice
		if tt.who == "bob" {
			c = bob
		}
		r := h.do(c, "GET", "GET /v1/me/reports", tt.path, nil, nil)
		if r.Status != 400 || r.code(t) != tt.code {
			t.Errorf("%s: %d %s", tt.name, r.Status, r.Body)
		}
	}
}
