package intakefn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/shared/report"
)

// public sends a request of the public map or me too from a client address, as API Gateway's event
// carries it (sourceIp).
func (h *harness) public(c caller, addr, method, routeKey, path string, params map[string]string, headers map[string]string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var claims map[string]string
	if c.sub != "" {
		claims = map[string]string{"sub": c.sub, "cognito:groups": c.groups}
	}
	ev := gateway.Event(req, nil, routeKey, claims)
	ev.PathParameters = params
	ev.RequestContext.HTTP.SourceIP = addr
	resp, err := h.fn.Handle(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("%s %s: handler error %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Headers, Body: []byte(resp.Body)}
}

const mapPath = "/v1/public/reports?bbox=23.20,103.15,23.60,103.60"

// The public map and me too through intake's handler against moto: the report is on the map without its
// reporter, cacheable; me too counts once; bad input is a 4xx that writes nothing; an address's requests
// beyond its minute's allowance are 429 with Retry-After, another address's are not.
func TestPublicMapAndMeToo(t *testing.T) {
	h := newHarness(t)
	key := h.presign(alice, "image/jpeg", jpegBytes(t, true))
	filed := h.do(alice, "POST", "POST /v1/reports", "/v1/reports", reportBody("rubbish", key), map[string]string{"Idempotency-Key": "pub-1"})
	if filed.Status != 201 {
		t.Fatalf("file: %d %s", filed.Status, filed.Body)
	}
	var rep report.Report
	filed.json(t, &rep)

	page := h.public(nobody, "198.51.100.1", "GET", "GET /v1/public/reports", mapPath, nil, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), rep.ID) {
		t.Fatalf("map: %d %s", page.Status, page.Body)
	}
	for _, secret := range []string{"alice", "reporter", "天马路", "rubbish piling"} {
		if strings.Contains(string(page.Body), secret) {
			t.Errorf("the public page carries %q: %s", secret, page.Body)
		}
	}
	if page.Header["Cache-Control"] != "public, max-age=60" || page.Header["Etag"] == "" {
		t.Errorf("headers %v", page.Header)
	}
	again := h.public(nobody, "198.51.100.1", "GET", "GET /v1/public/reports", mapPath, nil, map[string]string{"If-None-Match": page.Header["Etag"]})
	if again.Status != 304 {
		t.Errorf("revalidation: %d, want 304", again.Status)
	}

	metoo := "/v1/reports/" + rep.ID + "/metoo"
	params := map[string]string{"id": rep.ID}
	for i := range 2 {
		r := h.public(bob, "198.51.100.2", "POST", "POST /v1/reports/{id}/metoo", metoo, params, nil)
		var res report.MeTooResult
		if r.Status != 200 {
			t.Fatalf("me too #%d: %d %s", i+1, r.Status, r.Body)
		}
		r.json(t, &res)
		if res.Count != 1 {
			t.Errorf("me too #%d: count %d, want 1", i+1, res.Count)
		}
	}
	before := h.items()
	for _, tt := range []struct {
		name        string
		c           caller
		route, path string
		params      map[string]string
		status      int
		code        string
	}{
		{"own report", alice, "POST /v1/reports/{id}/metoo", metoo, params, 409, "own_report"},
		{"unknown report", bob, "POST /v1/reports/{id}/metoo", "/v1/reports/nope/metoo", map[string]string{"id": "nope"}, 404, "report_not_found"},
		{"staff", staff, "POST /v1/reports/{id}/metoo", metoo, params, 403, "forbidden"},
		{"no bbox", nobody, "GET /v1/public/reports", "/v1/public/reports", nil, 400, "invalid_bbox"},
		{"a province", nobody, "GET /v1/public/reports", "/v1/public/reports?bbox=21,97,29,106", nil, 400, "bbox_too_large"},
		{"rejected", nobody, "GET /v1/public/reports", mapPath + "&status=rejected", nil, 400, "invalid_status"},
		{"forged cursor", nobody, "GET /v1/public/reports", mapPath + "&cursor=eyJxIjoieCJ9", nil, 400, "invalid_cursor"},
	} {
		r := h.public(tt.c, "198.51.100.3", strings.Fields(tt.route)[0], tt.route, tt.path, tt.params, nil)
		if r.Status != tt.status || r.code(t) != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
		}
	}
	if after := h.items(); !maps.Equal(after, before) {
		t.Errorf("refused requests wrote: %d items before, %d after", len(before), len(after))
	}

	// The address's allowance: 60 a minute, then 429 until the next minute. The function's clock stands
	// still 10 s into a minute of its own, so the window is fresh and cannot turn mid-test.
	b := h.e.Base("IntakeFunction", map[string]string{"MAX_UPLOAD_BYTES": fmt.Sprint(maxUpload)}, nil)
	b.Now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC) }
	var err error
	if h.fn, err = intakefn.New(b); err != nil {
		t.Fatal(err)
	}
	for i := range report.PublicRequestsPerMinute + 1 {
		r := h.public(nobody, "198.51.100.1", "GET", "GET /v1/public/reports", mapPath, nil, nil)
		if i < report.PublicRequestsPerMinute {
			if r.Status != 200 {
				t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
			}
			continue
		}
		if r.Status != 429 || r.code(t) != "rate_limited" || r.Header["Retry-After"] != "50" {
			t.Errorf("request %d: %d %s, Retry-After %q; want 429 rate_limited, 50", i+1, r.Status, r.Body, r.Header["Retry-After"])
		}
	}
	if r := h.public(nobody, "203.0.113.7", "GET", "GET /v1/public/reports", mapPath, nil, nil); r.Status != 200 {
		t.Errorf("another address: %d %s", r.Status, r.Body)
	}
}

// A report filed with "public": false through intake's handler against moto: the answer and the
// reporter's read say so, the map leaves it out (while the public twin is on it), a me too on it is
// report_not_found and writes nothing, and a "public" of another type is invalid_json, writing nothing.
func TestPrivateReportIsOffTheMap(t *testing.T) {
	h := newHarness(t)
	file := func(idemKey string, public any) response {
		var body map[string]any
		if err := json.Unmarshal(reportBody("rubbish", h.presign(alice, "image/jpeg", jpegBytes(t, true))), &body); err != nil {
			t.Fatal(err)
		}
		if public != nil {
			body["public"] = public
		}
		b, _ := json.Marshal(body)
		return h.do(alice, "POST", "POST /v1/reports", "/v1/reports", b, map[string]string{"Idempotency-Key": idemKey})
	}
	before := h.items()
	for _, bad := range []any{"no", 0, map[string]any{}} {
		if r := file("bad-public", bad); r.Status != 400 || r.code(t) != "invalid_json" {
			t.Errorf("public %v: %d %s, want 400 invalid_json", bad, r.Status, r.Body)
		}
	}
	if after := h.items(); len(after) != len(before) {
		t.Errorf("refused filings wrote: %d items before, %d after", len(before), len(after))
	}

	filed := file("private-1", false)
	if filed.Status != 201 || !strings.Contains(string(filed.Body), `"public":false`) {
		t.Fatalf("file: %d %s", filed.Status, filed.Body)
	}
	var private report.Report
	filed.json(t, &private)
	shown := h.do(alice, "GET", "GET /v1/reports/{id}", "/v1/reports/"+private.ID, nil, nil)
	if shown.Status != 200 || !strings.Contains(string(shown.Body), `"public":false`) {
		t.Errorf("the reporter's read: %d %s", shown.Status, shown.Body)
	}
	twin := file("public-1", true)
	if twin.Status != 201 || strings.Contains(string(twin.Body), `"public"`) {
		t.Fatalf("file the public twin: %d %s", twin.Status, twin.Body)
	}
	var public report.Report
	twin.json(t, &public)

	page := h.public(nobody, "198.51.100.1", "GET", "GET /v1/public/reports", mapPath, nil, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), public.ID) || strings.Contains(string(page.Body), private.ID) {
		t.Errorf("map: %d %s; want %s and not %s", page.Status, page.Body, public.ID, private.ID)
	}
	before = h.items()
	metoo := h.public(bob, "198.51.100.2", "POST", "POST /v1/reports/{id}/metoo", "/v1/reports/"+private.ID+"/metoo", map[string]string{"id": private.ID}, nil)
	if metoo.Status != 404 || metoo.code(t) != "report_not_found" {
		t.Errorf("me too on a private report: %d %s", metoo.Status, metoo.Body)
	}
	if after := h.items(); !maps.Equal(after, before) {
		t.Errorf("a refused me too wrote: %d items before, %d after", len(before), len(after))
	}
}
