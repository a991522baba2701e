package fuzz

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/civicsnap/civicsnap/shared/webhook"
)

// model says how to make a valid request for one route; the fuzzer then damages it. Every POST, PUT and DELETE
// route of template.yaml needs one (TestEveryWriteRouteHasAModel); GET routes with query parameters have
// one for their query strings.
type model struct {
	// build returns a valid request (path parameters filled in) and the JSON body, nil for none.
	build func(g *gen, f *fixture) (Request, map[string]any)
	// query lists the route's query parameters and a valid value of each.
	query func(g *gen, f *fixture) url.Values
}

// fuzzEpoch anchors the times the models make, so a seed repeats its requests.
var fuzzEpoch = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// models by route key as template.yaml writes it.
var models = merged(map[string]model{
	"POST /v1/uploads": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		who := pick(g, []Caller{citizenA, citizenB, staffOf(pick(g, f.depts))})
		return Request{Method: "POST", Path: "/v1/uploads", As: &who},
			map[string]any{"contentType": pick(g, []string{"image/jpeg", "image/png", "image/webp", "image/heic"}), "size": float64(1 + g.intn(1<<20))}
	}},
	"POST /v1/reports": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		f.mu.Lock()
		keys := append([]string(nil), f.citizenKeys...)
		f.mu.Unlock()
		body := map[string]any{
			"category": pick(g, []string{"rubbish", "street_light", "illegal_parking", "damaged_road", "noise", "other"}), "description": "fuzz",
			"location": map[string]any{"lat": 23.21 + g.r.Float64()*0.38, "lng": 103.16 + g.r.Float64()*0.43}, "photoKeys": []any{pick(g, keys)},
		}
		if g.chance(0.5) {
			body["address"] = "天马路 1 号"
		}
		if g.chance(0.3) {
			body["anonymous"] = true
		}
		return Request{Method: "POST", Path: "/v1/reports", As: &citizenA, Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, body
	}},
	"POST /v1/departments/{dept}/events": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		r := pick(g, f.snapshotReports())
		dept := r.Dept
		if dept == "" || g.chance(0.2) {
			dept = pick(g, f.depts)
		}
		body := map[string]any{"type": "report." + pick(g, []string{"accepted", "progress", "resolved", "rejected", "reassign"}), "reportId": r.ID}
		switch body["type"] {
		case "report.progress":
			body["note"] = "fuzz progress"
		case "report.resolved":
			body["proofPhotoKeys"] = []any{f.deptKeys[dept]}
		case "report.rejected":
			body["reason"] = pick(g, []string{"invalid", "duplicate", "not_ours"})
		case "report.reassign":
			body["toDept"] = pick(g, f.depts)
			body["assists"] = []any{pick(g, f.depts)}
		}
		return Request{Method: "POST", Path: "/v1/departments/" + dept + "/events", SignAs: dept,
			Header: map[string]string{webhook.HeaderID: "msg_fuzz_" + strconv.Itoa(g.intn(1<<30))}}, body
	}},
	"POST /v1/departments/{dept}/uploads": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		dept := pick(g, f.depts)
		return Request{Method: "POST", Path: "/v1/departments/" + dept + "/uploads", SignAs: dept,
				Header: map[string]string{webhook.HeaderID: "msg_fuzz_" + strconv.Itoa(g.intn(1<<30))}},
			map[string]any{"contentType": "image/png", "size": float64(1 + g.intn(1<<20))}
	}},
	"POST /v1/dept/reports/{id}/transitions": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		r := pick(g, f.snapshotReports())
		dept := r.Dept
		if dept == "" || g.chance(0.2) {
			dept = pick(g, f.depts)
		}
		staff := staffOf(dept)
		body := map[string]any{"to": pick(g, []string{"accepted", "in_progress", "resolved", "rejected", "dispatched"})}
		switch body["to"] {
		case "in_progress":
			body["note"] = "fuzz"
		case "resolved":
			body["proofPhotoKeys"] = []any{f.staffKeys[dept]}
		case "rejected":
			body["reason"] = pick(g, []string{"invalid", "duplicate", "not_ours"})
		case "dispatched":
			body["toDept"] = pick(g, f.depts)
			body["assists"] = []any{pick(g, f.depts)}
		}
		return Request{Method: "POST", Path: "/v1/dept/reports/" + r.ID + "/transitions", As: &staff}, body
	}},
	"PUT /v1/admin/departments/{id}": {build: configPut("departments", func(f *fixture) []string { return f.depts })},
	"PUT /v1/admin/areas/{id}":       {build: configPut("areas", func(f *fixture) []string { return f.areas })},
	"PUT /v1/admin/rules/{id}":       {build: configPut("rules", func(f *fixture) []string { return f.rules })},
	"PUT /v1/admin/catalog/{id}":     {build: configPut("catalog", func(f *fixture) []string { return f.items })},
	"PUT /v1/admin/point-rules":      {build: configPut("point-rules", nil)},
	"POST /v1/admin/deliveries/redrive": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		return Request{Method: "POST", Path: "/v1/admin/deliveries/redrive", As: &admin}, map[string]any{}
	}},
	"POST /v1/admin/reports/{id}/revoke": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		r := pick(g, f.snapshotReports())
		return Request{Method: "POST", Path: "/v1/admin/reports/" + r.ID + "/revoke", As: &admin}, map[string]any{"reason": "fuzz"}
	}},
	"POST /v1/reports/{id}/metoo": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		r := pick(g, f.snapshotReports())
		return Request{Method: "POST", Path: "/v1/reports/" + r.ID + "/metoo", As: pick(g, []*Caller{&citizenA, &citizenB})}, nil
	}},
	"POST /v1/reports/{id}/confirm": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		r := pick(g, f.snapshotReports())
		return Request{Method: "POST", Path: "/v1/reports/" + r.ID + "/confirm", As: pick(g, []*Caller{&citizenA, &citizenB}),
			Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, map[string]any{"rating": float64(g.intn(7)), "comment": "fuzz"}
	}},
	"POST /v1/reports/{id}/contest": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		r := pick(g, f.snapshotReports())
		f.mu.Lock()
		keys := append([]string(nil), f.citizenKeys...)
		f.mu.Unlock()
		return Request{Method: "POST", Path: "/v1/reports/" + r.ID + "/contest", As: pick(g, []*Caller{&citizenA, &citizenB}),
			Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, map[string]any{"photoKeys": []any{pick(g, keys)}, "comment": "fuzz"}
	}},
	"POST /v1/admin/open311/clients": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		return Request{Method: "POST", Path: "/v1/admin/open311/clients", As: &admin},
			map[string]any{"name": "fuzz client", "trusted": g.chance(0.5), "requestsPerMinute": float64(g.intn(100))}
	}},
	"POST /v1/admin/open311/clients/{id}/revoke": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		return Request{Method: "POST", Path: "/v1/admin/open311/clients/" + f.open311Revocable + "/revoke", As: &admin}, nil
	}},
	"POST /open311/v2/requests.json":              {build: open311Request("/open311/v2/requests.json")},
	"POST /open311/v2/requests.xml":               {build: open311Request("/open311/v2/requests.xml")},
	"POST /open311/v2/servicerequestupdates.json": {build: open311Update("/open311/v2/servicerequestupdates.json")},
	"POST /open311/v2/servicerequestupdates.xml":  {build: open311Update("/open311/v2/servicerequestupdates.xml")},
	"POST /v1/redemptions": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		body := map[string]any{"itemId": pick(g, f.items)}
		switch body["itemId"] {
		case "fuzz-goods", "rice-5kg", "umbrella", "bus-card-20":
			body["quantity"] = float64(1 + g.intn(3))
		case "fuzz-cause", "library-fund":
			body["amount"] = float64(1 + g.intn(20))
		case "fuzz-credit", "credit-units":
			body["amount"] = float64(50 * (1 + g.intn(2)))
		}
		return Request{Method: "POST", Path: "/v1/redemptions", As: &citizenA, Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, body
	}},
	"POST /v1/redemptions/{id}/fulfil": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		f.mu.Lock()
		r := pick(g, f.redemptions)
		f.mu.Unlock()
		code := r.Code
		if g.chance(0.5) {
			code = fmt.Sprintf("%06d", g.intn(1_000_000))
		}
		return Request{Method: "POST", Path: "/v1/redemptions/" + r.ID + "/fulfil", As: &clerk}, map[string]any{"pickupCode": code}
	}},
	"POST /v1/redemptions/{id}/verify": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		f.mu.Lock()
		r := pick(g, f.redemptions)
		f.mu.Unlock()
		code := r.Code
		if g.chance(0.5) {
			code = fmt.Sprintf("%06d", g.intn(1_000_000))
		}
		return Request{Method: "POST", Path: "/v1/redemptions/" + r.ID + "/verify", As: &clerk}, map[string]any{"pickupCode": code}
	}},
	"POST /v1/redemptions/{id}/cancel": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		f.mu.Lock()
		r := pick(g, f.redemptions)
		f.mu.Unlock()
		return Request{Method: "POST", Path: "/v1/redemptions/" + r.ID + "/cancel", As: &citizenA}, nil
	}},

	"POST /v1/me/notifications/read": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		return Request{Method: "POST", Path: "/v1/me/notifications/read", As: pick(g, []*Caller{&citizenA, &citizenB})},
			map[string]any{"before": fuzzEpoch.Add(time.Duration(g.intn(1<<20)) * time.Minute).Format(time.RFC3339Nano)}
	}},
	"POST /v1/me/notifications/{id}/read": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		// A notification id's shape (most are no one's: 404), the fuzzer damages it from there.
		id := fmt.Sprintf("%013d-%020x", fuzzEpoch.UnixMilli()+int64(g.intn(1<<30)), g.r.Uint64())
		return Request{Method: "POST", Path: "/v1/me/notifications/" + id + "/read", As: &citizenA}, nil
	}},
	"PUT /v1/me/notification-preferences": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		body := map[string]any{"push": map[string]any{pick(g, []string{"report.dispatched", "report.accepted", "report.resolved", "redemption.ready"}): g.chance(0.5)}}
		if g.chance(0.5) {
			body["quietHours"] = map[string]any{"start": fmt.Sprintf("%02d:00", g.intn(24)), "end": fmt.Sprintf("%02d:30", g.intn(24))}
		}
		return Request{Method: "PUT", Path: "/v1/me/notification-preferences", As: pick(g, []*Caller{&citizenA, &citizenB})}, body
	}},
	"PUT /v1/me/devices/{id}": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		return Request{Method: "PUT", Path: "/v1/me/devices/fuzz-" + strconv.Itoa(g.intn(12)), As: pick(g, []*Caller{&citizenA, &citizenB})},
			map[string]any{"platform": pick(g, []string{"fcm", "apns"}), "token": "fuzz-token-" + strconv.Itoa(g.intn(1<<20))}
	}},
	"DELETE /v1/me/devices/{id}": {build: func(g *gen, f *fixture) (Request, map[string]any) {
		return Request{Method: "DELETE", Path: "/v1/me/devices/fuzz-" + strconv.Itoa(g.intn(12)), As: pick(g, []*Caller{&citizenA, &citizenB})}, nil
	}},

	"GET /v1/me/notifications": {query: pageQuery, build: getAs(citizenA, "/v1/me/notifications")},
	"GET /v1/me/reports":       {query: pageQuery, build: getAs(citizenA, "/v1/me/reports")},
	"GET /v1/me/ledger":        {query: pageQuery, build: getAs(citizenA, "/v1/me/ledger")},
	"GET /v1/me/redemptions":   {query: pageQuery, build: getAs(citizenA, "/v1/me/redemptions")},
	"GET /v1/dept/reports": {query: func(g *gen, f *fixture) url.Values {
		q := pageQuery(g, f)
		q.Set("status", pick(g, []string{"dispatched", "accepted", "in_progress", "needs_triage", "resolved", "rejected", "duplicate"}))
		return q
	}, build: func(g *gen, f *fixture) (Request, map[string]any) {
		staff := staffOf(pick(g, f.depts))
		return Request{Method: "GET", Path: "/v1/dept/reports", As: &staff}, nil
	}},
	"GET /v1/admin/deliveries": {query: func(g *gen, f *fixture) url.Values {
		q := pageQuery(g, f)
		q.Set("dept", pick(g, f.depts))
		return q
	}, build: getAs(admin, "/v1/admin/deliveries")},
	"GET /v1/admin/redemptions": {query: func(g *gen, f *fixture) url.Values {
		q := pageQuery(g, f)
		q.Set("itemId", pick(g, f.items))
		return q
	}, build: getAs(admin, "/v1/admin/redemptions")},
	"GET /v1/public/reports": {query: func(g *gen, f *fixture) url.Values {
		q := url.Values{"limit": {strconv.Itoa(1 + g.intn(100))}} // other routes' cursors are another query's
		lat, lng, d := 23.2+0.4*float64(g.intn(1000))/1000, 103.15+0.45*float64(g.intn(1000))/1000, []float64{0.001, 0.01, 0.1, 0.5}[g.intn(4)]
		q.Set("bbox", fmt.Sprintf("%.5f,%.5f,%.5f,%.5f", lat-d, lng-d, lat+d, lng+d))
		if g.chance(0.5) {
			q.Set("status", pick(g, []string{"open", "resolved", "dispatched,accepted", "in_progress"}))
		}
		if g.chance(0.3) {
			q.Set("category", pick(g, []string{"street_light", "rubbish", "other"}))
		}
		if g.chance(0.3) {
			q.Set("since", fuzzEpoch.Add(-time.Duration(g.intn(72))*time.Hour).Format(time.RFC3339))
		}
		return q
	}, build: func(*gen, *fixture) (Request, map[string]any) {
		return Request{Method: "GET", Path: "/v1/public/reports"}, nil
	}},
	"GET /v1/kpi/summary":     {query: rangeQuery, build: getAs(admin, "/v1/kpi/summary")},
	"GET /v1/kpi/daily":       {query: rangeQuery, build: getAs(admin, "/v1/kpi/daily")},
	"GET /v1/kpi/departments": {query: rangeQuery, build: getAs(admin, "/v1/kpi/departments")},
}, volunteerModels(), builderModels())

// idemKey is a fresh key, or now and then one used before (a replay, or the same key with another body).
func idemKey(g *gen, f *fixture) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.idemKeysUsed) > 0 && g.chance(0.1) {
		return pick(g, f.idemKeysUsed)
	}
	k := "fuzz-" + strconv.FormatUint(g.r.Uint64(), 36)
	if len(f.idemKeysUsed) < 100 {
		f.idemKeysUsed = append(f.idemKeysUsed, k)
	}
	return k
}

// configPut builds a PUT of a configuration document read at setup, under one of ids (nil: no id).
func configPut(kind string, ids func(*fixture) []string) func(g *gen, f *fixture) (Request, map[string]any) {
	return func(g *gen, f *fixture) (Request, map[string]any) {
		name, path := kind, "/v1/admin/"+kind
		if ids != nil {
			id := pick(g, ids(f))
			name, path = kind+"/"+id, path+"/"+id
		}
		f.mu.Lock()
		doc := cloneJSON(f.configs[name]).(map[string]any)
		f.mu.Unlock()
		return Request{Method: "PUT", Path: path, As: &admin}, doc
	}
}

func getAs(who Caller, path string) func(g *gen, f *fixture) (Request, map[string]any) {
	return func(*gen, *fixture) (Request, map[string]any) {
		return Request{Method: "GET", Path: path, As: &who}, nil
	}
}

func pageQuery(g *gen, f *fixture) url.Values {
	q := url.Values{"limit": {strconv.Itoa(1 + g.intn(100))}}
	f.mu.Lock()
	cursors := append([]string(nil), f.cursors...)
	f.mu.Unlock()
	if len(cursors) > 0 && g.chance(0.5) {
		q.Set("cursor", pick(g, cursors))
	}
	return q
}

func rangeQuery(g *gen, _ *fixture) url.Values {
	return url.Values{"from": {fmt.Sprintf("2026-%02d-%02d", 1+g.intn(12), 1+g.intn(28))}, "to": {fmt.Sprintf("2026-%02d-%02d", 1+g.intn(12), 1+g.intn(28))}}
}

// damageQuery changes one or two query parameters: an edge string, a forged cursor, a repeated or unknown
// parameter, or raw bytes in the query string.
func damageQuery(g *gen, f *fixture, q url.Values) string {
	names := []string{"cursor", "limit", "status", "dept", "itemId", "from", "to", g.str()}
	for range 1 + g.intn(2) {
		name := pick(g, names)
		switch {
		case name == "cursor" && g.chance(0.7):
			f.mu.Lock()
			seen := append([]string(nil), f.cursors...)
			f.mu.Unlock()
			q.Set(name, g.cursor(seen))
		case g.chance(0.2):
			q.Add(name, g.str())
		case g.chance(0.1):
			q.Del(name)
		default:
			q.Set(name, g.str())
		}
	}
	s := q.Encode()
	if g.chance(0.1) {
		s += pick(g, []string{"&", "&&", "=", "%", "%zz", "&limit", ";limit=5", "&cursor=%00"})
	}
	return s
}

// damagePath replaces one path segment that carries a parameter of the route pattern.
func damagePath(g *gen, route, path string) string {
	pattern := strings.Split(strings.SplitN(route, " ", 2)[1], "/")
	segs := strings.Split(path, "/")
	var params []int
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && i < len(segs) {
			params = append(params, i)
		}
	}
	if len(params) == 0 {
		return path
	}
	segs[pick(g, params)] = g.pathParam(nil)
	return strings.Join(segs, "/")
}
