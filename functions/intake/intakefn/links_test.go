package intakefn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/shared/report"
)

// TestReportReadersGetPhotoLinks: GET /v1/reports/{id} gives its reporter, staff and admins a link to each
// photo, presigned in the function (no S3 call), of the version the report recorded: a later upload to the
// same key is not what the link reads. A private report is linked too (the public map never shows it).
func TestReportReadersGetPhotoLinks(t *testing.T) {
	h := newHarness(t)
	photo := jpegBytes(t, true)
	key := h.presign(alice, "image/jpeg", photo)
	var body map[string]any
	_ = json.Unmarshal(reportBody("rubbish", key), &body)
	body["public"] = false
	b, _ := json.Marshal(body)
	r := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", b, map[string]string{"Idempotency-Key": "links-1"})
	if r.Status != 201 {
		t.Fatalf("create = %d %s", r.Status, r.Body)
	}
	var rep report.Report
	r.json(t, &rep)
	obj, err := h.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &h.bucket, Key: &key, VersionId: &rep.Photos[0].VersionID})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	// Another upload to the key: the report keeps the version it checked, and so do its links.
	again, err := h.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &h.bucket, Key: &key, Body: bytes.NewReader([]byte("another upload, not the checked photo")),
		Metadata: map[string]string{"owner": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	h.upload(key, aws.ToString(again.VersionId))

	for _, who := range []caller{alice, staff, admin} {
		h.calls.Reset()
		g := h.do(who, "GET", "GET /v1/reports/{id}", "/v1/reports/"+rep.ID, nil, nil)
		if g.Status != 200 {
			t.Fatalf("%s: %d %s", who.sub, g.Status, g.Body)
		}
		if n := h.calls.Service("S3"); n != 0 {
			t.Errorf("%s: %d S3 calls, want 0 (presigning is local)", who.sub, n)
		}
		t.Logf("%s: calls %v", who.sub, h.calls.Snapshot())
		var v report.Viewed
		g.json(t, &v)
		if len(v.PhotoLinks) != 1 || v.PhotoLinks[0].ContentType != "image/jpeg" || v.ProofPhotoLinks != nil {
			t.Fatalf("%s: links %+v / %+v", who.sub, v.PhotoLinks, v.ProofPhotoLinks)
		}
		resp, err := http.Get(v.PhotoLinks[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, stored) {
			t.Errorf("%s: the link read %d, %d bytes; want the recorded version's %d bytes", who.sub, resp.StatusCode, len(got), len(stored))
		}
	}
	if g := h.do(bob, "GET", "GET /v1/reports/{id}", "/v1/reports/"+rep.ID, nil, nil); g.Status != 404 || bytes.Contains(g.Body, []byte("http")) {
		t.Errorf("another citizen: %d %s", g.Status, g.Body)
	}
}
