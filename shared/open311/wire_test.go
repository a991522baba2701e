package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// elements parses b as XML, failing on anything not well-formed, and returns the root's name and every
// element's path ("service_requests/request/lat").
func elements(t *testing.T, b []byte) (root string, paths []string) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("no XML declaration naming UTF-8: %.60s", b)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name.Local)
			if len(stack) == 1 {
				root = el.Name.Local
			}
			if p := strings.Join(stack, "/"); !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	return root, paths
}

func ptr(f float64) *float64 { return &f }

func TestEncodeXMLIsWellFormedWithTheSpecsElementNames(t *testing.T) {
	cases := []struct {
		name     string
		v        any
		root     string
		contains []string
	}{
		{"discovery", Discovery{Changeset: "2026-11-30T00:00:00Z", Endpoints: []Endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: "https://x/open311/v2/", Type: "production", Formats: []string{"text/xml", "application/json"}}}},
			"discovery", []string{"discovery/changeset", "discovery/endpoints/endpoint/specification", "discovery/endpoints/endpoint/url", "discovery/endpoints/endpoint/formats/format"}},
		{"services", Services{Items: []ServiceItem{{ServiceCode: "street_light", ServiceName: "路灯", Description: "Street lights", Metadata: true, Type: "realtime", Keywords: "lamp,light", Group: "市政"}}},
			"services", []string{"services/service/service_code", "services/service/service_name", "services/service/description", "services/service/metadata", "services/service/type", "services/service/keywords", "services/service/group"}},
		{"definition", ServiceDefinition{ServiceCode: "street_light", Attributes: []ServiceAttribute{{Variable: true, Code: "fault", Datatype: "singlevaluelist", Required: true, Order: 1, Description: "故障", Values: []AttributeValue{{Key: "dark", Name: "不亮"}}}}},
			"service_definition", []string{"service_definition/service_code", "service_definition/attributes/attribute/variable", "service_definition/attributes/attribute/code", "service_definition/attributes/attribute/datatype", "service_definition/attributes/attribute/required", "service_definition/attributes/attribute/datatype_description", "service_definition/attributes/attribute/order", "service_definition/attributes/attribute/description", "service_definition/attributes/attribute/values/value/key", "service_definition/attributes/attribute/values/value/name"}},
		{"requests", ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: "r1", Status: Open, StatusNotes: "<已受理> & 处理中", ServiceName: "路灯", ServiceCode: "street_light", Description: "灯 \"不亮\"\n第二行", AgencyResponsible: "市政", RequestedDatetime: "2026-11-30T17:52:08+08:00", UpdatedDatetime: "2026-11-30T17:52:08+08:00", ExpectedDatetime: "2026-12-03T17:52:08+08:00", Address: "天马路", Lat: ptr(23.37), Long: ptr(103.39), MediaURL: "https://b/p.jpg?X-Amz-Signature=a&b=c"}}},
			"service_requests", []string{"service_requests/request/service_request_id", "service_requests/request/status", "service_requests/request/status_notes", "service_requests/request/service_name", "service_requests/request/service_code", "service_requests/request/description", "service_requests/request/agency_responsible", "service_requests/request/requested_datetime", "service_requests/request/updated_datetime", "service_requests/request/expected_datetime", "service_requests/request/address", "service_requests/request/lat", "service_requests/request/long", "service_requests/request/media_url"}},
		{"token", ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: "r1", Token: "r1"}}},
			"service_requests", []string{"service_requests/request/service_request_id", "service_requests/request/token"}},
		{"updates", Updates{Items: []Update{{UpdateID: "u1", ServiceRequestID: "r1", Status: "fixed", UpdatedDatetime: "2026-11-30T17:52:08+08:00", Description: "修好了", MediaURL: "https://b/p.jpg"}}},
			"service_request_updates", []string{"service_request_updates/request_update/update_id", "service_request_updates/request_update/service_request_id", "service_request_updates/request_update/status", "service_request_updates/request_update/updated_datetime", "service_request_updates/request_update/description", "service_request_updates/request_update/media_url"}},
		{"errors", Errors{Items: []ErrorItem{{Code: 400, Description: "invalid_parameter: lat <must> be & a number"}}},
			"errors", []string{"errors/error/code", "errors/error/description"}},
		{"empty list", ServiceRequests{}, "service_requests", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(XML, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			root, paths := elements(t, b)
			if root != tc.root {
				t.Errorf("root %q, want %q", root, tc.root)
			}
			for _, want := range tc.contains {
				if !slices.Contains(paths, want) {
					t.Errorf("no element %s in\n%s", want, b)
				}
			}
		})
	}
}

func TestEncodeXMLEscapesText(t *testing.T) {
	b, err := Encode(XML, Errors{Items: []ErrorItem{{Code: 400, Description: `a <b> & "c"`}}})
	if err != nil {
		t.Fatal(err)
	}
	var got Errors
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Items[0].Description != `a <b> & "c"` || got.Items[0].Code != 400 {
		t.Errorf("round trip %+v", got)
	}
}

func TestEncodeJSONListsAreArraysWithTheSpecsKeys(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"empty requests", ServiceRequests{}, `[]`},
		{"errors", Errors{Items: []ErrorItem{{Code: 403, Description: "api_key_invalid: x"}}}, `[{"code":403,"description":"api_key_invalid: x"}]`},
		{"post answer", ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: "r1", ServiceNotice: "n"}}}, `[{"service_request_id":"r1","service_notice":"n"}]`},
		{"token", ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: "r1", Token: "r1"}}}, `[{"service_request_id":"r1","token":"r1"}]`},
		{"services", Services{Items: []ServiceItem{{ServiceCode: "noise", ServiceName: "噪音", Description: "Noise", Type: "realtime", Group: "生态环境"}}},
			`[{"service_code":"noise","service_name":"噪音","description":"Noise","metadata":false,"type":"realtime","keywords":"","group":"生态环境"}]`},
		{"definition", ServiceDefinition{ServiceCode: "noise", Attributes: []ServiceAttribute{}}, `{"service_code":"noise","attributes":[]}`},
		{"update posted", Updates{Items: []Update{{UpdateID: "u1"}}}, `[{"update_id":"u1"}]`},
		{"location", ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: "r1", Lat: ptr(23.5), Long: ptr(103.25)}}}, `[{"service_request_id":"r1","lat":23.5,"long":103.25}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(JSON, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(b)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(b) {
				t.Errorf("invalid JSON %s", b)
			}
		})
	}
}

func TestSplitFormat(t *testing.T) {
	cases := []struct {
		in, name string
		f        Format
		ok       bool
	}{
		{"services.json", "services", JSON, true},
		{"street_light.xml", "street_light", XML, true},
		{"0196d4a2-8c1f-8e5b-9c3d-aa11bb22cc33.json", "0196d4a2-8c1f-8e5b-9c3d-aa11bb22cc33", JSON, true},
		{"a.b.xml", "a.b", XML, true},
		{"services", "", "", false},
		{"services.html", "", "", false},
		{".json", "", "", false},
		{"services.JSON", "", "", false},
	}
	for _, tc := range cases {
		name, f, ok := SplitFormat(tc.in)
		if name != tc.name || f != tc.f || ok != tc.ok {
			t.Errorf("SplitFormat(%q) = %q, %q, %v; want %q, %q, %v", tc.in, name, f, ok, tc.name, tc.f, tc.ok)
		}
	}
}

func TestW3CDatesCarryAZoneAndAT(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 30, 9, 52, 8, 123e6, time.UTC)
	cases := []struct {
		tz   *time.Location
		want string
	}{
		{shanghai, "2026-11-30T17:52:08+08:00"},
		{time.UTC, "2026-11-30T09:52:08Z"},
		{time.FixedZone("", -5*3600), "2026-11-30T04:52:08-05:00"},
	}
	for _, tc := range cases {
		if got := W3C(at, tc.tz); got != tc.want {
			t.Errorf("W3C in %v = %q, want %q", tc.tz, got, tc.want)
		}
	}
	if W3C(time.Time{}, shanghai) != "" {
		t.Error("zero time should be empty")
	}
}

func TestParseW3C(t *testing.T) {
	want := time.Date(2026, 11, 30, 9, 52, 0, 0, time.UTC)
	cases := []struct {
		in string
		ok bool
	}{
		{"2026-11-30T09:52:00Z", true},
		{"2026-11-30T17:52:00+08:00", true},
		{"2026-11-30T09:52:00.000Z", true},
		{"2026-11-30T09:52Z", true},
		{"2026-11-30T17:52:00+0800", false},
		{"2026-11-30 09:52:00Z", false},
		{"2026-11-30T09:52:00", false},
		{"2026-11-30", false},
		{"", false},
	}
	for _, tc := range cases {
		got, err := ParseW3C(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseW3C(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && !got.Equal(want) {
			t.Errorf("ParseW3C(%q) = %v, want %v", tc.in, got, want)
		}
	}
}

func TestStatusMapping(t *testing.T) {
	cases := []struct {
		status    report.Status
		actor     string
		geoReport string
		extension string
	}{
		{report.Submitted, "citizen", Open, "open"},
		{report.Dispatched, "system", Open, "open"},
		{report.Dispatched, "command_center", Open, "open"}, // reassigned by the command center
		{report.Accepted, "municipal", Open, "action_scheduled"},
		{report.InProgress, "municipal", Open, "in_progress"},
		{report.NeedsTriage, "system", Open, "investigating"},        // no rule routed it
		{report.NeedsTriage, "municipal", Open, "internal_referral"}, // rejected as not ours
		{report.Resolved, "municipal", Closed, "fixed"},
		{report.Duplicate, "system", Closed, "duplicate"},
		{report.Duplicate, "municipal", Closed, "duplicate"},
		{report.Rejected, "municipal", Closed, "no_further_action"},
		{report.Revoked, "admin", Closed, "closed"},
	}
	for _, tc := range cases {
		if got := StatusOf(tc.status); got != tc.geoReport {
			t.Errorf("StatusOf(%s) = %s, want %s", tc.status, got, tc.geoReport)
		}
		if got := UpdateStatus(tc.status, tc.actor); got != tc.extension {
			t.Errorf("UpdateStatus(%s, %s) = %s, want %s", tc.status, tc.actor, got, tc.extension)
		}
	}
}

func TestErrorAnswer(t *testing.T) {
	cases := []struct {
		err    error
		status int
		prefix string
		retry  time.Duration
	}{
		{ErrKeyInvalid, http.StatusForbidden, "api_key_invalid: ", 0},
		{ErrKeyRequired, http.StatusBadRequest, "api_key_required: ", 0},
		{ErrJurisdiction, http.StatusNotFound, "unknown_jurisdiction: ", 0},
		{report.ErrOutsideCity, http.StatusBadRequest, "location_outside_city: ", 0},
		{&LimitError{RetryAfter: 12 * time.Second}, http.StatusTooManyRequests, "rate_limited: ", 12 * time.Second},
		{apperr.ErrContention, http.StatusServiceUnavailable, "write_conflict: ", time.Second},
		{errors.New("secret detail"), http.StatusInternalServerError, "internal: internal error", 0},
	}
	for _, tc := range cases {
		status, body, retry := ErrorAnswer(tc.err)
		if status != tc.status || len(body.Items) != 1 || body.Items[0].Code != tc.status ||
			!strings.HasPrefix(body.Items[0].Description, tc.prefix) || retry != tc.retry {
			t.Errorf("ErrorAnswer(%v) = %d %+v %v; want %d %q… %v", tc.err, status, body, retry, tc.status, tc.prefix, tc.retry)
		}
	}
}

func TestKeys(t *testing.T) {
	id, key := newKey()
	if !ValidClientID(id) {
		t.Fatalf("client id %q has not the issued shape", id)
	}
	got, ok := clientIDOfKey(key)
	if !ok || got != id {
		t.Fatalf("clientIDOfKey(%q) = %q, %v; want %q", key, got, ok, id)
	}
	c := Client{ID: id, KeyHash: HashKey(key)}
	if !keyMatches(c, key) {
		t.Error("the issued key does not match its hash")
	}
	other := key[:len(key)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", key[len(key)-1])+1)%16])
	if keyMatches(c, other) {
		t.Error("a key differing in its last digit matches")
	}
	for _, bad := range []string{"", "o311_", key + "0", strings.ToUpper(key), strings.Replace(key, "o311_", "o312_", 1), "o311_" + id + "-" + key[len(key)-64:]} {
		if _, ok := clientIDOfKey(bad); ok {
			t.Errorf("clientIDOfKey accepted %q", bad)
		}
	}
	if _, key2 := newKey(); key2 == key {
		t.Error("two keys are equal")
	}
}
