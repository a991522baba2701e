package departmentsfn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/departments/departmentsfn"
	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Casework exactly once under faults (issue 10): department systems (signed callbacks) and staff (the
// staff API) move reports through accepted, in_progress, a progress note and resolved with a proof photo,
// while infra/faults fails two DynamoDB calls in ten — transaction conflicts, throttling, answers lost
// after the write was applied (the SDK re-sends) and calls that take until the invocation's deadline. A
// department system sends a signed event again (same webhook-id) after a 5xx and now and then after a
// success; staff, whose requests carry no key, send again after a 5xx only once they have read back that
// the change did not happen. Some requests are refused (the assisting department resolves). The run is
// sequential, so the seed (logged; CIVICSNAP_FAULT_SEED) replays it.
//
// Then: every change is in each timeline exactly once, every report ends resolved with one resolution,
// its proof photos exist, refused requests wrote nothing, and faults did happen.

const invocationTimeout = 800 * time.Millisecond

// callBy is fixture.call with the deadline Lambda gives an invocation.
func (f *fixture) callBy(method, routeKey, path string, body []byte, h http.Header, claims map[string]string) response {
	f.T.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), invocationTimeout)
	defer cancel()
	resp, err := f.fn.Handle(ctx, gateway.Event(req, body, routeKey, claims))
	if err != nil {
		f.T.Fatalf("%s %s: handler error %v", method, path, err)
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	return response{Status: resp.StatusCode, Body: b}
}

func TestCaseworkExactlyOnceUnderFaults(t *testing.T) {
	inj := faults.ForTest(t, 2)
	inj.SetEnabled(false) // setup: the seed and the reports
	e := moto.New(t, testenv.Options{WrapHTTP: inj.Wrap})
	fn, err := departmentsfn.New(e.Base("DepartmentsFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dispatchfn.New(e.BaseOn(e.AWS, "DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{Env: e, fn: fn, dispatch: d}
	rng := rand.New(rand.NewPCG(inj.Seed(), 4))
	photo := jpegBytes(t)
	var reports []report.Report
	for i := range 10 {
		// 220 m apart, so none is a duplicate of another; municipal leads, traffic_police assists.
		r := f.dispatched("damaged_road", report.Location{Lat: outskirts.Lat + 0.002*float64(i), Lng: outskirts.Lng})
		if r.Status != report.Dispatched || r.LeadDept != "municipal" {
			t.Fatalf("setup: report %d is %s, lead %s", i, r.Status, r.LeadDept)
		}
		reports = append(reports, r)
	}
	inj.SetEnabled(true)

	sends := 0
	// signed sends a department system's event until it is acknowledged, with the same webhook-id and
	// signature each time, and once more now and then (the system lost the answer).
	signed := func(dept string, body []byte) {
		s := f.sign(signedRequest{dept: dept, body: body})
		again := rng.IntN(4) == 0
		for try := 0; try < 20; try++ {
			sends++
			r := f.callBy("POST", "POST /v1/departments/{dept}/events", "/v1/departments/"+dept+"/events", s.body, s.header, nil)
			switch {
			case r.Status == 200:
				if again {
					again = false
					continue
				}
				return
			case r.Status == 500:
				t.Errorf("%s %s: %d %s", dept, body, r.Status, r.Body)
			case r.Status < 500:
				t.Errorf("%s %s: %d %s", dept, body, r.Status, r.Body)
				return
			}
		}
		t.Errorf("%s %s: no answer after 20 sends", dept, body)
	}
	// staff sends a transition until answered, reading back after a 5xx whether it happened.
	staffTo := func(id string, to report.Status) {
		body, _ := json.Marshal(map[string]string{"to": string(to), "note": "现场处理 on site"})
		for try := 0; try < 20; try++ {
			sends++
			r := f.callBy("POST", "POST /v1/dept/reports/{id}/transitions", "/v1/dept/reports/"+id+"/transitions", body, nil, staff("s-muni", "municipal"))
			switch {
			case r.Status == 200:
				return
			case r.Status == 500:
				t.Errorf("staff %s %s: %d %s", id, to, r.Status, r.Body)
			case r.Status < 500:
				t.Errorf("staff %s %s: %d %s", id, to, r.Status, r.Body)
				return
			}
			if f.get(id).Status == to {
				return // the lost attempt took effect
			}
		}
		t.Errorf("staff %s %s: no answer after 20 sends", id, to)
	}

	for i, r := range reports {
		signed("municipal", event("report.accepted", r.ID, nil))
		staffTo(r.ID, report.InProgress)
		signed("traffic_police", event("report.progress", r.ID, map[string]any{"note": fmt.Sprintf("交通疏导 %d", i)}))
		key := f.putUpload("dept-municipal", fmt.Sprintf("0190a2b4-1c2d-7e3f-8a9b-%012d.jpg", i), photo)
		resolve := event("report.resolved", r.ID, map[string]any{"note": "已修复 fixed", "proofPhotoKeys": []string{key}})
		// Refused: the assisting department cannot resolve. It writes nothing, faults or not.
		before, versions := f.Partition(r.ID), f.versions(key)
		for try := 0; ; try++ {
			sends++
			s := f.sign(signedRequest{dept: "traffic_police", body: resolve})
			resp := f.callBy("POST", "POST /v1/departments/{dept}/events", "/v1/departments/traffic_police/events", s.body, s.header, nil)
			if resp.Status < 500 || try == 20 {
				if resp.Status != 403 || resp.code() != "not_lead" {
					t.Errorf("assist resolves %s: %d %s, want 403 not_lead", r.ID, resp.Status, resp.Body)
				}
				break
			}
		}
		f.SamePartition(r.ID, before, "a refused resolution")
		if after := f.versions(key); !slices.Equal(after, versions) {
			t.Errorf("a refused resolution changed the versions of %s from %v to %v", key, versions, after)
		}
		signed("municipal", resolve)
	}

	for _, r := range reports {
		got := f.get(r.ID)
		if got.Status != report.Resolved {
			t.Errorf("%s is %s, want resolved", r.ID, got.Status)
		}
		counts := map[string]int{}
		for _, e := range got.Timeline {
			counts[string(e.Status)+" by "+e.Actor]++
		}
		for _, want := range []string{"accepted by municipal", "in_progress by municipal", "in_progress by traffic_police", "resolved by municipal"} {
			if counts[want] != 1 {
				t.Errorf("%s: timeline has %q %d times, want once (%v)", r.ID, want, counts[want], counts)
			}
		}
		if len(got.Timeline) != 6 {
			t.Errorf("%s: %d timeline entries, want 6 (submitted, dispatched and the four changes): %v", r.ID, len(got.Timeline), counts)
		}
		if res := f.Item("REPORT#"+r.ID, "REPORT"); res["gsi4pk"] == nil || res["resolvedAt"] == nil {
			t.Errorf("%s: the report carries no resolution (gsi4 RESOLVED#, resolvedAt)", r.ID)
		}
		if len(got.ProofPhotos) != 1 {
			t.Errorf("%s: %d proof photos, want 1", r.ID, len(got.ProofPhotos))
		}
		for _, p := range got.ProofPhotos {
			if _, err := f.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &f.Bucket, Key: &p.Key, VersionId: &p.VersionID}); err != nil {
				t.Errorf("%s: proof photo %s version %s is gone: %v", r.ID, p.Key, p.VersionID, err)
			}
		}
	}
	st := inj.Stats()
	if st.Calls < 100 || st.Faulted() < st.Calls/10 {
		t.Errorf("faults: %v; want ≥ 100 calls and ≥ 1 in 10 faulted", st)
	}
	t.Logf("%d reports, %d sends", len(reports), sends)
}
