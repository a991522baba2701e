package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

type fullReport struct {
	ID          string
	Status      string
	LeadDept    string
	ProofPhotos []struct{ Key, VersionID string }
	Timeline    []struct{ Status, Actor, Note string }
	Assignments []struct{ Dept, Role, Status string }
}

// fileReport uploads a photo and files a report; it returns the report id.
func fileReport(t *testing.T, c *client, category, description string, lat, lng float64) string {
	t.Helper()
	key := c.uploadPhoto("image/jpeg", photoJPEG(t))
	var r fullReport
	body := map[string]any{"category": category, "description": description,
		"location": map[string]float64{"lat": lat, "lng": lng}, "photoKeys": []string{key}}
	if st := c.call("POST", "/v1/reports", body, map[string]string{"Idempotency-Key": fmt.Sprint("e2e-", time.Now().UnixNano())}, &r); st != 201 {
		t.Fatalf("file report: %d", st)
	}
	return r.ID
}

// waitFor polls the report until cond holds (the stream pump runs asynchronously).
func waitFor(t *testing.T, c *client, id string, cond func(fullReport) bool) fullReport {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var r fullReport
		c.call("GET", "/v1/reports/"+id, nil, nil, &r)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("report %s never reached the expected state; last: %+v", id, r)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

type sinkDelivery struct {
	Headers map[string]string
	Body    string
}

func sinkFor(t *testing.T, dept, webhookID string) (sinkDelivery, bool) {
	t.Helper()
	resp, err := http.Get(api + "/_local/sink/" + dept)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Items []sinkDelivery }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Items {
		if d.Headers["webhook-id"] == webhookID {
			return d, true
		}
	}
	return sinkDelivery{}, false
}

func secretOf(t *testing.T, dept string) string {
	t.Helper()
	depts, err := seed.Departments()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range depts {
		if d.ID == dept {
			return d.LocalSecret
		}
	}
	t.Fatalf("no seeded department %s", dept)
	return ""
}

// signed posts a Standard Webhooks–signed body as department dept's system would.
func signed(t *testing.T, dept, path, msgID string, body any, at time.Time) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	h, err := webhook.Sign(secretOf(t, dept), msgID, at, raw)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", api+path, bytes.NewReader(raw))
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// TestDispatchWebhookAndSignedCallbacks: a report is dispatched, the department's sink receives a valid
// signed webhook, signed callbacks accept and resolve it (with a proof photo uploaded by the department
// system), and the citizen sees it resolved with the timeline.
func TestDispatchWebhookAndSignedCallbacks(t *testing.T) {
	citizen := login(t, "e2e-dispatch-citizen", []string{"citizen"}, "")
	id := fileReport(t, citizen, "rubbish", "垃圾桶满了 bins overflowing", 23.3700, 103.3750) // old town
	r := waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
	if r.LeadDept != "sanitation" || len(r.Assignments) != 2 {
		t.Errorf("dispatched to %s with %+v, want sanitation lead + city_mgmt assist", r.LeadDept, r.Assignments)
	}

	msgID := "msg_" + id + "_sanitation_dispatched"
	var got sinkDelivery
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(150 * time.Millisecond) {
		if d, ok := sinkFor(t, "sanitation", msgID); ok {
			got = d
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sanitation sink never received %s", msgID)
		}
	}
	h := http.Header{}
	for k, v := range got.Headers {
		h.Set(k, v)
	}
	if err := webhook.Verify(secretOf(t, "sanitation"), []byte(got.Body), h, time.Now()); err != nil {
		t.Errorf("webhook signature does not verify: %v", err)
	}
	var payload struct {
		Type string
		Data struct {
			Role   string
			Report struct{ ID, Reporter string }
		}
	}
	if err := json.Unmarshal([]byte(got.Body), &payload); err != nil {
		t.Fatal(err)
	}
	if payload.Type != "report.dispatched" || payload.Data.Role != "lead" || payload.Data.Report.ID != id || payload.Data.Report.Reporter != "" {
		t.Errorf("payload = %+v (sanitation may not see the reporter)", payload)
	}

	now := time.Now()
	if st, out := signed(t, "sanitation", "/v1/departments/sanitation/events", "cb-accept-"+id, map[string]any{"type": "report.accepted", "reportId": id, "note": "crew on the way"}, now); st != 200 {
		t.Fatalf("accept = %d %v", st, out)
	}
	if st, out := signed(t, "sanitation", "/v1/departments/sanitation/events", "cb-accept-"+id, map[string]any{"type": "report.accepted", "reportId": id, "note": "crew on the way"}, now); st != 200 || out["status"] != "duplicate" {
		t.Errorf("replay = %d %v, want 200 duplicate", st, out)
	}
	if st, _ := signed(t, "sanitation", "/v1/departments/sanitation/events", "cb-stale-"+id, map[string]any{"type": "report.progress", "reportId": id}, now.Add(-6*time.Minute)); st != 401 {
		t.Errorf("stale = %d, want 401", st)
	}
	if st, _ := signed(t, "city_mgmt", "/v1/departments/sanitation/events", "cb-forged-"+id, map[string]any{"type": "report.resolved", "reportId": id}, now); st != 401 {
		t.Errorf("signed with another department's secret = %d, want 401", st)
	}

	// The department system uploads its proof-of-fix photo, then resolves.
	var up upload
	st, out := signed(t, "sanitation", "/v1/departments/sanitation/uploads", "cb-upload-"+id, map[string]any{"contentType": "image/jpeg", "size": len(photoJPEG(t))}, now)
	if st != 201 {
		t.Fatalf("department upload = %d %v", st, out)
	}
	b, _ := json.Marshal(out)
	_ = json.Unmarshal(b, &up)
	postForm(t, up, photoJPEG(t))
	if st, out := signed(t, "sanitation", "/v1/departments/sanitation/events", "cb-resolve-"+id, map[string]any{"type": "report.resolved", "reportId": id, "note": "cleared", "proofPhotoKeys": []string{up.Key}}, now); st != 200 {
		t.Fatalf("resolve = %d %v", st, out)
	}

	final := waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "resolved" })
	var statuses []string
	for _, e := range final.Timeline {
		statuses = append(statuses, e.Status)
	}
	if s := strings.Join(statuses, ","); s != "submitted,dispatched,accepted,resolved" {
		t.Errorf("timeline = %s", s)
	}
	// The proof photo stays where it was uploaded, pinned to the version that was checked.
	if len(final.ProofPhotos) != 1 || final.ProofPhotos[0].Key != up.Key || final.ProofPhotos[0].VersionID == "" {
		t.Errorf("proof photos = %+v, want %s at a version", final.ProofPhotos, up.Key)
	}
}

// TestStaffAPIAndCommandCenter: a report no rule matches goes to the command center, whose staff reassign
// it; the new lead's staff work it from their queue.
func TestStaffAPIAndCommandCenter(t *testing.T) {
	citizen := login(t, "e2e-staff-citizen", []string{"citizen"}, "")
	id := fileReport(t, citizen, "other", "奇怪的东西 something odd", 23.3900, 103.4000)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "needs_triage" })

	cc := login(t, "e2e-cc", []string{"staff"}, "command_center")
	waitQueued(t, cc, id) // the report shows needs_triage at dispatch's commit, the queue entry follows
	var q struct{ Items []struct{ ReportID string } }
	if st := cc.call("GET", "/v1/dept/reports?status=needs_triage", nil, nil, &q); st != 200 || !containsReport(q.Items, id) {
		t.Fatalf("command center queue = %d %+v", st, q)
	}
	municipal := login(t, "e2e-municipal", []string{"staff"}, "municipal")
	if st := municipal.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "accepted"}, nil, nil); st != 404 {
		t.Errorf("municipal acting before assignment = %d, want 404", st)
	}
	if st := cc.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "dispatched", "toDept": "municipal", "note": "pavement issue"}, nil, nil); st != 200 {
		t.Fatalf("reassign = %d", st)
	}
	if st := municipal.call("GET", "/v1/dept/reports?status=dispatched", nil, nil, &q); st != 200 || !containsReport(q.Items, id) {
		t.Fatalf("municipal queue = %d %+v", st, q)
	}
	if st := municipal.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "accepted"}, nil, nil); st != 200 {
		t.Fatalf("accept = %d", st)
	}
	var e struct{ Error struct{ Code string } }
	if st := municipal.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "resolved"}, nil, &e); st != 400 || e.Error.Code != "proof_photo_required" {
		t.Errorf("resolve without proof = %d %s", st, e.Error.Code)
	}
	proof := municipal.uploadPhoto("image/jpeg", photoJPEG(t))
	if st := municipal.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "resolved", "note": "fixed", "proofPhotoKeys": []string{proof}}, nil, nil); st != 200 {
		t.Fatalf("resolve = %d", st)
	}
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "resolved" })
	if st := municipal.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "accepted"}, nil, &e); st != 409 || e.Error.Code != "invalid_transition" {
		t.Errorf("accept a resolved report = %d %s", st, e.Error.Code)
	}
}

func containsReport(items []struct{ ReportID string }, id string) bool {
	for _, it := range items {
		if it.ReportID == id {
			return true
		}
	}
	return false
}

// postForm sends a presigned POST upload.
func postForm(t *testing.T, up upload, data []byte) {
	t.Helper()
	var form bytes.Buffer
	mw := newMultipart(&form, up.Fields, data)
	resp, err := http.Post(up.URL, mw, &form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("upload to S3: %d", resp.StatusCode)
	}
}
