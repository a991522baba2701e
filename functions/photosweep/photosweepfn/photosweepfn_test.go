package photosweepfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/departments/departmentsfn"
	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/functions/photosweep/photosweepfn"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
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

// photo is a small JPEG; with exif it carries a location, which checking it strips (a new version).
func photo(t *testing.T, exif bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(3, 3, color.RGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	if !exif {
		return buf.Bytes()
	}
	payload := []byte("Exif\x00\x00GPSLatitude 23.37 GPSLongitude 103.38")
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(out, buf.Bytes()[2:]...)
}

// postForm uploads data with a presigned POST, as the app does.
func postForm(t *testing.T, u report.Upload, data []byte) {
	t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range u.Fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
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

// TestPhotoSweep runs the daily photo sweep over photos uploaded, filed and resolved through the real
// intake, dispatch and departments services on a day D and the next: what a report or a resolution points
// to is kept (at the version it recorded), everything else under the swept days is deleted — abandoned
// uploads, stripped originals, a re-upload after the check — and days not due, or before the lookback,
// are not touched.
func TestPhotoSweep(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	ctx := context.Background()
	var ahead atomic.Int64 // the intake and departments functions' clock, ahead of the real one
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	intakeBase := e.BaseOn(e.AWS, "IntakeFunction", nil, nil)
	intakeBase.Now = clock
	reports, err := photos.Reports(intakeBase)
	if err != nil {
		t.Fatal(err)
	}
	deptBase := e.BaseOn(e.AWS, "DepartmentsFunction", nil, nil)
	deptBase.Now = clock
	depts, err := departmentsfn.New(deptBase)
	if err != nil {
		t.Fatal(err)
	}
	dispatch, err := dispatchfn.New(e.BaseOn(e.AWS, "DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	const day = 24 * time.Hour
	upload := func(at time.Duration, owner string, data []byte) string {
		t.Helper()
		ahead.Store(int64(at))
		up, err := reports.CreateUploadFor(ctx, owner, "image/jpeg", int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		postForm(t, up, data)
		return up.Key
	}
	citizen := auth.Principal{Sub: "citizen7", Groups: []auth.Role{auth.Citizen}}
	n := 0
	file := func(at time.Duration, keys ...string) report.Report {
		t.Helper()
		ahead.Store(int64(at))
		n++
		lat, lng := 23.3720+0.01*float64(n), 103.3760 // ~1 km apart: no report is another's duplicate
		r, err := reports.Create(ctx, citizen, fmt.Sprint("sweep-", n), fmt.Appendf(nil, "body %d", n), report.NewReport{
			Category: "street_light", Description: fmt.Sprint("路灯 ", n), Location: &report.LatLng{Lat: &lat, Lng: &lng}, PhotoKeys: keys,
		})
		if err != nil {
			t.Fatalf("file report %d: %v", n, err)
		}
		return r
	}
	staffDo := func(at time.Duration, id, body string) {
		t.Helper()
		ahead.Store(int64(at))
		req := httptest.NewRequest("POST", "/v1/dept/reports/"+id+"/transitions", strings.NewReader(body))
		ev := gateway.Event(req, []byte(body), "POST /v1/dept/reports/{id}/transitions",
			map[string]string{"sub": "staff-m", "cognito:groups": "[staff]", "custom:dept": "municipal"})
		resp, err := depts.Handle(ctx, ev)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("staff %s on %s: %d %s %v", body, id, resp.StatusCode, resp.Body, err)
		}
	}

	// Day D (today) and around it.
	clean1 := upload(0, "citizen7", photo(t, false))
	exif2 := upload(0, "citizen7", photo(t, true))
	abandoned := upload(0, "citizen7", photo(t, true))
	clean4 := upload(0, "citizen7", photo(t, false))
	proof := upload(0, "staff-m", photo(t, true))
	dayBefore := upload(-day, "citizen7", photo(t, true))    // D-1: due, nothing attached
	longBefore := upload(-3*day, "citizen7", photo(t, true)) // D-3: before the lookback
	dayAfter := upload(day, "citizen7", photo(t, false))     // D+1: not yet due
	outside := upload(-3*day, "citizen7", photo(t, true))    // D-3, unattached: before the lookback

	r1 := file(0, clean1)
	// The citizen posts to r1's key again after the check.
	if _, err := e.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.Bucket, Key: &clean1, Body: bytes.NewReader(photo(t, true)), ContentType: aws.String("image/jpeg")}); err != nil {
		t.Fatal(err)
	}
	r2 := file(day, exif2) // filed the next day with a photo of D
	r3 := file(0, clean4)
	if resp, err := dispatch.Handle(ctx, testenv.Event(e.ReportRecord(r3.ID))); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("dispatch: %v %v", err, resp.BatchItemFailures)
	}
	staffDo(day, r3.ID, `{"to":"accepted"}`)
	staffDo(day, r3.ID, fmt.Sprintf(`{"to":"resolved","note":"修好了","proofPhotoKeys":[%q]}`, proof)) // resolved on D+1
	got3, err := e.Store.GetReport(ctx, r3.ID)
	if err != nil || got3.Status != report.Resolved || len(got3.ProofPhotos) != 1 {
		t.Fatalf("r3: %+v, %v; want resolved with a proof photo", got3, err)
	}
	// r4 was filed three days before D and is resolved on D with a proof photo of D: only its resolution
	// ties it to the swept days.
	old := file(-3*day, longBefore)
	if resp, err := dispatch.Handle(ctx, testenv.Event(e.ReportRecord(old.ID))); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("dispatch: %v %v", err, resp.BatchItemFailures)
	}
	lateProof := upload(0, "staff-m", photo(t, false))
	staffDo(0, old.ID, `{"to":"accepted"}`)
	staffDo(0, old.ID, fmt.Sprintf(`{"to":"resolved","note":"修好了","proofPhotoKeys":[%q]}`, lateProof))
	got4, err := e.Store.GetReport(ctx, old.ID)
	if err != nil || got4.Status != report.Resolved || len(got4.ProofPhotos) != 1 {
		t.Fatalf("r4: %+v, %v; want resolved with a proof photo", got4, err)
	}
	keep := []report.Photo{r1.Photos[0], r2.Photos[0], r3.Photos[0], got3.ProofPhotos[0], got4.ProofPhotos[0]}

	// The sweep at 03:00 on D+2.
	d := time.Now().In(e.TZ)
	at := time.Date(d.Year(), d.Month(), d.Day()+2, 3, 0, 0, 0, e.TZ)
	var log bytes.Buffer
	base := e.Base("PhotoSweepFunction", nil, slog.New(slog.NewJSONHandler(&log, nil)))
	base.Now = func() time.Time { return at }
	fn, err := photosweepfn.New(base)
	if err != nil {
		t.Fatal(err)
	}
	e.Calls.Reset()
	if err := fn.Handle(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	calls := e.Calls.Snapshot()
	if n := strings.Count(log.String(), `"msg":"photos swept"`); n != 3 {
		t.Errorf("%d days logged as swept, want 3: %s", n, log.String())
	}
	t.Logf("photo sweep of 3 days (%d photos attached): %v", len(keep), calls)

	versions := versionsOf(t, e)
	for _, p := range keep {
		if got := versions[p.Key]; !slices.Equal(got, []string{p.VersionID}) {
			t.Errorf("%s: versions %v after the sweep, want only the one a report records, %s", p.Key, got, p.VersionID)
		}
	}
	for _, k := range []string{abandoned, dayBefore} {
		if got := versions[k]; len(got) != 0 {
			t.Errorf("unattached %s: versions %v after the sweep, want none", k, got)
		}
	}
	for _, k := range []string{dayAfter, outside} {
		if got := versions[k]; len(got) != 1 {
			t.Errorf("%s (a day the sweep does not cover): versions %v, want the upload", k, got)
		}
	}
	if calls["S3.ListObjectVersions"] != 3 || calls["S3.DeleteObjects"] != 2 || calls["S3.PutObject"]+calls["S3.CopyObject"]+calls["S3.GetObject"] != 0 {
		t.Errorf("calls %v, want 3 listings (one a day), 2 deletions (the days with something to delete) and nothing else of S3", calls)
	}

	// Again: nothing more to delete.
	e.Calls.Reset()
	if err := fn.Handle(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if again := e.Calls.Snapshot(); again["S3.DeleteObjects"] != 0 {
		t.Errorf("a second sweep deleted again: %v", again)
	}
	if v := versionsOf(t, e); len(v) != len(versions) {
		t.Errorf("a second sweep changed the bucket: %v, was %v", v, versions)
	}
}

// versionsOf lists every version in the bucket, by key.
func versionsOf(t *testing.T, e *testenv.Env) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	pages := s3.NewListObjectVersionsPaginator(e.S3, &s3.ListObjectVersionsInput{Bucket: &e.Bucket})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			out[aws.ToString(v.Key)] = append(out[aws.ToString(v.Key)], aws.ToString(v.VersionId))
		}
		for _, m := range page.DeleteMarkers {
			out[aws.ToString(m.Key)] = append(out[aws.ToString(m.Key)], "deletion marker "+aws.ToString(m.VersionId))
		}
	}
	return out
}
