package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type publicPage struct {
	Items []struct {
		ID, Category, Status, LeadDept string
		MeToo                          int
		Photos                         []struct{ URL, ContentType string }
	}
	NextCursor string
}

// publicMap reads every page of the public map around (lat, lng); it returns the pages' raw bodies too.
func publicMap(t *testing.T, lat, lng float64) (map[string]int, []string) {
	t.Helper()
	q := url.Values{"bbox": {fmt.Sprintf("%.4f,%.4f,%.4f,%.4f", lat-0.002, lng-0.002, lat+0.002, lng+0.002)}, "limit": {"2"}}
	counts := map[string]int{}
	var bodies []string
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("the map's pages do not end")
		}
		var raw json.RawMessage
		if st := (&client{t: t}).call("GET", "/v1/public/reports?"+q.Encode(), nil, nil, &raw); st != 200 {
			t.Fatalf("public map: %d %s", st, raw)
		}
		bodies = append(bodies, string(raw))
		var p publicPage
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			counts[it.ID] = it.MeToo
			for _, ph := range it.Photos {
				resp, err := http.Get(ph.URL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("photo link of %s: %d", it.ID, resp.StatusCode)
				}
			}
		}
		if p.NextCursor == "" {
			return counts, bodies
		}
		q.Set("cursor", p.NextCursor)
	}
}

// Two citizens: one files (and files another anonymously), the other finds both on the public map and adds
// "me too" twice: the count is 1 on the map and in the lead department's queue. No public answer carries
// either citizen's sub.
func TestPublicMapAndMeToo(t *testing.T) {
	run := time.Now().UnixNano()
	filer := login(t, fmt.Sprint("e2e-map-filer-", run), []string{"citizen"}, "")
	neighbour := login(t, fmt.Sprint("e2e-map-neighbour-", run), []string{"citizen"}, "")
	lat, lng := 23.41+float64(run%1000)*1e-5, 103.42 // a spot of this run's own (the duplicate rule)
	id := fileReport(t, filer, "street_light", "路灯不亮 the street light is out", lat, lng)
	key := filer.uploadPhoto("image/jpeg", photoJPEG(t))
	var anon fullReport
	if st := filer.call("POST", "/v1/reports", map[string]any{"category": "rubbish", "description": "垃圾 rubbish", "anonymous": true,
		"location": map[string]float64{"lat": lat + 0.0008, "lng": lng}, "photoKeys": []string{key}},
		map[string]string{"Idempotency-Key": fmt.Sprint("e2e-anon-", run)}, &anon); st != 201 {
		t.Fatalf("anonymous report: %d", st)
	}
	r := waitFor(t, filer, id, func(r fullReport) bool { return r.LeadDept != "" && r.Status == "dispatched" })

	counts, _ := publicMap(t, lat, lng)
	if _, ok := counts[id]; !ok {
		t.Fatalf("the report is not on the map: %v", counts)
	}
	if _, ok := counts[anon.ID]; !ok {
		t.Fatalf("the anonymous report is not on the map: %v", counts)
	}
	for i := range 2 {
		var res struct {
			ReportID string
			MeToo    bool
			Count    int
		}
		if st := neighbour.call("POST", "/v1/reports/"+id+"/metoo", nil, nil, &res); st != 200 || res.Count != 1 || !res.MeToo {
			t.Fatalf("me too #%d: %d %+v", i+1, st, res)
		}
	}
	var e struct{ Error struct{ Code string } }
	if st := filer.call("POST", "/v1/reports/"+id+"/metoo", nil, nil, &e); st != 409 || e.Error.Code != "own_report" {
		t.Errorf("me too on one's own report: %d %s", st, e.Error.Code)
	}
	counts, bodies := publicMap(t, lat, lng)
	if counts[id] != 1 {
		t.Errorf("me too count on the map: %d, want 1", counts[id])
	}
	for _, b := range bodies {
		for _, sub := range []string{fmt.Sprint("e2e-map-filer-", run), fmt.Sprint("e2e-map-neighbour-", run)} {
			if strings.Contains(b, sub) {
				t.Errorf("a public page carries the sub %s: %s", sub, b)
			}
		}
		if strings.Contains(b, `"reporter"`) {
			t.Errorf("a public page names a reporter: %s", b)
		}
	}

	lead := login(t, fmt.Sprint("e2e-map-staff-", run), []string{"staff"}, r.LeadDept)
	waitQueued(t, lead, id) // the report shows its lead at dispatch's commit, the queue entry follows
	var q struct {
		Items []struct {
			ReportID string
			MeToo    int
		}
		NextCursor string
	}
	found := false
	for path := "/v1/dept/reports?status=dispatched&limit=100"; path != "" && !found; {
		if st := lead.call("GET", path, nil, nil, &q); st != 200 {
			t.Fatalf("queue: %d", st)
		}
		for _, it := range q.Items {
			if it.ReportID == id {
				found = true
				if it.MeToo != 1 {
					t.Errorf("queue shows me too %d, want 1", it.MeToo)
				}
			}
		}
		path = ""
		if q.NextCursor != "" {
			path = "/v1/dept/reports?status=dispatched&limit=100&cursor=" + q.NextCursor
		}
		q.Items, q.NextCursor = nil, ""
	}
	if !found {
		t.Errorf("report %s is not in %s's queue", id, r.LeadDept)
	}
}

// A report filed as not public, through the real stream path (dispatch routes it like any other): its
// reporter sees it ("public": false), the public map does not list it while it lists its public twin, a
// me too on it is report_not_found, and Open311's keyless GETs do not know it (requests/{id} 404, left
// out of a list by id and of the window's list).
func TestPrivateReportOffEveryPublicView(t *testing.T) {
	run := time.Now().UnixNano()
	filer := login(t, fmt.Sprint("e2e-private-filer-", run), []string{"citizen"}, "")
	neighbour := login(t, fmt.Sprint("e2e-private-neighbour-", run), []string{"citizen"}, "")
	lat, lng := 23.43+float64(run%1000)*1e-5, 103.44
	public := fileReport(t, filer, "street_light", "路灯不亮 the street light is out", lat, lng)
	var private struct {
		ID     string
		Public *bool
	}
	key := filer.uploadPhoto("image/jpeg", photoJPEG(t))
	if st := filer.call("POST", "/v1/reports", map[string]any{"category": "rubbish", "description": "垃圾 rubbish", "public": false,
		"location": map[string]float64{"lat": lat + 0.0008, "lng": lng}, "photoKeys": []string{key}},
		map[string]string{"Idempotency-Key": fmt.Sprint("e2e-private-", run)}, &private); st != 201 || private.Public == nil || *private.Public {
		t.Fatalf("private report: %d %+v", st, private)
	}
	waitFor(t, filer, public, func(r fullReport) bool { return r.Status == "dispatched" })
	waitFor(t, filer, private.ID, func(r fullReport) bool { return r.Status != "submitted" })

	counts, _ := publicMap(t, lat, lng)
	if _, ok := counts[public]; !ok {
		t.Errorf("the public report is not on the map: %v", counts)
	}
	if _, ok := counts[private.ID]; ok {
		t.Errorf("the private report is on the map: %v", counts)
	}
	var e struct{ Error struct{ Code string } }
	if st := neighbour.call("POST", "/v1/reports/"+private.ID+"/metoo", nil, nil, &e); st != 404 || e.Error.Code != "report_not_found" {
		t.Errorf("me too on a private report: %d %s", st, e.Error.Code)
	}

	c := o311{t: t, base: api + "/open311/v2/", f: "json"}
	var one []o311Request
	if st, _ := c.get("requests/"+private.ID, nil, &one); st != 404 {
		t.Errorf("requests/{id} of a private report: %d %+v", st, one)
	}
	if st, _ := c.get("requests/"+public, nil, &one); st != 200 || len(one) != 1 {
		t.Errorf("requests/{id} of the public one: %d %+v", st, one)
	}
	var list []o311Request
	if st, _ := c.get("requests", url.Values{"service_request_id": {private.ID + "," + public}}, &list); st != 200 || len(list) != 1 || list[0].ServiceRequestID != public {
		t.Errorf("requests by id: %d %+v, want the public one only", st, list)
	}
	window := url.Values{"start_date": {time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339)}, "page_size": {"100"}}
	if st, _ := c.get("requests", window, &list); st != 200 {
		t.Fatalf("requests of the window: %d", st)
	}
	seen := map[string]bool{}
	for _, r := range list {
		seen[r.ServiceRequestID] = true
	}
	if !seen[public] || seen[private.ID] {
		t.Errorf("the window's list has the public one %v and the private one %v", seen[public], seen[private.ID])
	}
}
