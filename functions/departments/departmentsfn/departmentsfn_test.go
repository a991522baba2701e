package departmentsfn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/departments/departmentsfn"
	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// fixture is a fresh environment with the departments function (and, to make assignments, the dispatch
// function) built over it as their mains build them.
type fixture struct {
	*testenv.Env
	fn       *departmentsfn.Function
	dispatch *dispatchfn.Function
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	e := moto.New(t, testenv.Options{})
	fn, err := departmentsfn.New(e.Base("DepartmentsFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	// The dispatch function gets its own, uncounted client: the counts are the departments function's.
	d, err := dispatchfn.New(e.BaseOn(e.AWS, "DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Env: e, fn: fn, dispatch: d}
}

// dispatched files a report and dispatches it through the dispatch function, as the stream would.
func (f *fixture) dispatched(category string, loc report.Location) report.Report {
	f.T.Helper()
	r := f.CreateReport(report.Report{Category: category, Location: loc})
	resp, err := f.dispatch.Handle(context.Background(), testenv.Event(f.ReportRecord(r.ID)))
	if err != nil || len(resp.BatchItemFailures) > 0 {
		f.T.Fatalf("dispatch: %v %v", err, resp.BatchItemFailures)
	}
	f.Drain(f.OutboxURL)
	return f.get(r.ID)
}

func (f *fixture) get(id string) report.Report {
	f.T.Helper()
	r, err := f.Store.GetReport(context.Background(), id)
	if err != nil {
		f.T.Fatal(err)
	}
	return r
}

type response struct {
	Status int
	Body   []byte
	Header http.Header
}

func (r response) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// do sends a request through the API Gateway v2 event path Lambda and the local runner use.
func (f *fixture) do(method, routeKey, path string, body []byte, h http.Header, claims map[string]string) response {
	f.T.Helper()
	resp, err := f.call(method, routeKey, path, body, h, claims)
	if err != nil {
		f.T.Fatalf("%s %s: handler error %v", method, path, err)
	}
	return resp
}

// call is do without the test: safe from any goroutine.
func (f *fixture) call(method, routeKey, path string, body []byte, h http.Header, claims map[string]string) (response, error) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := f.fn.Handle(context.Background(), gateway.Event(req, body, routeKey, claims))
	if err != nil {
		return response{}, err
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	hdr := http.Header{}
	for k, v := range resp.Headers {
		hdr.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		hdr[http.CanonicalHeaderKey(k)] = vs
	}
	return response{Status: resp.StatusCode, Body: b, Header: hdr}, nil
}

// signedRequest is a department system's signed callback.
type signedRequest struct {
	dept   string       // the path's department
	body   []byte       // the raw body
	header http.Header  // webhook-id, -timestamp, -signature
	route  string       // "events" or "uploads"
	signAs string       // whose secret signs ("" = dept's)
	at     time.Time    // signing time (zero = now)
	mutate func([]byte) // changes the body after signing
}

var msgN int

// sign builds the signed request for body, as a department system would send it.
func (f *fixture) sign(s signedRequest) signedRequest {
	f.T.Helper()
	if s.signAs == "" {
		s.signAs = s.dept
	}
	if s.at.IsZero() {
		s.at = time.Now()
	}
	if s.route == "" {
		s.route = "events"
	}
	msgN++
	h, err := webhook.Sign(f.DeptSecrets[s.signAs], fmt.Sprintf("msg_in_%d_%d", time.Now().UnixNano(), msgN), s.at, s.body)
	if err != nil {
		f.T.Fatal(err)
	}
	s.header = h
	if s.mutate != nil {
		s.body = bytes.Clone(s.body)
		s.mutate(s.body)
	}
	return s
}

// send posts a signed request.
func (f *fixture) send(s signedRequest) response {
	f.T.Helper()
	return f.do("POST", "POST /v1/departments/{dept}/"+s.route, "/v1/departments/"+s.dept+"/"+s.route, s.body, s.header, nil)
}

func event(typ, reportID string, extra map[string]any) []byte {
	m := map[string]any{"type": typ, "reportId": reportID}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func staff(sub, dept string) map[string]string {
	return map[string]string{"sub": sub, "cognito:groups": "[staff]", "custom:dept": dept}
}

var outskirts = report.Location{Lat: 23.4500, Lng: 103.2500}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		img.Set(x, x, color.RGBA{10, 200, 10, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIF is jpeg with an APP1 EXIF segment carrying a location, which checking the photo strips (a new
// version of its key).
func withEXIF(jpeg []byte) []byte {
	payload := []byte("Exif\x00\x00GPSLatitude 23.37 GPSLongitude 103.38")
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(out, jpeg[2:]...)
}

// uploadKey is where an upload named name, handed out today (the city's day), lives.
func (f *fixture) uploadKey(name string) string {
	return "photos/" + time.Now().In(f.TZ).Format("2006-01-02") + "/" + name
}

// putUpload puts data at an upload key of today's as owner's, with the owner metadata a presigned POST's
// policy fixes (a faster stand-in for presign).
func (f *fixture) putUpload(owner, name string, data []byte) string {
	f.T.Helper()
	key := f.uploadKey(name)
	if _, err := f.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &f.Bucket, Key: &key, Body: bytes.NewReader(data),
		ContentType: aws.String("image/jpeg"), Metadata: map[string]string{"owner": owner}}); err != nil {
		f.T.Fatal(err)
	}
	return key
}

// stored lists every version in the bucket ("<key> <version id>"), sorted.
func (f *fixture) stored() []string {
	f.T.Helper()
	var out []string
	pages := s3.NewListObjectVersionsPaginator(f.S3, &s3.ListObjectVersionsInput{Bucket: &f.Bucket})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			f.T.Fatal(err)
		}
		for _, v := range page.Versions {
			out = append(out, aws.ToString(v.Key)+" "+aws.ToString(v.VersionId))
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, aws.ToString(m.Key)+" "+aws.ToString(m.VersionId)+" (deletion marker)")
		}
	}
	slices.Sort(out)
	return out
}

// versions lists the version ids stored at key, sorted.
func (f *fixture) versions(key string) []string {
	f.T.Helper()
	list, err := f.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &f.Bucket, Prefix: &key})
	if err != nil {
		f.T.Fatal(err)
	}
	var ids []string
	for _, v := range list.Versions {
		if aws.ToString(v.Key) == key {
			ids = append(ids, aws.ToString(v.VersionId))
		}
	}
	for _, m := range list.DeleteMarkers {
		ids = append(ids, "deletion marker "+aws.ToString(m.VersionId))
	}
	slices.Sort(ids)
	return ids
}

// refusal is a request that must be refused and write nothing.
type refusal struct {
	name   string
	req    func() response
	status int
	code   string
}

// refuse runs each refusal and checks its answer and that report id's partition and the outbox are
// untouched.
func (f *fixture) refuse(t *testing.T, id string, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, objects := f.Partition(id), f.stored()
			resp := tc.req()
			if resp.Status != tc.status || resp.code() != tc.code {
				t.Errorf("%d %s, want %d %s", resp.Status, resp.Body, tc.status, tc.code)
			}
			f.With(t).SamePartition(id, before, tc.name)
			if after := f.stored(); !slices.Equal(after, objects) {
				t.Errorf("photos of the report changed from %v to %v", objects, after)
			}
			if ns := f.Drain(f.OutboxURL); len(ns) != 0 {
				t.Errorf("a refused request enqueued %d notifications", len(ns))
			}
		})
	}
}

func TestSignedCallbacks(t *testing.T) {
	f := newFixture(t)
	r := f.dispatched("damaged_road", outskirts) // municipal leads, traffic_police assists
	if r.Status != report.Dispatched || r.LeadDept != "municipal" {
		t.Fatalf("setup: report is %s, lead %s", r.Status, r.LeadDept)
	}
	accepted := event("report.accepted", r.ID, nil)
	pendingKey := f.uploadKey("0190a2b4-1c2d-7e3f-8a9b-000000000001.jpg")

	t.Run("refused while dispatched", func(t *testing.T) {
		f.refuse(t, r.ID, []refusal{
			{name: "resolve a dispatched report", status: 409, code: "invalid_transition", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: event("report.resolved", r.ID, map[string]any{"proofPhotoKeys": []string{pendingKey}})}))
			}},
			{name: "stale timestamp (6 min)", status: 401, code: "stale_timestamp", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: accepted, at: time.Now().Add(-6 * time.Minute)}))
			}},
			{name: "signed with another department's secret", status: 401, code: "invalid_signature", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: accepted, signAs: "police"}))
			}},
			{name: "body changed after signing", status: 401, code: "invalid_signature", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: event("report.accepted", r.ID, map[string]any{"note": "ok"}),
					mutate: func(b []byte) { b[bytes.Index(b, []byte(`"ok"`))+1] = 'K' }}))
			}},
			{name: "no signature", status: 401, code: "missing_signature_headers", req: func() response {
				return f.do("POST", "POST /v1/departments/{dept}/events", "/v1/departments/municipal/events", accepted, nil, nil)
			}},
			{name: "unknown department", status: 404, code: "department_not_found", req: func() response {
				return f.send(f.sign(signedRequest{dept: "water_works", signAs: "municipal", body: accepted}))
			}},
			{name: "the assisting department accepts", status: 403, code: "not_lead", req: func() response {
				return f.send(f.sign(signedRequest{dept: "traffic_police", body: accepted}))
			}},
			{name: "a department with no assignment", status: 404, code: "report_not_found", req: func() response {
				return f.send(f.sign(signedRequest{dept: "sanitation", body: accepted}))
			}},
		})
	})

	// Accepted; the same signed request again is acknowledged and not applied twice.
	acc := f.sign(signedRequest{dept: "municipal", body: accepted})
	f.Calls.Reset()
	resp := f.send(acc)
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"status":"applied"`) || !strings.Contains(string(resp.Body), `"reportStatus":"accepted"`) {
		t.Fatalf("accept: %d %s", resp.Status, resp.Body)
	}
	t.Logf("signed callback report.accepted (caches warm): %v", f.Calls.Snapshot())
	if db, q := f.Calls.Service("DynamoDB"), f.Calls.Service("SQS"); db != 2 || q != 0 {
		t.Errorf("accept made %d DynamoDB and %d SQS calls, want 2 (Query + TransactWriteItems) and 0", db, q)
	}
	got := f.get(r.ID)
	if got.Status != report.Accepted || len(got.Timeline) != 3 || got.Timeline[2].Actor != "municipal" {
		t.Fatalf("after accept: %s, timeline %+v", got.Status, got.Timeline)
	}
	if a, _ := got.Assignment("municipal"); a.Status != report.Accepted {
		t.Errorf("municipal's assignment is %s, want accepted", a.Status)
	}
	before := f.Partition(r.ID)
	f.Calls.Reset()
	resp = f.send(acc)
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"status":"duplicate"`) {
		t.Fatalf("replay: %d %s, want 200 duplicate", resp.Status, resp.Body)
	}
	t.Logf("replayed callback: %v", f.Calls.Snapshot())
	f.SamePartition(r.ID, before, "a replayed callback")
	if tl := f.get(r.ID).Timeline; len(tl) != 3 {
		t.Errorf("timeline has %d entries after the replay, want 3", len(tl))
	}

	policeKey := f.putUpload("dept-police", "0190a2b4-1c2d-7e3f-8a9b-000000000002.jpg", withEXIF(jpegBytes(t)))
	t.Run("refused while accepted", func(t *testing.T) {
		f.refuse(t, r.ID, []refusal{
			{name: "resolve without a proof photo", status: 400, code: "proof_photo_required", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: event("report.resolved", r.ID, nil)}))
			}},
			{name: "the assisting department resolves", status: 403, code: "not_lead", req: func() response {
				return f.send(f.sign(signedRequest{dept: "traffic_police", body: event("report.resolved", r.ID, map[string]any{"proofPhotoKeys": []string{pendingKey}})}))
			}},
			{name: "a proof photo that is not the department's upload", status: 400, code: "invalid_photo_key", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: event("report.resolved", r.ID, map[string]any{"proofPhotoKeys": []string{policeKey}})}))
			}},
			{name: "a proof photo never uploaded", status: 400, code: "photo_not_found", req: func() response {
				return f.send(f.sign(signedRequest{dept: "municipal", body: event("report.resolved", r.ID, map[string]any{"proofPhotoKeys": []string{pendingKey}})}))
			}},
		})
	})

	// The proof-of-fix photo: a signed upload request, then straight to S3 with the presigned POST.
	img := jpegBytes(t)
	up := f.send(f.sign(signedRequest{dept: "municipal", route: "uploads", body: fmt.Appendf(nil, `{"contentType":"image/jpeg","size":%d}`, len(img))}))
	if up.Status != 201 {
		t.Fatalf("upload request: %d %s", up.Status, up.Body)
	}
	var u report.Upload
	if err := json.Unmarshal(up.Body, &u); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Key, f.uploadKey("")) || u.Fields["x-amz-meta-owner"] != "dept-municipal" {
		t.Fatalf("upload key %s (fields %v) is not an upload of today's owned by dept-municipal", u.Key, u.Fields)
	}
	postForm(t, u, img)

	f.Calls.Reset()
	resp = f.send(f.sign(signedRequest{dept: "municipal", body: event("report.resolved", r.ID, map[string]any{"note": "已修复 fixed", "proofPhotoKeys": []string{u.Key}})}))
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"reportStatus":"resolved"`) {
		t.Fatalf("resolve: %d %s", resp.Status, resp.Body)
	}
	t.Logf("signed callback report.resolved with 1 proof photo: %v", f.Calls.Snapshot())
	got = f.get(r.ID)
	if got.Status != report.Resolved || got.ResolvedAt == nil || len(got.ProofPhotos) != 1 ||
		got.ProofPhotos[0].Key != u.Key || got.ProofPhotos[0].VersionID == "" {
		t.Fatalf("after resolve: %s resolvedAt %v proof %+v, want %s pinned to a version", got.Status, got.ResolvedAt, got.ProofPhotos, u.Key)
	}
	if v := f.versions(u.Key); !slices.Equal(v, []string{got.ProofPhotos[0].VersionID}) {
		t.Errorf("versions of the proof photo %v, want the upload alone (nothing to strip: not written again) %s", v, got.ProofPhotos[0].VersionID)
	}
	// The resolution rides on the report's gsi4 entry (RESOLVED#<day>, what the KPI roll-up reads in the
	// key), not on an item of its own.
	if res := f.Item("REPORT#"+r.ID, "RESOLUTION"); res != nil {
		t.Errorf("a RESOLUTION item was written: %v", res)
	}
	rep := f.Item("REPORT#"+r.ID, "REPORT")
	day := got.ResolvedAt.In(f.TZ).Format("2006-01-02")
	if pk, _ := rep["gsi4pk"].(*types.AttributeValueMemberS); pk == nil || pk.Value != "RESOLVED#"+day {
		t.Errorf("report gsi4pk %v, want RESOLVED#%s", rep["gsi4pk"], day)
	}
	if sk, _ := rep["gsi4sk"].(*types.AttributeValueMemberS); sk == nil || !strings.HasPrefix(sk.Value, got.ResolvedAt.UTC().Format("2006-01-02T15:04:05.000Z")+"#") ||
		!strings.HasSuffix(sk.Value, "#municipal#"+got.Category) {
		t.Errorf("report gsi4sk %v, want the resolution's time, its deadline, municipal and the category", rep["gsi4sk"])
	}
}

// postForm uploads data with a presigned POST, as a department system would.
func postForm(t testing.TB, u report.Upload, data []byte) {
	t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range u.Fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "proof.jpg")
	_, _ = fw.Write(data)
	_ = mw.Close()
	resp, err := http.Post(u.URL, mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("S3 POST upload: %d %s", resp.StatusCode, b)
	}
}

func TestNotOursThenReassignedByTheCommandCenter(t *testing.T) {
	f := newFixture(t)
	r := f.dispatched("damaged_road", outskirts)

	f.Calls.Reset()
	resp := f.send(f.sign(signedRequest{dept: "municipal", body: event("report.rejected", r.ID, map[string]any{"reason": "not_ours", "note": "归交警 traffic's"})}))
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"reportStatus":"needs_triage"`) {
		t.Fatalf("not ours: %d %s", resp.Status, resp.Body)
	}
	t.Logf("signed callback report.rejected not_ours (cold caches): %v", f.Calls.Snapshot())
	got := f.get(r.ID)
	if got.Status != report.NeedsTriage || got.LeadDept != dispatch.CommandCenter || got.RejectReason != "not_ours" {
		t.Fatalf("after not_ours: %s lead %s reason %s", got.Status, got.LeadDept, got.RejectReason)
	}
	if cc, ok := got.Assignment(dispatch.CommandCenter); !ok || cc.Role != report.Lead || cc.Status != report.NeedsTriage {
		t.Errorf("command center assignment %+v (open %v), want the open lead", cc, ok)
	}
	for _, d := range []string{"municipal", "traffic_police"} {
		if _, open := got.Assignment(d); open {
			t.Errorf("%s still has an open assignment", d)
		}
	}
	ns := f.Drain(f.OutboxURL)
	if len(ns) != 1 || ns[0].Dept != dispatch.CommandCenter || !strings.HasPrefix(ns[0].ID, "msg_"+r.ID+"_command_center_dispatched_") {
		t.Errorf("notifications %+v, want one to the command center", ns)
	}

	transition := func(claims map[string]string, body string) response {
		return f.do("POST", "POST /v1/dept/reports/{id}/transitions", "/v1/dept/reports/"+r.ID+"/transitions", []byte(body), nil, claims)
	}
	t.Run("refused reassignments", func(t *testing.T) {
		f.refuse(t, r.ID, []refusal{
			{name: "a citizen", status: 403, code: "forbidden", req: func() response {
				return transition(map[string]string{"sub": "citizen1", "cognito:groups": "[citizen]"}, `{"to":"dispatched","toDept":"municipal"}`)
			}},
			{name: "staff without a department", status: 403, code: "forbidden", req: func() response {
				return transition(map[string]string{"sub": "s1", "cognito:groups": "[staff]"}, `{"to":"dispatched","toDept":"municipal"}`)
			}},
			{name: "the department that gave it back", status: 404, code: "report_not_found", req: func() response {
				return transition(staff("s-muni", "municipal"), `{"to":"dispatched","toDept":"municipal"}`)
			}},
			{name: "to the command center itself", status: 400, code: "invalid_reassign_target", req: func() response {
				return transition(staff("s-cc", dispatch.CommandCenter), `{"to":"dispatched","toDept":"command_center"}`)
			}},
			{name: "to an unknown department", status: 400, code: "invalid_reassign_target", req: func() response {
				return transition(staff("s-cc", dispatch.CommandCenter), `{"to":"dispatched","toDept":"water_works"}`)
			}},
		})
	})

	f.Calls.Reset()
	resp = transition(staff("s-cc", dispatch.CommandCenter), `{"to":"dispatched","toDept":"municipal"}`)
	if resp.Status != 200 {
		t.Fatalf("reassign: %d %s", resp.Status, resp.Body)
	}
	t.Logf("staff reassign: %v", f.Calls.Snapshot())
	got = f.get(r.ID)
	if got.Status != report.Dispatched || got.LeadDept != "municipal" {
		t.Fatalf("after reassign: %s lead %s", got.Status, got.LeadDept)
	}
	if a, ok := got.Assignment("municipal"); !ok || a.Role != report.Lead || a.Status != report.Dispatched {
		t.Errorf("municipal assignment %+v (open %v)", a, ok)
	}
	if _, open := got.Assignment(dispatch.CommandCenter); open {
		t.Errorf("the command center still holds the report")
	}
	if ns := f.Drain(f.OutboxURL); len(ns) != 1 || ns[0].Dept != "municipal" || ns[0].Type != "report.dispatched" {
		t.Errorf("notifications %+v, want one report.dispatched to municipal", ns)
	}

	// The staff queues: only municipal has it among its dispatched reports.
	for _, tc := range []struct {
		dept, status string
		want         bool
	}{
		{"municipal", "dispatched", true},
		{"municipal", "needs_triage", false},
		{"traffic_police", "dispatched", false},
		{dispatch.CommandCenter, "dispatched", false},
		{dispatch.CommandCenter, "needs_triage", false},
		{"sanitation", "dispatched", false},
	} {
		resp := f.do("GET", "GET /v1/dept/reports", "/v1/dept/reports?status="+tc.status, nil, nil, staff("s-"+tc.dept, tc.dept))
		if resp.Status != 200 {
			t.Fatalf("queue of %s: %d %s", tc.dept, resp.Status, resp.Body)
		}
		var page struct {
			Items []struct {
				ReportID string `json:"reportId"`
				Role     string `json:"role"`
				Status   string `json:"status"`
			} `json:"items"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			t.Fatal(err)
		}
		has := slices.ContainsFunc(page.Items, func(i struct {
			ReportID string `json:"reportId"`
			Role     string `json:"role"`
			Status   string `json:"status"`
		}) bool {
			return i.ReportID == r.ID && i.Status == tc.status
		})
		if has != tc.want {
			t.Errorf("%s's %s queue lists the report: %v, want %v (%s)", tc.dept, tc.status, has, tc.want, resp.Body)
		}
	}
}

// TestConcurrentCopiesOfOneCallback sends the same signed event several times at once, as a department
// system retrying a slow request does: exactly one applies, the others are acknowledged as duplicates, and
// what the one wrote stays intact.
func TestConcurrentCopiesOfOneCallback(t *testing.T) {
	f := newFixture(t)
	img := jpegBytes(t)
	var proofKey string // the resolution's upload, set by its prepare
	cases := []struct {
		name, dept, typ string
		// prepare brings the report to where the event applies and returns the event's extra fields.
		prepare  func(t *testing.T, r report.Report) map[string]any
		timeline int
	}{
		{name: "a progress note (status unchanged)", dept: "traffic_police", typ: "report.progress", timeline: 3,
			prepare: func(*testing.T, report.Report) map[string]any {
				return map[string]any{"note": "现场已设警示 cones placed"}
			}},
		{name: "an acceptance (status changes)", dept: "municipal", typ: "report.accepted", timeline: 3,
			prepare: func(*testing.T, report.Report) map[string]any { return nil }},
		{name: "a resolution with a proof photo to strip", dept: "municipal", typ: "report.resolved", timeline: 4,
			prepare: func(t *testing.T, r report.Report) map[string]any {
				if resp := f.send(f.sign(signedRequest{dept: "municipal", body: event("report.accepted", r.ID, nil)})); resp.Status != 200 {
					t.Fatalf("accept: %d %s", resp.Status, resp.Body)
				}
				exif := withEXIF(img)
				up := f.send(f.sign(signedRequest{dept: "municipal", route: "uploads", body: fmt.Appendf(nil, `{"contentType":"image/jpeg","size":%d}`, len(exif))}))
				var u report.Upload
				if err := json.Unmarshal(up.Body, &u); err != nil || up.Status != 201 {
					t.Fatalf("upload request: %d %s", up.Status, up.Body)
				}
				postForm(t, u, exif)
				proofKey = u.Key
				return map[string]any{"proofPhotoKeys": []string{u.Key}}
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.dispatched("damaged_road", report.Location{Lat: outskirts.Lat + 0.01*float64(i+1), Lng: outskirts.Lng})
			proofKey = ""
			req := f.sign(signedRequest{dept: tc.dept, body: event(tc.typ, r.ID, tc.prepare(t, r))})
			var uploaded []string
			if proofKey != "" {
				uploaded = f.versions(proofKey)
			}
			const copies = 6
			resps := make([]response, copies)
			errs := make([]error, copies)
			var wg sync.WaitGroup
			for c := range copies {
				wg.Go(func() {
					resps[c], errs[c] = f.call("POST", "POST /v1/departments/{dept}/events", "/v1/departments/"+req.dept+"/events", req.body, req.header, nil)
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			applied := 0
			for _, resp := range resps {
				switch {
				case resp.Status == 200 && strings.Contains(string(resp.Body), `"status":"applied"`):
					applied++
				case resp.Status == 200 && strings.Contains(string(resp.Body), `"status":"duplicate"`):
				default:
					t.Errorf("a copy got %d %s, want 200 applied or duplicate", resp.Status, resp.Body)
				}
			}
			if applied != 1 {
				t.Errorf("%d copies applied, want 1", applied)
			}
			got := f.get(r.ID)
			if len(got.Timeline) != tc.timeline {
				t.Errorf("timeline has %d entries, want %d", len(got.Timeline), tc.timeline)
			}
			// Each copy wrote its own stripped version; the losers' are deleted without touching the
			// winner's, and the upload is left as it was (the sweeper's).
			if proofKey == "" {
				return
			}
			if len(got.ProofPhotos) != 1 || got.ProofPhotos[0].Key != proofKey || slices.Contains(uploaded, got.ProofPhotos[0].VersionID) {
				t.Fatalf("proof photos %+v, want %s at a stripped version (the upload: %v)", got.ProofPhotos, proofKey, uploaded)
			}
			want := append(slices.Clone(uploaded), got.ProofPhotos[0].VersionID)
			slices.Sort(want)
			if stored := f.versions(proofKey); !slices.Equal(stored, want) {
				t.Errorf("versions of %s: %v, want the upload and the report's stripped version %v", proofKey, stored, want)
			}
		})
	}
}
