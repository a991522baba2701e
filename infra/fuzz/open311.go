package fuzz

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
)

// Open311's writes are forms, not JSON: their models build the form and damage it themselves (a value
// replaced by an edge string, which may be invalid UTF-8, or a field dropped), since the body mutators
// work on JSON. The api_key is the fixture's client's, now and then another or none.

func open311Form(g *gen, f *fixture, fields url.Values) []byte {
	fields.Set("api_key", f.open311Key)
	if g.chance(0.1) {
		fields.Set("api_key", pick(g, []string{"", "o311_0000000000000000_" + g.str(), g.str()}))
	}
	if g.chance(0.1) {
		fields.Set("jurisdiction_id", pick(g, []string{"mengzi", "kunming", g.str()}))
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) { // in order: one seed, one run
		switch {
		case k == "api_key":
		case g.chance(0.08):
			fields.Set(k, g.str())
		case g.chance(0.04):
			fields.Del(k)
		}
	}
	return []byte(fields.Encode())
}

func open311Request(path string) func(g *gen, f *fixture) (Request, map[string]any) {
	return func(g *gen, f *fixture) (Request, map[string]any) {
		form := url.Values{
			"service_code": {pick(g, []string{"street_light", "rubbish", "manhole_cover", "noise", "volcano"})},
			"lat":          {strconv.FormatFloat(23.21+g.r.Float64()*0.38, 'f', 6, 64)},
			"long":         {strconv.FormatFloat(103.16+g.r.Float64()*0.43, 'f', 6, 64)},
			"description":  {"fuzz\r\nopen311"}, "first_name": {"Fuzz"}, "email": {"fuzz@example.org"},
			"attribute[fault]": {pick(g, []string{"dark", "flickering", "exploded"})}, "attribute[cover_state]": {"missing"},
		}
		if g.chance(0.3) {
			form.Set("address_string", "天马路 1 号")
		}
		if g.chance(0.05) {
			// Refused by the egress guard before any connection (or, on loopback, by a closed port).
			form.Set("media_url", pick(g, []string{"https://169.254.169.254/latest", "http://127.0.0.1:1/a.jpg", "ftp://x/y", g.str()}))
		}
		if g.chance(0.1) { // a citizen's report: not an Open311 client's to update
			form.Set("service_request_id", pick(g, f.snapshotReports()).ID)
		}
		return Request{Method: "POST", Path: path, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body: open311Form(g, f, form)}, nil
	}
}

func open311Update(path string) func(g *gen, f *fixture) (Request, map[string]any) {
	return func(g *gen, f *fixture) (Request, map[string]any) {
		form := url.Values{
			"service_request_id": {f.open311Report}, "update_id": {"fuzz-" + strconv.Itoa(g.intn(1000))},
			"status": {"OPEN"}, "description": {"fuzz update"}, "email": {"fuzz@example.org"},
		}
		if g.chance(0.1) { // a citizen's report: not an Open311 client's to update
			form.Set("service_request_id", pick(g, f.snapshotReports()).ID)
		}
		return Request{Method: "POST", Path: path, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body: open311Form(g, f, form)}, nil
	}
}
