package fuzz

import (
	"fmt"
	"time"
)

// The volunteer service's write routes (issue 15), DELETE included. The fixture's first activity is never cancelled, so the
// sign-up and attendance routes keep one open activity to act on.

// activityBody is a valid publication for the seeded team qingsao, starting at start, at Mengzi's centre.
func activityBody(start time.Time) map[string]any {
	return map[string]any{
		"teamId": "qingsao", "type": "cleanup", "title": "全民清扫日 fuzz", "description": "fuzz",
		"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339),
		"place":    map[string]any{"name": "天马路口", "lat": 23.3962, "lng": 103.3756, "radiusM": 300},
		"capacity": 3, "skills": []any{"清扫"},
	}
}

func (f *fixture) activity(g *gen, cancellable bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	const unknown = "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"
	first := 0
	if cancellable {
		first = 1 // never the fixture's own
	}
	if len(f.activities) <= first {
		return unknown // none yet: an unknown id, answered 404
	}
	return pick(g, f.activities[first:])
}

func volunteerModels() map[string]model {
	citizen := func(g *gen) *Caller { return pick(g, []*Caller{&citizenA, &citizenB}) }
	sub := func(g *gen) string { return pick(g, []string{citizenA.Sub, citizenB.Sub}) }
	boss := func(g *gen) *Caller { return pick(g, []*Caller{&organiser, &admin, &citizenA}) }
	punch := func(path string) func(g *gen, f *fixture) (Request, map[string]any) {
		return func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/activities/" + f.activity(g, false) + path, As: citizen(g)},
				map[string]any{"code": fmt.Sprintf("%06d", g.intn(1000000)),
					"location": map[string]any{"lat": 23.3962 + (g.r.Float64()-0.5)*0.01, "lng": 103.3756 + (g.r.Float64()-0.5)*0.01}}
		}
	}
	return map[string]model{
		"PUT /v1/me/volunteer": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "PUT", Path: "/v1/me/volunteer", As: citizen(g)},
				map[string]any{"name": "fuzz volunteer", "skills": []any{"清扫", "急救"}, "area": pick(g, f.areas)}
		}},
		"POST /v1/volunteers/{sub}/verify": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/volunteers/" + sub(g) + "/verify", As: boss(g)}, nil
		}},
		"PUT /v1/admin/teams/{id}": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "PUT", Path: "/v1/admin/teams/fuzz-team", As: &admin},
				map[string]any{"name": "fuzz team", "kind": pick(g, []string{"group", "service_team", "kiosk", "post"}), "organisers": []any{organiser.Sub}}
		}},
		"POST /v1/teams/{id}/members": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/teams/" + pick(g, []string{"qingsao", "aizaizhoumo", "jinguo", "jiaotong", "kiosk-nanhu"}) + "/members", As: citizen(g)}, nil
		}},
		"POST /v1/activities": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			start := fuzzEpoch.AddDate(0, 1, g.intn(60)).Add(time.Duration(g.intn(24)) * time.Hour)
			return Request{Method: "POST", Path: "/v1/activities", As: boss(g), Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, activityBody(start)
		}},
		"DELETE /v1/teams/{id}/members/me": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "DELETE", Path: "/v1/teams/" + pick(g, []string{"qingsao", "aizaizhoumo", "jinguo", "jiaotong", "kiosk-nanhu"}) + "/members/me", As: citizen(g)}, nil
		}},
		"DELETE /v1/activities/{id}/signups/me": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "DELETE", Path: "/v1/activities/" + f.activity(g, false) + "/signups/me", As: citizen(g)}, nil
		}},
		"POST /v1/activities/{id}/cancel": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/activities/" + f.activity(g, true) + "/cancel", As: boss(g)}, nil
		}},
		"POST /v1/activities/{id}/signups": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/activities/" + f.activity(g, false) + "/signups", As: citizen(g)}, nil
		}},
		"POST /v1/activities/{id}/checkin":  {build: punch("/checkin")},
		"POST /v1/activities/{id}/checkout": {build: punch("/checkout")},
		"PUT /v1/activities/{id}/attendance/{sub}": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			in := f.clock().Add(time.Duration(g.intn(120)) * time.Minute).Truncate(time.Second)
			return Request{Method: "PUT", Path: "/v1/activities/" + f.activity(g, false) + "/attendance/" + sub(g), As: boss(g)},
				map[string]any{"checkInAt": in.Format(time.RFC3339), "checkOutAt": in.Add(time.Duration(15+g.intn(120)) * time.Minute).Format(time.RFC3339)}
		}},
		"POST /v1/activities/{id}/attendance/{sub}/confirm": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			body := map[string]any{}
			if g.chance(0.5) {
				body["minutes"] = float64(15 * g.intn(9))
			}
			return Request{Method: "POST", Path: "/v1/activities/" + f.activity(g, false) + "/attendance/" + sub(g) + "/confirm", As: boss(g)}, body
		}},
		"POST /v1/activities/{id}/attendance/me/dispute": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/activities/" + f.activity(g, false) + "/attendance/me/dispute", As: citizen(g)},
				map[string]any{"reason": "fuzz: I stayed longer", "minutes": float64(15 * g.intn(9))}
		}},
		"POST /v1/activities/{id}/attendance/{sub}/revoke": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/activities/" + f.activity(g, false) + "/attendance/" + sub(g) + "/revoke", As: boss(g)},
				map[string]any{"reason": "fuzz"}
		}},
	}
}

// merged is the models of a, with those of each b added.
func merged(a map[string]model, bs ...map[string]model) map[string]model {
	for _, b := range bs {
		for k, v := range b {
			a[k] = v
		}
	}
	return a
}
