package open311fn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/admin/adminfn"
	"github.com/civicsnap/civicsnap/functions/open311/open311fn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/open311"
	"github.com/civicsnap/civicsnap/shared/photo"
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

// harness is a fresh environment (the template's resources and the seed) with the Open311 function and
// the admin function over it, built by their constructors as main builds them.
type harness struct {
	t     *testing.T
	e     *testenv.Env
	fn    *open311fn.Function
	admin *adminfn.Function
}

func newHarness(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	e := moto.New(t, testenv.Options{})
	h := &harness{t: t, e: e}
	var err error
	if h.fn, err = open311fn.New(e.Base("Open311Function", extra, nil)); err != nil {
		t.Fatal(err)
	}
	if h.admin, err = adminfn.New(e.Base("AdminFunction", nil, nil)); err != nil {
		t.Fatal(err)
	}
	return h
}

type response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// do sends a request through the API Gateway v2 event path, as the local runner and Lambda do; a POST
// body is a form, as Open311 clients send it (without a charset, as many do).
func (h *harness) do(method, path string, form url.Values) response {
	h.t.Helper()
	var body []byte
	if form != nil {
		body = []byte(form.Encode())
	}
	return h.raw(method, path, body, "application/x-www-form-urlencoded")
}

func (h *harness) raw(method, path string, body []byte, contentType string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Host = "api.example.com"
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	route := method + " " + req.URL.Path
	for _, prefix := range []string{"services/", "requests/", "tokens/"} {
		if rest, ok := strings.CutPrefix(req.URL.Path, open311.BasePath+prefix); ok {
			route = method + " " + open311.BasePath + prefix + "{file}"
			ev := gateway.Event(req, body, route, nil)
			ev.PathParameters = map[string]string{"file": rest}
			return h.send(h.fn.Handle, ev)
		}
	}
	return h.send(h.fn.Handle, gateway.Event(req, body, route, nil))
}

func (h *harness) send(handle func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), ev events.APIGatewayV2HTTPRequest) response {
	h.t.Helper()
	resp, err := handle(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("handler error %v", err)
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	return response{Status: resp.StatusCode, Header: resp.Headers, Body: b}
}

// adminDo calls the admin function as an admin.
func (h *harness) adminDo(method, path, routeKey, body string, pathID string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	ev := gateway.Event(req, []byte(body), routeKey, map[string]string{"sub": "admin1", "cognito:groups": "[admin]"})
	if pathID != "" {
		ev.PathParameters = map[string]string{"id": pathID}
	}
	return h.send(h.admin.Handle, ev)
}

// issue registers a client through the admin API and returns it with its key.
func (h *harness) issue(body string) open311.IssuedClient {
	h.t.Helper()
	resp := h.adminDo("POST", "/v1/admin/open311/clients", "POST /v1/admin/open311/clients", body, "")
	if resp.Status != 201 {
		h.t.Fatalf("create client: %d %s", resp.Status, resp.Body)
	}
	var c open311.IssuedClient
	if err := json.Unmarshal(resp.Body, &c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// items returns the table's items by key (a test-only Scan), to show what a request wrote.
func (h *harness) items() map[string]string {
	h.t.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: &h.e.Table, ConsistentRead: aws.Bool(true)}
	for {
		page, err := h.e.DB.Scan(context.Background(), in)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, it := range testenv.Plain(page.Items) {
			out[fmt.Sprint(it["pk"], " ", it["sk"])] = fmt.Sprint(it)
		}
		if page.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// changed lists the keys of items that differ between two snapshots, rate counters aside (a keyed
// request is counted before it is judged).
func changed(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if before[k] != v && !strings.HasPrefix(k, "O311RATE#") {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (h *harness) objects() []string {
	h.t.Helper()
	out, err := h.e.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &h.e.Bucket})
	if err != nil {
		h.t.Fatal(err)
	}
	var keys []string
	for _, v := range out.Versions {
		keys = append(keys, aws.ToString(v.Key)+" "+aws.ToString(v.VersionId))
	}
	slices.Sort(keys)
	return keys
}

// fileForm is a valid POST requests form of a street light, as FixMyStreet sends it.
func fileForm(key string) url.Values {
	return url.Values{
		"api_key": {key}, "service_code": {"street_light"}, "lat": {"23.3752"}, "long": {"103.3905"},
		"description": {"路灯不亮\r\n已经三天"}, "address_string": {"天马路 12 号"},
		"first_name": {"Ada"}, "last_name": {"Lovelace"}, "email": {"ada@example.org"}, "phone": {"+86 138 0000 0000"},
		"device_id": {"dev-123"}, "attribute[fault]": {"dark"}, "attribute[pole_number]": {"MZ-0421"},
		"attribute[fixmystreet_id]": {"991"},
	}
}

// private is what a reporter posted and no answer may contain.
var private = []string{"Ada", "Lovelace", "ada@example.org", "138 0000", "dev-123", "open311-"}

func noPrivate(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, p := range private {
		if bytes.Contains(b, []byte(p)) {
			t.Errorf("%s carries the reporter's %q: %s", what, p, b)
		}
	}
}

func TestServicesAndDefinitionsInBothFormats(t *testing.T) {
	h := newHarness(t, nil)
	for _, f := range []string{"json", "xml"} {
		t.Run(f, func(t *testing.T) {
			resp := h.do("GET", "/open311/v2/services."+f+"?jurisdiction_id=mengzi", nil)
			if resp.Status != 200 || !strings.HasPrefix(resp.Header["Content-Type"], map[string]string{"json": "application/json", "xml": "text/xml"}[f]) {
				t.Fatalf("services: %d %v %s", resp.Status, resp.Header, resp.Body)
			}
			var services []open311.ServiceItem
			if f == "json" {
				mustJSON(t, resp.Body, &services)
			} else {
				var list open311.Services
				mustXML(t, resp.Body, &list)
				services = list.Items
			}
			i := slices.IndexFunc(services, func(s open311.ServiceItem) bool { return s.ServiceCode == "street_light" })
			if len(services) != 10 || i < 0 {
				t.Fatalf("services %+v", services)
			}
			if s := services[i]; !s.Metadata || s.ServiceName != "路灯" || s.Group != "市政" || s.Type != "realtime" || !strings.Contains(s.Keywords, "lamp") {
				t.Errorf("street_light %+v", s)
			}
			if s := services[slices.IndexFunc(services, func(s open311.ServiceItem) bool { return s.ServiceCode == "noise" })]; s.Metadata {
				t.Errorf("noise asks nothing more, metadata %+v", s)
			}

			resp = h.do("GET", "/open311/v2/services/street_light."+f, nil)
			if resp.Status != 200 {
				t.Fatalf("definition: %d %s", resp.Status, resp.Body)
			}
			var def open311.ServiceDefinition
			if f == "json" {
				mustJSON(t, resp.Body, &def)
			} else {
				mustXML(t, resp.Body, &def)
			}
			if def.ServiceCode != "street_light" || len(def.Attributes) != 2 || def.Attributes[0].Code != "pole_number" ||
				def.Attributes[1].Code != "fault" || !def.Attributes[1].Required || len(def.Attributes[1].Values) != 4 {
				t.Errorf("definition %+v", def)
			}

			for _, bad := range []struct {
				path   string
				status int
			}{
				{"/open311/v2/services/no_such." + f, 404},
				{"/open311/v2/services." + f + "?jurisdiction_id=other.city", 404},
				{"/open311/v2/requests/not-an-id." + f, 404},
				{"/open311/v2/requests." + f + "?start_date=2026-11-30T00:00:00%2B0800", 400},
				{"/open311/v2/requests." + f + "?start_date=2026-01-01T00:00:00Z&end_date=2026-11-30T00:00:00Z", 400},
				{"/open311/v2/requests." + f + "?status=pending", 400},
				{"/open311/v2/requests." + f + "?page=bm9wZQ", 400},
			} {
				resp := h.do("GET", bad.path, nil)
				if resp.Status != bad.status {
					t.Errorf("%s: %d %s, want %d", bad.path, resp.Status, resp.Body, bad.status)
				}
				errorShape(t, f, resp)
			}
		})
	}
}

func TestFileFindAndFollowAReport(t *testing.T) {
	for _, f := range []string{"json", "xml"} {
		t.Run(f, func(t *testing.T) {
			h := newHarness(t, nil)
			c := h.issue(`{"name":"FixMyStreet Mengzi"}`)
			if c.Trusted || c.RequestsPerMinute != open311.DefaultRequestsPerMinute || !strings.HasPrefix(c.APIKey, "o311_") {
				t.Fatalf("issued %+v", c)
			}
			form := fileForm(c.APIKey)
			resp := h.do("POST", "/open311/v2/requests."+f, form)
			if resp.Status != 200 {
				t.Fatalf("POST requests: %d %s", resp.Status, resp.Body)
			}
			noPrivate(t, "POST answer", resp.Body)
			id := requestIDs(t, f, resp)[0]

			// The same POST again (a client whose answer was lost) is the same report.
			again := h.do("POST", "/open311/v2/requests."+f, form)
			if again.Status != 200 || requestIDs(t, f, again)[0] != id {
				t.Fatalf("replay: %d %s, want %s", again.Status, again.Body, id)
			}

			stored := h.e.Item("REPORT#"+id, "REPORT")
			if stored == nil {
				t.Fatal("no report item")
			}
			desc := fmt.Sprint(plain(stored)["description"])
			if !strings.Contains(desc, "路灯不亮\n已经三天") || !strings.Contains(desc, "故障 Fault: 不亮 Not lit") || !strings.Contains(desc, "灯杆编号 Pole number: MZ-0421") || strings.Contains(desc, "991") {
				t.Errorf("description %q", desc)
			}
			if rep := fmt.Sprint(plain(stored)["reporterSub"]); rep != "open311-"+c.ID {
				t.Errorf("reporter %q, want the client application", rep)
			}
			if raw := fmt.Sprint(plain(stored)); strings.Contains(raw, "Lovelace") || strings.Contains(raw, "ada@") {
				t.Errorf("the reporter's name or email was stored: %s", raw)
			}

			for _, path := range []string{
				"/open311/v2/requests/" + id + "." + f,
				"/open311/v2/requests." + f + "?service_request_id=" + id + ",00000000-0000-7000-8000-000000000000",
				"/open311/v2/requests." + f + "?service_code=street_light&status=open&start_date=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)) + "&end_date=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)),
				"/open311/v2/requests." + f,
			} {
				resp := h.do("GET", path, nil)
				if resp.Status != 200 {
					t.Fatalf("%s: %d %s", path, resp.Status, resp.Body)
				}
				noPrivate(t, path, resp.Body)
				got := requests(t, f, resp)
				if len(got) != 1 || got[0].ServiceRequestID != id {
					t.Fatalf("%s: %+v, want the one report", path, got)
				}
				r := got[0]
				if r.Status != "open" || r.ServiceCode != "street_light" || r.ServiceName != "路灯" || r.Lat == nil || *r.Lat != 23.3752 ||
					r.Long == nil || *r.Long != 103.3905 || r.Address != "天马路 12 号" || !strings.HasSuffix(r.RequestedDatetime, "+08:00") ||
					!strings.HasSuffix(r.UpdatedDatetime, "+08:00") || r.MediaURL != "" {
					t.Errorf("%s: %+v", path, r)
				}
			}
			for _, path := range []string{
				"/open311/v2/requests." + f + "?service_code=noise",
				"/open311/v2/requests." + f + "?status=closed",
			} {
				if got := requests(t, f, h.do("GET", path, nil)); len(got) != 0 {
					t.Errorf("%s: %+v, want none", path, got)
				}
			}
			resp = h.do("GET", "/open311/v2/tokens/"+id+"."+f, nil)
			if got := requests(t, f, resp); resp.Status != 200 || len(got) != 1 || got[0].ServiceRequestID != id || got[0].Token != id {
				t.Errorf("token: %d %s", resp.Status, resp.Body)
			}

			// A citizen's public update, posted as FixMyStreet posts it, twice; then the updates since an hour ago.
			upd := url.Values{"api_key": {c.APIKey}, "service_request_id": {id}, "update_id": {"fms-77"}, "status": {"OPEN"},
				"updated_datetime": {time.Now().UTC().Format(time.RFC3339)}, "description": {"还是不亮"}, "first_name": {"Ada"},
				"last_name": {"Lovelace"}, "email": {"ada@example.org"}}
			var updateID string
			for i := range 2 {
				resp := h.do("POST", "/open311/v2/servicerequestupdates."+f, upd)
				if resp.Status != 200 {
					t.Fatalf("POST update: %d %s", resp.Status, resp.Body)
				}
				got := updates(t, f, resp)
				if len(got) != 1 || got[0].UpdateID == "" || (i == 1 && got[0].UpdateID != updateID) {
					t.Fatalf("POST update %d: %+v (first %s)", i, got, updateID)
				}
				updateID = got[0].UpdateID
			}
			// A department's change (here: rejected as not theirs, back to the command center) is an update
			// too; a citizen's report filed in the app is not an Open311 client's to follow.
			ctx := context.Background()
			later := time.Now().Add(time.Second).UTC().Truncate(time.Millisecond)
			if err := h.e.Store.AddTimelineEntry(ctx, id, report.TimelineEntry{At: later, Status: report.NeedsTriage, Actor: "municipal", Note: "不归我们管"}); err != nil {
				t.Fatal(err)
			}
			other := h.e.CreateReport(report.Report{Category: "rubbish"})
			if err := h.e.Store.AddTimelineEntry(ctx, other.ID, report.TimelineEntry{At: later, Status: report.Accepted, Actor: "sanitation"}); err != nil {
				t.Fatal(err)
			}
			window := "start_date=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)) +
				"&end_date=" + url.QueryEscape(time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
			resp = h.do("GET", "/open311/v2/servicerequestupdates."+f+"?"+window+"&api_key="+c.APIKey, nil)
			if resp.Status != 200 {
				t.Fatalf("GET updates: %d %s", resp.Status, resp.Body)
			}
			noPrivate(t, "updates", resp.Body)
			got := updates(t, f, resp)
			if len(got) != 2 || got[0].UpdateID != updateID || got[0].ServiceRequestID != id || got[0].Status != "open" ||
				got[0].Description != "还是不亮" || !strings.HasSuffix(got[0].UpdatedDatetime, "+08:00") ||
				got[1].ServiceRequestID != id || got[1].Status != "internal_referral" || got[1].Description != "不归我们管" ||
				got[1].UpdateID == "" || got[1].UpdateID == updateID {
				t.Errorf("updates %+v", got)
			}
			if resp := h.do("GET", "/open311/v2/servicerequestupdates."+f+"?"+window, nil); resp.Status != 400 {
				t.Errorf("updates without api_key: %d", resp.Status)
			}
			resp = h.do("GET", "/open311/v2/requests/"+id+"."+f, nil)
			if r := requests(t, f, resp); len(r) != 1 || r[0].StatusNotes != "不归我们管" {
				t.Errorf("status_notes after the update: %+v", r)
			}
		})
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	h := newHarness(t, nil)
	c := h.issue(`{"name":"app"}`)
	revoked := h.issue(`{"name":"old app"}`)
	if resp := h.adminDo("POST", "/v1/admin/open311/clients/"+revoked.ID+"/revoke", "POST /v1/admin/open311/clients/{id}/revoke", "", revoked.ID); resp.Status != 200 {
		t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
	}
	with := func(change func(url.Values)) url.Values {
		f := fileForm(c.APIKey)
		change(f)
		return f
	}
	cases := []struct {
		name   string
		form   url.Values
		raw    []byte
		status int
		code   string
	}{
		{"no key", with(func(f url.Values) { f.Del("api_key") }), nil, 400, "api_key_required"},
		{"unknown key", with(func(f url.Values) { f.Set("api_key", "o311_0000000000000000_"+strings.Repeat("0", 64)) }), nil, 403, "api_key_invalid"},
		{"revoked key", with(func(f url.Values) { f.Set("api_key", revoked.APIKey) }), nil, 403, "api_key_invalid"},
		{"junk key", with(func(f url.Values) { f.Set("api_key", "letmein") }), nil, 403, "api_key_invalid"},
		{"another jurisdiction", with(func(f url.Values) { f.Set("jurisdiction_id", "kunming") }), nil, 404, "unknown_jurisdiction"},
		{"no service_code", with(func(f url.Values) { f.Del("service_code") }), nil, 400, "invalid_parameter"},
		{"unknown service_code", with(func(f url.Values) { f.Set("service_code", "volcano") }), nil, 400, "unknown_category"},
		{"outside the city", with(func(f url.Values) { f.Set("lat", "39.9") }), nil, 400, "location_outside_city"},
		{"lat not a number", with(func(f url.Values) { f.Set("lat", "north") }), nil, 400, "invalid_parameter"},
		{"address only", with(func(f url.Values) { f.Del("lat"); f.Del("long") }), nil, 400, "location_required"},
		{"required attribute missing", with(func(f url.Values) { f.Del("attribute[fault]") }), nil, 400, "invalid_attribute"},
		{"attribute not in the list", with(func(f url.Values) { f.Set("attribute[fault]", "exploded") }), nil, 400, "invalid_attribute"},
		{"two values of a single attribute", with(func(f url.Values) { f["attribute[fault]"] = []string{"dark", "damaged"} }), nil, 400, "invalid_attribute"},
		{"control characters", with(func(f url.Values) { f.Set("description", "a\x00b") }), nil, 400, "invalid_description"},
		{"description too long", with(func(f url.Values) { f.Set("description", strings.Repeat("灯", 2001)) }), nil, 400, "invalid_description"},
		{"media_url to a private address", with(func(f url.Values) { f.Set("media_url", "https://169.254.169.254/latest/meta-data") }), nil, 400, "invalid_media_url"},
		{"media_url over http", with(func(f url.Values) { f.Set("media_url", "http://example.org/a.jpg") }), nil, 400, "invalid_media_url"},
		{"invalid UTF-8", nil, []byte("api_key=" + c.APIKey + "&service_code=street_light&lat=23.37&long=103.39&description=%ff%fe"), 400, "invalid_form"},
		{"not a form", nil, []byte(`{"service_code":"street_light"}`), 400, "invalid_form"},
	}
	before, objects := h.items(), h.objects()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{"json", "xml"} {
				var resp response
				switch {
				case tc.raw != nil && tc.name == "not a form":
					resp = h.raw("POST", "/open311/v2/requests."+f, tc.raw, "application/json")
				case tc.raw != nil:
					resp = h.raw("POST", "/open311/v2/requests."+f, tc.raw, "application/x-www-form-urlencoded")
				default:
					resp = h.do("POST", "/open311/v2/requests."+f, tc.form)
				}
				if resp.Status != tc.status {
					t.Errorf("%s: %d %s, want %d", f, resp.Status, resp.Body, tc.status)
				}
				if d := errorShape(t, f, resp); !strings.HasPrefix(d, tc.code+":") {
					t.Errorf("%s: description %q, want code %s", f, d, tc.code)
				}
			}
		})
	}
	if got := changed(before, h.items()); len(got) != 0 {
		t.Errorf("refused requests wrote %v", got)
	}
	if got := h.objects(); !slices.Equal(got, objects) {
		t.Errorf("refused requests stored objects %v (before %v)", got, objects)
	}
	// A citizen's report filed in the app, and an Open311 report, to post updates on.
	citizens := h.e.CreateReport(report.Report{Category: "rubbish"})
	filed := requestIDs(t, "json", h.do("POST", "/open311/v2/requests.json", fileForm(c.APIKey)))[0]
	before = h.items()
	for _, bad := range []struct {
		form   url.Values
		status int
	}{
		{url.Values{"api_key": {c.APIKey}, "service_request_id": {"00000000-0000-8000-8000-000000000000"}, "update_id": {"1"}, "description": {"x"}}, 404},
		{url.Values{"api_key": {c.APIKey}, "service_request_id": {citizens.ID}, "update_id": {"1"}, "description": {"x"}}, 404},
		{url.Values{"api_key": {c.APIKey}, "service_request_id": {"junk"}, "update_id": {"1"}, "description": {"x"}}, 404},
		{url.Values{"api_key": {revoked.APIKey}, "service_request_id": {filed}, "update_id": {"1"}, "description": {"x"}}, 403},
		{url.Values{"api_key": {c.APIKey}, "service_request_id": {filed}, "update_id": {"a b"}, "description": {"x"}}, 400},
		{url.Values{"api_key": {c.APIKey}, "service_request_id": {filed}, "update_id": {"1"}, "description": {" "}}, 400},
		{url.Values{"api_key": {c.APIKey}, "service_request_id": {filed}, "update_id": {"1"}, "description": {"x"}, "jurisdiction_id": {"kunming"}}, 404},
	} {
		resp := h.do("POST", "/open311/v2/servicerequestupdates.xml", bad.form)
		if resp.Status != bad.status {
			t.Errorf("update %v: %d %s, want %d", bad.form, resp.Status, resp.Body, bad.status)
		}
		errorShape(t, "xml", resp)
	}
	if got := changed(before, h.items()); len(got) != 0 {
		t.Errorf("refused updates wrote %v", got)
	}
}

func TestPerKeyLimit(t *testing.T) {
	h := newHarness(t, nil)
	c := h.issue(`{"name":"busy app","requestsPerMinute":2}`)
	window := "?api_key=" + c.APIKey + "&start_date=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)) +
		"&end_date=" + url.QueryEscape(time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	var statuses []int
	var last response
	for range 3 {
		last = h.do("GET", "/open311/v2/servicerequestupdates.json"+window, nil)
		statuses = append(statuses, last.Status)
	}
	if time.Now().Second() > 57 {
		t.Skip("the minute window turned during the test") // a window boundary resets the count
	}
	if !slices.Equal(statuses, []int{200, 200, 429}) {
		t.Fatalf("statuses %v, want 200 200 429", statuses)
	}
	if ra := last.Header["Retry-After"]; ra == "" || ra == "0" {
		t.Errorf("429 without Retry-After: %v", last.Header)
	}
	if d := errorShape(t, "json", last); !strings.HasPrefix(d, "rate_limited") {
		t.Errorf("description %q", d)
	}
	// Another client's limit is its own.
	other := h.issue(`{"name":"quiet app"}`)
	if resp := h.do("GET", "/open311/v2/servicerequestupdates.json"+strings.Replace(window, c.APIKey, other.APIKey, 1), nil); resp.Status != 200 {
		t.Errorf("another client: %d", resp.Status)
	}
}

// TestCountingTwiceIsSafe: the SDK re-sends an UpdateItem whose answer it lost; the counter must count
// the request once (the condition names the last request counted).
func TestCountingTwiceIsSafe(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	store := h.e.Store
	exp := time.Now().Add(2 * time.Minute)
	// Limit 1: req-0 is counted; its re-send is answered as counted; req-1 is over the limit, twice.
	for i, want := range []bool{true, true, false, false} {
		req := fmt.Sprint("req-", i/2)
		ok, err := store.CountRequest(ctx, "c1", "2026-11-30T10:00", req, 1, exp)
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Errorf("count %d (%s): allowed %v, want %v", i, req, ok, want)
		}
	}
	n, _ := h.e.Item("O311RATE#c1", "2026-11-30T10:00")["n"].(*types.AttributeValueMemberN)
	if n == nil || n.Value != "1" {
		t.Errorf("counter %v, want 1", n)
	}
}

func TestAdminRoutesNeedTheAdminRole(t *testing.T) {
	h := newHarness(t, nil)
	req := httptest.NewRequest("POST", "/v1/admin/open311/clients", strings.NewReader(`{"name":"x"}`))
	ev := gateway.Event(req, []byte(`{"name":"x"}`), "POST /v1/admin/open311/clients", map[string]string{"sub": "u1", "cognito:groups": "[citizen staff]"})
	if resp := h.send(h.admin.Handle, ev); resp.Status != 403 {
		t.Errorf("staff created a client: %d %s", resp.Status, resp.Body)
	}
	for _, body := range []string{`{"name":""}`, `{"name":"x","requestsPerMinute":-1}`, `{"name":"x","requestsPerMinute":6001}`, `{"name":"x","key":"mine"}`} {
		if resp := h.adminDo("POST", "/v1/admin/open311/clients", "POST /v1/admin/open311/clients", body, ""); resp.Status != 400 {
			t.Errorf("%s: %d %s", body, resp.Status, resp.Body)
		}
	}
	c := h.issue(`{"name":"City 311","trusted":true,"requestsPerMinute":600}`)
	resp := h.adminDo("GET", "/v1/admin/open311/clients", "GET /v1/admin/open311/clients", "", "")
	if resp.Status != 200 || !strings.Contains(string(resp.Body), c.ID) || strings.Contains(string(resp.Body), c.APIKey[20:]) ||
		strings.Contains(string(resp.Body), open311.HashKey(c.APIKey)) {
		t.Errorf("list: %d %s", resp.Status, resp.Body)
	}
	if resp := h.adminDo("POST", "/v1/admin/open311/clients/0123456789abcdef/revoke", "POST /v1/admin/open311/clients/{id}/revoke", "", "0123456789abcdef"); resp.Status != 404 {
		t.Errorf("revoke unknown: %d %s", resp.Status, resp.Body)
	}
}

func TestTrustedClientFilesForAnAccount(t *testing.T) {
	h := newHarness(t, nil)
	trusted := h.issue(`{"name":"city app","trusted":true}`)
	other := h.issue(`{"name":"other app"}`)
	for _, tc := range []struct {
		key, want string
	}{{trusted.APIKey, "u-42"}, {other.APIKey, "open311-" + other.ID}} {
		f := fileForm(tc.key)
		f.Set("account_id", "u-42")
		resp := h.do("POST", "/open311/v2/requests.json", f)
		if resp.Status != 200 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		id := requestIDs(t, "json", resp)[0]
		if got := fmt.Sprint(plain(h.e.Item("REPORT#"+id, "REPORT"))["reporterSub"]); got != tc.want {
			t.Errorf("reporter %q, want %q", got, tc.want)
		}
		if body := h.do("GET", "/open311/v2/requests/"+id+".json", nil).Body; bytes.Contains(body, []byte("u-42")) {
			t.Errorf("the account id is shown: %s", body)
		}
	}
}

func TestMediaURLIsFetchedCheckedAndStripped(t *testing.T) {
	img := jpegWithEXIF(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/photo.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(img)
		case "/big.jpg":
			_, _ = w.Write(bytes.Repeat([]byte{0xff}, 300<<10))
		case "/text":
			_, _ = w.Write([]byte("not an image"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	h := newHarness(t, map[string]string{"ALLOW_LOOPBACK_WEBHOOKS": "true", "MAX_UPLOAD_BYTES": fmt.Sprint(256 << 10)})
	c := h.issue(`{"name":"app"}`)

	before, objects := h.items(), h.objects()
	for _, tc := range []struct{ path, code string }{{"/big.jpg", "photo_too_large"}, {"/text", "photo_not_image"}, {"/missing", "invalid_media_url"}} {
		f := fileForm(c.APIKey)
		f.Set("media_url", srv.URL+tc.path)
		resp := h.do("POST", "/open311/v2/requests.json", f)
		if d := errorShape(t, "json", resp); resp.Status != 400 || !strings.HasPrefix(d, tc.code) {
			t.Errorf("%s: %d %s, want 400 %s", tc.path, resp.Status, resp.Body, tc.code)
		}
	}
	if got := changed(before, h.items()); len(got) != 0 {
		t.Errorf("refused media wrote %v", got)
	}
	if got := h.objects(); !slices.Equal(got, objects) {
		t.Errorf("refused media stored %v", got)
	}

	f := fileForm(c.APIKey)
	f.Set("media_url", srv.URL+"/photo.jpg")
	resp := h.do("POST", "/open311/v2/requests.json", f)
	if resp.Status != 200 {
		t.Fatalf("POST with media_url: %d %s", resp.Status, resp.Body)
	}
	id := requestIDs(t, "json", resp)[0]
	got := requests(t, "json", h.do("GET", "/open311/v2/requests/"+id+".json", nil))
	if len(got) != 1 || got[0].MediaURL == "" {
		t.Fatalf("no media_url: %+v", got)
	}
	link, err := http.Get(got[0].MediaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Body.Close()
	served, _ := io.ReadAll(link.Body)
	if link.StatusCode != 200 || photo.Sniff(served) != "image/jpeg" || bytes.Contains(served, []byte("GPSLatitude")) || bytes.Contains(served, []byte("Exif")) {
		t.Errorf("media_url serves %d, %d bytes, EXIF left: %v", link.StatusCode, len(served), bytes.Contains(served, []byte("Exif")))
	}
	if !strings.Contains(got[0].MediaURL, "X-Amz-Expires=3600") {
		t.Errorf("media_url is not a one-hour presigned GET: %s", got[0].MediaURL)
	}
}

func TestPagingNewestFirst(t *testing.T) {
	h := newHarness(t, nil)
	c := h.issue(`{"name":"app","requestsPerMinute":100}`)
	var ids []string
	for i := range 3 {
		f := fileForm(c.APIKey)
		f.Set("description", fmt.Sprint("report ", i))
		resp := h.do("POST", "/open311/v2/requests.xml", f)
		if resp.Status != 200 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		ids = append(ids, requestIDs(t, "xml", resp)[0])
		time.Sleep(2 * time.Millisecond) // distinct creation times, so "newest first" has one answer
	}
	resp := h.do("GET", "/open311/v2/requests.xml?page_size=2", nil)
	first := requests(t, "xml", resp)
	link := resp.Header["Link"]
	if len(first) != 2 || first[0].ServiceRequestID != ids[2] || first[1].ServiceRequestID != ids[1] || !strings.Contains(link, `rel="next"`) {
		t.Fatalf("first page %+v, link %q", first, link)
	}
	next, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(link, ";", 2)[0], "<"), ">"))
	if err != nil {
		t.Fatal(err)
	}
	second := requests(t, "xml", h.do("GET", next.RequestURI(), nil))
	if len(second) != 1 || second[0].ServiceRequestID != ids[0] {
		t.Errorf("second page %+v", second)
	}
}

// helpers

// plain is one item as plain values.
func plain(item map[string]types.AttributeValue) map[string]any {
	if item == nil {
		return map[string]any{}
	}
	return testenv.Plain([]map[string]types.AttributeValue{item})[0]
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode JSON %s: %v", b, err)
	}
}

func mustXML(t *testing.T, b []byte, v any) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(xml.Header[:len(xml.Header)-1])) {
		t.Errorf("no XML declaration: %.80s", b)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		t.Fatalf("decode XML %s: %v", b, err)
	}
}

// errorShape checks GeoReport's error shape (a list of code and description, the code the HTTP status)
// and returns the description.
func errorShape(t *testing.T, f string, resp response) string {
	t.Helper()
	var list []open311.ErrorItem
	if f == "json" {
		mustJSON(t, resp.Body, &list)
	} else {
		var e open311.Errors
		mustXML(t, resp.Body, &e)
		list = e.Items
	}
	if len(list) != 1 || list[0].Code != resp.Status || list[0].Description == "" {
		t.Errorf("error shape %s (status %d)", resp.Body, resp.Status)
		return ""
	}
	return list[0].Description
}

func requests(t *testing.T, f string, resp response) []open311.ServiceRequest {
	t.Helper()
	if resp.Status != 200 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	if f == "json" {
		var list []open311.ServiceRequest
		mustJSON(t, resp.Body, &list)
		return list
	}
	var list open311.ServiceRequests
	mustXML(t, resp.Body, &list)
	return list.Items
}

func requestIDs(t *testing.T, f string, resp response) []string {
	t.Helper()
	var ids []string
	for _, r := range requests(t, f, resp) {
		ids = append(ids, r.ServiceRequestID)
	}
	if len(ids) == 0 {
		t.Fatalf("no service_request_id in %s", resp.Body)
	}
	return ids
}

func updates(t *testing.T, f string, resp response) []open311.Update {
	t.Helper()
	if f == "json" {
		var list []open311.Update
		mustJSON(t, resp.Body, &list)
		return list
	}
	var list open311.Updates
	mustXML(t, resp.Body, &list)
	return list.Items
}

func jpegWithEXIF(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		img.Set(x, x, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	payload := []byte("Exif\x00\x00GPSLatitude 23.37 GPSLongitude 103.38")
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, raw[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, raw[2:]...)
}

// TestCountedCalls pins what each Open311 call costs in AWS calls, caches warm (README "Open311").
func TestCountedCalls(t *testing.T) {
	h := newHarness(t, nil)
	c := h.issue(`{"name":"app"}`)
	calls := h.e.Calls
	h.do("GET", "/open311/v2/services.json", nil) // warms the configuration cache
	form := fileForm(c.APIKey)
	h.do("POST", "/open311/v2/requests.json", form) // warms the report service's categories
	day := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))

	measure := func(name string, want map[string]int, do func() response) response {
		t.Helper()
		calls.Reset()
		resp := do()
		if resp.Status != 200 {
			t.Fatalf("%s: %d %s", name, resp.Status, resp.Body)
		}
		got := calls.Snapshot()
		t.Logf("%s: %v", name, got)
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%s: %d %s, want %d (all: %v)", name, got[op], op, n, got)
			}
		}
		total := 0
		for _, n := range want {
			total += n
		}
		if all := calls.Service("DynamoDB") + calls.Service("S3"); all != total {
			t.Errorf("%s: %d calls in all, want %d: %v", name, all, total, got)
		}
		return resp
	}
	form.Set("description", "another lamp")
	// The client (GetItem), its counter (UpdateItem), the report sent again? (GetItem), the report (PutItem).
	resp := measure("POST requests", map[string]int{"DynamoDB.GetItem": 2, "DynamoDB.UpdateItem": 1, "DynamoDB.PutItem": 1},
		func() response { return h.do("POST", "/open311/v2/requests.json", form) })
	id := requestIDs(t, "json", resp)[0]
	measure("POST requests, replayed", map[string]int{"DynamoDB.GetItem": 2, "DynamoDB.UpdateItem": 1},
		func() response { return h.do("POST", "/open311/v2/requests.json", form) })
	measure("GET requests/{id}", map[string]int{"DynamoDB.Query": 1},
		func() response { return h.do("GET", "/open311/v2/requests/"+id+".json", nil) })
	// One Query per local day of the window (an hour may span two), one BatchGetItem of the reports (no
	// lead assignments: nothing dispatched them here).
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	days := 1 + boolInt(time.Now().In(shanghai).Day() != time.Now().Add(-time.Hour).In(shanghai).Day())
	measure("GET requests, an hour's window", map[string]int{"DynamoDB.Query": days, "DynamoDB.BatchGetItem": 1},
		func() response { return h.do("GET", "/open311/v2/requests.json?start_date="+day, nil) })
	measure("GET servicerequestupdates, an hour", map[string]int{"DynamoDB.GetItem": 1, "DynamoDB.UpdateItem": 1, "DynamoDB.Query": 1 + boolInt(time.Now().UTC().Hour() == 0)}, // a Query per UTC day
		func() response {
			return h.do("GET", "/open311/v2/servicerequestupdates.json?api_key="+c.APIKey+"&start_date="+day, nil)
		})
	measure("POST servicerequestupdates", map[string]int{"DynamoDB.GetItem": 1, "DynamoDB.UpdateItem": 1, "DynamoDB.Query": 1, "DynamoDB.TransactWriteItems": 1},
		func() response {
			return h.do("POST", "/open311/v2/servicerequestupdates.json", url.Values{"api_key": {c.APIKey}, "service_request_id": {id}, "update_id": {"u1"}, "description": {"x"}})
		})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDiscoveryNamesThePublicBaseURL: behind a named stage the public path starts with it (the Lambda
// adapter removes it before routing).
func TestDiscoveryNamesThePublicBaseURL(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		stage, proto, want string
	}{
		{"$default", "https", "https://api.example.com/open311/v2/"},
		{"dev", "https", "https://api.example.com/dev/open311/v2/"},
	} {
		req := httptest.NewRequest("GET", "/open311/v2/discovery.json", nil)
		req.Host = "api.example.com"
		req.Header.Set("X-Forwarded-Proto", tc.proto)
		ev := gateway.Event(req, nil, "GET /open311/v2/discovery.json", nil)
		ev.RequestContext.Stage = tc.stage
		if tc.stage != "$default" {
			ev.RawPath = "/" + tc.stage + ev.RawPath
		}
		resp := h.send(h.fn.Handle, ev)
		var d open311.Discovery
		mustJSON(t, resp.Body, &d)
		if resp.Status != 200 || len(d.Endpoints) != 1 || d.Endpoints[0].URL != tc.want ||
			!slices.Equal(d.Endpoints[0].Formats, []string{"text/xml", "application/json"}) {
			t.Errorf("stage %s: %d %s, want %s", tc.stage, resp.Status, resp.Body, tc.want)
		}
	}
}
