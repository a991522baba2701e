package fuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// Builders' home (建设者之家, issue 16): models of every write route of the builders function and of its
// GET routes that page or filter. The fixture (setupBuilders) registers and verifies an employer of its
// own (the seed's emp-demo is left as the demo shows it), opts citizenA and citizenB in as workers, posts
// a job, publishes a fair and a desk's slots; jobs, fairs and slots the fuzzer makes are learned.

// The builders' callers: fuzzEmployer is verified by the fixture; fuzzEmployer2 registers and stays
// pending (the admin's state changes act on it too); deskStaff staffs the fixture's desks and fair.
var (
	fuzzEmployer  = Caller{Sub: "fuzz-employer", Groups: []string{"citizen"}}
	fuzzEmployer2 = Caller{Sub: "fuzz-employer-2", Groups: []string{"citizen"}}
	deskStaff     = Caller{Sub: "fuzz-desk-staff", Groups: []string{"citizen"}}
)

// The fixture's desks, one of each kind.
var fuzzDesks = []string{"fuzz-desk-medical", "fuzz-desk-legal"}

// builderRefs are the builders ids the fuzzer knows: the fixture's first, then learned ones (≤ 200 each).
type builderRefs struct {
	jobs, fairs []string
	slots       []slotRef
}

type slotRef struct{ Desk, ID string }

const unknownID = "0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b"

func (f *fixture) job(g *gen) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bld.jobs) == 0 {
		return unknownID
	}
	if g.chance(0.5) {
		// The fixture's job half the time: applications, answers, hires, confirmations and cancellations
		// then meet each other's state instead of scattering over every job posted.
		return f.bld.jobs[0]
	}
	return pick(g, f.bld.jobs)
}

func (f *fixture) fair(g *gen) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bld.fairs) == 0 {
		return unknownID
	}
	return pick(g, f.bld.fairs)
}

func (f *fixture) slot(g *gen) slotRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bld.slots) == 0 {
		return slotRef{Desk: fuzzDesks[0], ID: unknownID}
	}
	return pick(g, f.bld.slots)
}

// jobPost is a valid job at Mengzi's centre, starting in the days after now.
func jobPost(g *gen, now time.Time) map[string]any {
	start := now.AddDate(0, 0, 1+g.intn(20))
	unit := pick(g, []string{"day", "month", "piece"})
	wage := map[string]any{"min": 200.0, "max": 300.0, "unit": unit}
	switch unit {
	case "month":
		wage["min"], wage["max"] = 4500.0, 6000.0
	case "piece":
		wage["min"], wage["max"], wage["dailyEstimate"] = 2.0, 3.0, 220.0
	}
	return map[string]any{"title": "fuzz 砌墙工", "trade": pick(g, []string{"bricklayer", "electrician", "cleaner", "driver"}),
		"place": map[string]any{"lat": 23.3690 + (g.r.Float64()-0.5)*0.1, "lng": 103.3860 + (g.r.Float64()-0.5)*0.1, "address": "fuzz 工地"},
		"wage":  wage, "headcount": float64(1 + g.intn(500)),
		"startDate": start.Format(time.DateOnly), "endDate": start.AddDate(0, 0, 1+g.intn(60)).Format(time.DateOnly),
		"requirements": "fuzz"}
}

func workerPut(g *gen, now time.Time) map[string]any {
	return map[string]any{"name": "fuzz 工友", "phone": "1390000" + fmt.Sprintf("%04d", g.intn(10000)),
		"trades": []any{pick(g, []string{"bricklayer", "electrician", "cleaner", "driver"})}, "years": float64(g.intn(40)),
		"area":          map[string]any{"lat": 23.3690, "lng": 103.3860, "radiusKm": float64(1 + g.intn(50)), "name": "老城"},
		"expectedWage":  map[string]any{"min": float64(100 + g.intn(300)), "unit": "day"},
		"availableFrom": now.AddDate(0, 0, g.intn(30)).Format(time.DateOnly),
		"visibility":    pick(g, []string{"hidden", "profile", "full"})}
}

func employerPut(licence string) map[string]any {
	return map[string]any{"name": "fuzz 建工有限公司", "licence": licence,
		"contact": map[string]any{"name": "fuzz 经理", "phone": "0873-3700000"}, "address": "fuzz 天马路 1 号"}
}

func fairPost(start time.Time) map[string]any {
	return map[string]any{"title": "fuzz 招聘会", "start": start.Format(time.RFC3339), "end": start.Add(4 * time.Hour).Format(time.RFC3339),
		"place":     map[string]any{"name": "人力资源市场", "lat": 23.3690, "lng": 103.3860, "radiusM": 300},
		"employers": []any{fuzzEmployer.Sub}, "staff": []any{deskStaff.Sub}, "capacity": 1000.0}
}

func slotsPost(g *gen, now time.Time) map[string]any {
	var slots []any
	day := now.AddDate(0, 0, 1+g.intn(10)).Truncate(time.Hour)
	for i := range 1 + g.intn(4) {
		start := day.Add(time.Duration(i) * 30 * time.Minute)
		slots = append(slots, map[string]any{"start": start.Format(time.RFC3339), "end": start.Add(30 * time.Minute).Format(time.RFC3339),
			"capacity": float64(1 + g.intn(20))})
	}
	return map[string]any{"slots": slots}
}

func builderModels() map[string]model {
	worker := func(g *gen) *Caller { return pick(g, []*Caller{&citizenA, &citizenB}) }
	workerSub := func(g *gen) string { return pick(g, []string{citizenA.Sub, citizenB.Sub}) }
	boss := func(g *gen) *Caller {
		return pick(g, []*Caller{&fuzzEmployer, &fuzzEmployer, &fuzzEmployer, &admin, &fuzzEmployer2})
	}
	staff := func(g *gen) *Caller { return pick(g, []*Caller{&deskStaff, &deskStaff, &admin, &citizenA}) }
	// The admin's decisions act on fuzzEmployer2 (and a citizen with no employer), never on fuzzEmployer:
	// suspended, it would refuse every job, fair and hire the other models make (e2e covers suspension).
	employerSub := func(g *gen) string {
		return pick(g, []string{fuzzEmployer2.Sub, fuzzEmployer2.Sub, fuzzEmployer2.Sub, citizenB.Sub})
	}
	post := func(path func(g *gen, f *fixture) string, as func(g *gen) *Caller, body func(g *gen) map[string]any) func(g *gen, f *fixture) (Request, map[string]any) {
		return func(g *gen, f *fixture) (Request, map[string]any) {
			var b map[string]any
			if body != nil {
				b = body(g)
			}
			return Request{Method: "POST", Path: path(g, f), As: as(g)}, b
		}
	}
	del := func(path func(g *gen, f *fixture) string, as func(g *gen) *Caller) func(g *gen, f *fixture) (Request, map[string]any) {
		return func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "DELETE", Path: path(g, f), As: as(g)}, nil
		}
	}
	jobPath := func(tail string) func(g *gen, f *fixture) string {
		return func(g *gen, f *fixture) string { return "/v1/jobs/" + f.job(g) + tail }
	}
	jobSubPath := func(mid, tail string) func(g *gen, f *fixture) string {
		return func(g *gen, f *fixture) string { return "/v1/jobs/" + f.job(g) + mid + workerSub(g) + tail }
	}
	meJob := func(mid, tail string) func(g *gen, f *fixture) string {
		return func(g *gen, f *fixture) string { return "/v1/me/" + mid + f.job(g) + tail }
	}
	fairPath := func(tail string) func(g *gen, f *fixture) string {
		return func(g *gen, f *fixture) string { return "/v1/fairs/" + f.fair(g) + tail }
	}
	slotPath := func(tail func(g *gen) string) func(g *gen, f *fixture) string {
		return func(g *gen, f *fixture) string {
			s := f.slot(g)
			return "/v1/desks/" + s.Desk + "/slots/" + s.ID + tail(g)
		}
	}
	fixed := func(s string) func(*gen) string { return func(*gen) string { return s } }
	answer := func(g *gen) map[string]any { return map[string]any{"answer": pick(g, []string{"accept", "decline"})} }
	reason := func(*gen) map[string]any { return map[string]any{"reason": "fuzz reason"} }
	empty := func(*gen) map[string]any { return map[string]any{} }
	message := func(*gen) map[string]any { return map[string]any{"message": "fuzz message"} }
	admin1 := func(*gen) *Caller { return &admin }
	adminOf := func(action string, body func(*gen) map[string]any) func(g *gen, f *fixture) (Request, map[string]any) {
		return post(func(g *gen, f *fixture) string { return "/v1/admin/employers/" + employerSub(g) + "/" + action },
			func(g *gen) *Caller { return pick(g, []*Caller{&admin, &admin, &admin, &citizenA}) }, body)
	}
	cursorQuery := func(g *gen, f *fixture) url.Values {
		q := pageQuery(g, f)
		q.Del("limit")
		return q
	}
	dayQuery := func(g *gen, f *fixture) string {
		return f.clock().AddDate(0, 0, g.intn(40)-10).Format(time.DateOnly)
	}

	return map[string]model{
		// Employers, settings, workers (H1).
		"PUT /v1/admin/builders/settings": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			// Values at or around the defaults: the other models' wages stay above the minimum.
			return Request{Method: "PUT", Path: "/v1/admin/builders/settings", As: pick(g, []*Caller{&admin, &admin, &fuzzEmployer})},
				map[string]any{"minimumWage": map[string]any{"month": float64(1990 - g.intn(200)), "day": float64(92 - g.intn(10))}}
		}},
		"PUT /v1/me/employer": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			who := pick(g, []*Caller{&fuzzEmployer2, &fuzzEmployer, &citizenB})
			return Request{Method: "PUT", Path: "/v1/me/employer", As: who}, employerPut(fuzzLicence(who.Sub))
		}},
		"POST /v1/admin/employers/{sub}/verify":    {build: adminOf("verify", empty)},
		"POST /v1/admin/employers/{sub}/reject":    {build: adminOf("reject", reason)},
		"POST /v1/admin/employers/{sub}/suspend":   {build: adminOf("suspend", reason)},
		"POST /v1/admin/employers/{sub}/reinstate": {build: adminOf("reinstate", empty)},
		"POST /v1/employers/{sub}/reports": {build: post(func(g *gen, f *fixture) string {
			return "/v1/employers/" + pick(g, []string{fuzzEmployer.Sub, fuzzEmployer2.Sub, "emp-demo"}) + "/reports"
		}, worker, reason)},
		"PUT /v1/me/worker": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "PUT", Path: "/v1/me/worker", As: worker(g)}, workerPut(g, f.clock())
		}},
		// Only citizenB opts out: citizenA stays a worker, so the hire routes keep one to act on.
		"DELETE /v1/me/worker": {build: del(func(*gen, *fixture) string { return "/v1/me/worker" }, func(*gen) *Caller { return &citizenB })},
		"GET /v1/admin/employers": {query: func(g *gen, f *fixture) url.Values {
			q := cursorQuery(g, f)
			q.Set("status", pick(g, []string{"pending", "verified", "suspended", "rejected"}))
			return q
		}, build: getAs(admin, "/v1/admin/employers")},

		// Jobs, search, matching (H2).
		"POST /v1/jobs": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/jobs", As: boss(g), Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, jobPost(g, f.clock())
		}},
		"POST /v1/jobs/{id}/close": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			f.mu.Lock()
			jobs := f.bld.jobs
			f.mu.Unlock()
			id := unknownID
			if len(jobs) > 1 {
				id = pick(g, jobs[1:]) // never the fixture's own
			}
			return Request{Method: "POST", Path: "/v1/jobs/" + id + "/close", As: boss(g)}, map[string]any{}
		}},
		"GET /v1/jobs": {query: func(g *gen, f *fixture) url.Values {
			q := cursorQuery(g, f)
			q.Set("near", fmt.Sprintf("%.4f,%.4f", 23.3690+(g.r.Float64()-0.5)*0.2, 103.3860+(g.r.Float64()-0.5)*0.2))
			q.Set("radiusKm", strconv.Itoa(1+g.intn(50)))
			if g.chance(0.7) {
				q.Set("trade", pick(g, []string{"bricklayer", "electrician", "cleaner", "driver"}))
			}
			if g.chance(0.5) {
				q.Set("minWage", strconv.Itoa(g.intn(500)))
			}
			return q
		}, build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "GET", Path: "/v1/jobs", As: worker(g)}, nil
		}},
		"GET /v1/me/jobs": {query: cursorQuery, build: getAs(fuzzEmployer, "/v1/me/jobs")},

		// Applications, invitations, hires (H3).
		"POST /v1/jobs/{id}/applications":      {build: post(jobPath("/applications"), worker, message)},
		"DELETE /v1/jobs/{id}/applications/me": {build: del(jobPath("/applications/me"), worker)},
		"POST /v1/jobs/{id}/invitations": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/jobs/" + f.job(g) + "/invitations", As: boss(g)},
				map[string]any{"sub": workerSub(g), "message": "fuzz invitation"}
		}},
		"POST /v1/jobs/{id}/applications/{sub}/answer": {build: post(jobSubPath("/applications/", "/answer"), boss, answer)},
		"POST /v1/me/invitations/{jobId}/answer":       {build: post(meJob("invitations/", "/answer"), worker, answer)},
		"POST /v1/jobs/{id}/hires/{sub}/confirm":       {build: post(jobSubPath("/hires/", "/confirm"), boss, empty)},
		"POST /v1/me/hires/{jobId}/confirm":            {build: post(meJob("hires/", "/confirm"), worker, empty)},
		"POST /v1/jobs/{id}/hires/{sub}/cancel":        {build: post(jobSubPath("/hires/", "/cancel"), boss, reason)},
		"POST /v1/me/hires/{jobId}/cancel":             {build: post(meJob("hires/", "/cancel"), worker, reason)},
		"GET /v1/jobs/{id}/applications": {query: cursorQuery, build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "GET", Path: "/v1/jobs/" + f.job(g) + "/applications", As: boss(g)}, nil
		}},
		"GET /v1/me/applications": {query: cursorQuery, build: getAs(citizenA, "/v1/me/applications")},

		// Fairs, transfers, desks and consultations (H4).
		"POST /v1/admin/fairs": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			start := f.clock().Add(time.Duration(1+g.intn(24*30)) * time.Hour).Truncate(time.Minute)
			return Request{Method: "POST", Path: "/v1/admin/fairs", As: pick(g, []*Caller{&admin, &admin, &deskStaff}),
				Header: map[string]string{"Idempotency-Key": idemKey(g, f)}}, fairPost(start)
		}},
		"POST /v1/fairs/{id}/registrations":      {build: post(fairPath("/registrations"), worker, nil)},
		"DELETE /v1/fairs/{id}/registrations/me": {build: del(fairPath("/registrations/me"), worker)},
		"POST /v1/fairs/{id}/registrations/{sub}/checkin": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/fairs/" + f.fair(g) + "/registrations/" + workerSub(g) + "/checkin", As: staff(g)}, map[string]any{}
		}},
		"POST /v1/fairs/{id}/checkin": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/fairs/" + f.fair(g) + "/checkin", As: worker(g)},
				map[string]any{"code": fmt.Sprintf("%06d", g.intn(1000000)),
					"location": map[string]any{"lat": 23.3690 + (g.r.Float64()-0.5)*0.01, "lng": 103.3860 + (g.r.Float64()-0.5)*0.01}}
		}},
		"GET /v1/fairs": {query: func(g *gen, f *fixture) url.Values {
			return url.Values{"from": {dayQuery(g, f)}}
		}, build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "GET", Path: "/v1/fairs", As: worker(g)}, nil
		}},
		"GET /v1/fairs/{id}/registrations": {query: cursorQuery, build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "GET", Path: "/v1/fairs/" + f.fair(g) + "/registrations", As: staff(g)}, nil
		}},
		"POST /v1/admin/transfers": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/admin/transfers", As: pick(g, []*Caller{&admin, &admin, &citizenA}),
					Header: map[string]string{"Idempotency-Key": idemKey(g, f)}},
				map[string]any{"employer": "fuzz 建工集团", "destination": "昆明市", "trade": "rebar", "headcount": float64(1 + g.intn(5000)),
					"date": f.clock().AddDate(0, 0, g.intn(30)).Format(time.DateOnly), "note": "fuzz"}
		}},
		"GET /v1/admin/transfers": {query: func(g *gen, f *fixture) url.Values {
			return url.Values{"from": {dayQuery(g, f)}, "to": {dayQuery(g, f)}}
		}, build: getAs(admin, "/v1/admin/transfers")},
		"PUT /v1/admin/desks/{id}": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			id := pick(g, []string{fuzzDesks[0], fuzzDesks[1], "fuzz-desk-" + strconv.Itoa(g.intn(4))})
			kind := "medical"
			if id == fuzzDesks[1] || g.chance(0.5) && id != fuzzDesks[0] {
				kind = "legal"
			}
			return Request{Method: "PUT", Path: "/v1/admin/desks/" + id, As: admin1(g)},
				map[string]any{"name": "fuzz 咨询台", "kind": kind, "address": "fuzz", "staff": []any{deskStaff.Sub}}
		}},
		"POST /v1/desks/{id}/slots": {build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "POST", Path: "/v1/desks/" + pick(g, fuzzDesks) + "/slots", As: staff(g)}, slotsPost(g, f.clock())
		}},
		"GET /v1/desks/{id}/slots": {query: func(g *gen, f *fixture) url.Values {
			return url.Values{"from": {dayQuery(g, f)}}
		}, build: func(g *gen, f *fixture) (Request, map[string]any) {
			return Request{Method: "GET", Path: "/v1/desks/" + pick(g, fuzzDesks) + "/slots", As: worker(g)}, nil
		}},
		"POST /v1/desks/{id}/slots/{slotId}/bookings": {build: post(slotPath(fixed("/bookings")), worker, func(*gen) map[string]any {
			return map[string]any{"topic": "fuzz 工伤咨询"}
		})},
		"DELETE /v1/desks/{id}/slots/{slotId}/bookings/me": {build: del(slotPath(fixed("/bookings/me")), worker)},
		"POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served": {build: post(slotPath(func(g *gen) string {
			return "/bookings/" + workerSub(g) + "/served"
		}), staff, empty)},
	}
}

// fuzzLicence is a fixed 18-character licence per account, so a re-run against the same stack re-sends
// the registration it made before (licence_taken is for another account's).
func fuzzLicence(sub string) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(sub) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	first17 := fmt.Sprintf("91530000%09d", h%1e9)
	for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
		if builders.ValidLicence(first17 + string(c)) {
			return first17 + string(c)
		}
	}
	return first17 + "0" // unreachable: one of the 31 characters is the check
}

// setupBuilders registers and verifies fuzzEmployer, registers fuzzEmployer2 (pending), opts citizenA and
// citizenB in as workers, posts a job, publishes a fair (check-in open: it starts in 30 minutes), puts a
// desk of each kind and publishes slots. Each step is safe on a stack a previous run fuzzed.
func setupBuilders(ctx context.Context, c *client, f *fixture) error {
	// A registration is corrected only while pending or rejected, and an earlier run against this stack may
	// have verified, suspended or rejected either: each step may be refused (4xx); what counts is checked
	// after.
	tolerant := func(req Request, body any) error {
		req.Body, _ = json.Marshal(body)
		st, data, err := c.send(ctx, req)
		if err != nil || st >= 500 {
			return fmt.Errorf("%s %s: %d %s %v", req.Method, req.Path, st, data, err)
		}
		return nil
	}
	for _, who := range []Caller{fuzzEmployer, fuzzEmployer2} {
		if err := tolerant(Request{Method: "PUT", Path: "/v1/me/employer", As: &who}, employerPut(fuzzLicence(who.Sub))); err != nil {
			return err
		}
	}
	for _, action := range []string{"verify", "reinstate"} {
		if err := tolerant(Request{Method: "POST", Path: "/v1/admin/employers/" + fuzzEmployer.Sub + "/" + action, As: &admin}, map[string]any{}); err != nil {
			return err
		}
	}
	var e struct{ Status string }
	if err := c.call(ctx, Request{Method: "GET", Path: "/v1/me/employer", As: &fuzzEmployer}, nil, &e); err != nil || e.Status != "verified" {
		return fmt.Errorf("the fixture's employer %s is %q, want verified: %v", fuzzEmployer.Sub, e.Status, err)
	}
	g := newGen(1)
	for _, who := range []Caller{citizenA, citizenB} {
		w := workerPut(g, f.clock())
		w["visibility"], w["availableFrom"] = "profile", f.clock().Format(time.DateOnly)
		w["trades"], w["expectedWage"] = []any{"bricklayer"}, map[string]any{"min": 150.0, "unit": "day"}
		if err := c.call(ctx, Request{Method: "PUT", Path: "/v1/me/worker", As: &who}, w, nil); err != nil {
			return fmt.Errorf("opt %s in: %w", who.Sub, err)
		}
	}
	job := jobPost(g, f.clock())
	job["trade"], job["headcount"] = "bricklayer", 500.0
	job["wage"] = map[string]any{"min": 200.0, "max": 300.0, "unit": "day"}
	var posted struct{ ID string }
	if err := c.call(ctx, Request{Method: "POST", Path: "/v1/jobs", As: &fuzzEmployer,
		Header: map[string]string{"Idempotency-Key": fmt.Sprintf("fuzz-fixture-job-%d", time.Now().UnixNano())}}, job, &posted); err != nil || posted.ID == "" {
		return fmt.Errorf("post the fixture's job: %v", err)
	}
	var fair struct{ ID string }
	if err := c.call(ctx, Request{Method: "POST", Path: "/v1/admin/fairs", As: &admin,
		Header: map[string]string{"Idempotency-Key": fmt.Sprintf("fuzz-fixture-fair-%d", time.Now().UnixNano())}},
		fairPost(f.clock().Add(30*time.Minute).Truncate(time.Minute)), &fair); err != nil || fair.ID == "" {
		return fmt.Errorf("publish the fixture's fair: %v", err)
	}
	f.bld.jobs, f.bld.fairs = []string{posted.ID}, []string{fair.ID}
	for i, id := range fuzzDesks {
		desk := map[string]any{"name": "fuzz 咨询台", "kind": []string{"medical", "legal"}[i], "address": "fuzz", "staff": []any{deskStaff.Sub}}
		if err := c.call(ctx, Request{Method: "PUT", Path: "/v1/admin/desks/" + id, As: &admin}, desk, nil); err != nil {
			return fmt.Errorf("put desk %s: %w", id, err)
		}
		var slots struct{ Items []struct{ ID string } }
		if err := c.call(ctx, Request{Method: "POST", Path: "/v1/desks/" + id + "/slots", As: &deskStaff}, slotsPost(g, f.clock()), &slots); err != nil || len(slots.Items) == 0 {
			return fmt.Errorf("publish slots of %s: %v", id, err)
		}
		for _, s := range slots.Items {
			f.bld.slots = append(f.bld.slots, slotRef{Desk: id, ID: s.ID})
		}
	}
	return nil
}

// learnBuilders keeps the ids of jobs, fairs and slots a 2xx answer made.
func (f *fixture) learnBuilders(route string, doc map[string]any) {
	id, _ := doc["id"].(string)
	switch route {
	case "POST /v1/jobs":
		if id != "" && len(f.bld.jobs) < 200 {
			f.bld.jobs = append(f.bld.jobs, id)
		}
	case "POST /v1/admin/fairs":
		if id != "" && len(f.bld.fairs) < 200 {
			f.bld.fairs = append(f.bld.fairs, id)
		}
	case "POST /v1/desks/{id}/slots":
		items, _ := doc["items"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			sid, _ := m["id"].(string)
			desk, _ := m["deskId"].(string)
			if sid != "" && desk != "" && len(f.bld.slots) < 200 {
				f.bld.slots = append(f.bld.slots, slotRef{Desk: desk, ID: sid})
			}
		}
	}
}
