package buildersfn_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// unchanged fails the test unless the table is as before.
func (h *harness) unchanged(before []string, what string) {
	h.t.Helper()
	if after := h.dump(); !slices.Equal(before, after) {
		h.t.Errorf("%s changed the table: %d items before, %d after", what, len(before), len(after))
	}
}

// refused sends a request that must answer status with code and write nothing.
func (h *harness) refused(status int, code string, c caller, routeKey, path string, body any, headers map[string]string) {
	h.t.Helper()
	before := h.dump()
	r := h.must(status, c, routeKey, path, body, headers)
	if r.code() != code {
		h.t.Errorf("%s %s: code %q, want %q (%s)", routeKey, path, r.code(), code, r)
	}
	h.unchanged(before, routeKey+" answering "+code)
}

// items are the dumped items whose pk is pk (or starts with it, when it ends with #) and whose sk starts
// with skPrefix.
func items(dump []string, pk, skPrefix string) []string {
	pkText := `"pk":"` + pk
	if !strings.HasSuffix(pk, "#") {
		pkText += `"`
	}
	var out []string
	for _, it := range dump {
		if strings.Contains(it, pkText) && strings.Contains(it, `"sk":"`+skPrefix) {
			out = append(out, it)
		}
	}
	return out
}

func TestEmployerRegistrationVerificationAndRefusals(t *testing.T) {
	h := newHarness(t)
	boss := citizen("boss1")

	e := h.employer("boss1", 1)
	if e.Status != builders.EmployerPending || e.Licence != licence(1) {
		t.Fatalf("registered %+v", e)
	}
	var mine builders.Employer
	h.must(200, boss, "GET /v1/me/employer", "/v1/me/employer", nil, nil).decode(t, &mine)
	if mine.Status != builders.EmployerPending {
		t.Errorf("GET /v1/me/employer: %+v", mine)
	}

	// A re-sent registration answers the same employer and writes nothing.
	before := h.dump()
	h.must(200, boss, "PUT /v1/me/employer", "/v1/me/employer", employerBody(1), nil)
	h.unchanged(before, "a re-sent registration")

	// Wrong licences: a bad check character, the wrong length, a letter outside the alphabet.
	for _, l := range []string{licence(1)[:17] + "?", licence(1)[:17], "9144030070846113IT"} {
		b := employerBody(2)
		b["licence"] = l
		h.refused(400, "invalid_builders_request", citizen("boss2"), "PUT /v1/me/employer", "/v1/me/employer", b, nil)
	}
	// Another account's licence.
	h.refused(409, "licence_taken", citizen("boss2"), "PUT /v1/me/employer", "/v1/me/employer", employerBody(1), nil)

	// Not yet verified: no job.
	h.refused(403, "employer_not_verified", boss, "POST /v1/jobs", "/v1/jobs", jobBody("砌墙", "bricklayer", lat0, nil), map[string]string{"Idempotency-Key": "k1"})

	// A citizen on the admin routes.
	cit := citizen("c1")
	for _, rq := range []struct {
		route, path string
		body        any
	}{
		{"POST /v1/admin/employers/{sub}/verify", "/v1/admin/employers/boss1/verify", map[string]any{}},
		{"POST /v1/admin/employers/{sub}/reject", "/v1/admin/employers/boss1/reject", map[string]any{"reason": "x"}},
		{"POST /v1/admin/employers/{sub}/suspend", "/v1/admin/employers/boss1/suspend", map[string]any{"reason": "x"}},
		{"POST /v1/admin/employers/{sub}/reinstate", "/v1/admin/employers/boss1/reinstate", map[string]any{}},
		{"GET /v1/admin/employers", "/v1/admin/employers?status=pending", nil},
		{"PUT /v1/admin/builders/settings", "/v1/admin/builders/settings", map[string]any{"minimumWage": map[string]any{"month": 10, "day": 1}}},
		{"GET /v1/admin/builders/settings", "/v1/admin/builders/settings", nil},
	} {
		h.refused(403, "forbidden", cit, rq.route, rq.path, rq.body, nil)
	}
	// Pending employers are not public; a correction while pending is allowed.
	h.refused(404, "employer_not_found", cit, "GET /v1/employers/{sub}", "/v1/employers/boss1", nil, nil)

	// The admin's queue lists it; verification writes the record once.
	var queue struct {
		Items      []builders.Employer
		NextCursor string
	}
	h.must(200, admin, "GET /v1/admin/employers", "/v1/admin/employers?status=pending", nil, nil).decode(t, &queue)
	if len(queue.Items) != 1 || queue.Items[0].Sub != "boss1" {
		t.Errorf("pending queue: %+v", queue)
	}
	var v builders.Employer
	h.must(200, admin, "POST /v1/admin/employers/{sub}/verify", "/v1/admin/employers/boss1/verify", map[string]any{}, nil).decode(t, &v)
	if v.Status != builders.EmployerVerified || v.VerifiedBy != admin.sub || v.VerifiedAt.IsZero() {
		t.Errorf("verified: %+v", v)
	}
	after := h.dump()
	if recs := items(after, "BLDREC#employer_verified#boss1", "BLDREC"); len(recs) != 1 {
		t.Fatalf("employer_verified records: %v", recs)
	}
	h.must(200, admin, "POST /v1/admin/employers/{sub}/verify", "/v1/admin/employers/boss1/verify", nil, nil)
	h.unchanged(after, "a re-sent verification")
	h.must(200, admin, "GET /v1/admin/employers", "/v1/admin/employers?status=pending", nil, nil).decode(t, &queue)
	if len(queue.Items) != 0 {
		t.Errorf("pending queue after verification: %+v", queue.Items)
	}

	// Verified: the registration is locked; reject and reinstate do not apply.
	changed := employerBody(1)
	changed["name"] = "别的公司"
	h.refused(409, "employer_locked", boss, "PUT /v1/me/employer", "/v1/me/employer", changed, nil)
	h.refused(409, "employer_status", admin, "POST /v1/admin/employers/{sub}/reject", "/v1/admin/employers/boss1/reject", map[string]any{"reason": "x"}, nil)
	h.refused(404, "employer_not_found", admin, "POST /v1/admin/employers/{sub}/verify", "/v1/admin/employers/nobody/verify", map[string]any{}, nil)
	h.refused(400, "invalid_builders_request", admin, "POST /v1/admin/employers/{sub}/suspend", "/v1/admin/employers/boss1/suspend", map[string]any{"reason": " "}, nil)

	// The public view: no licence; the business's contact for signed-in users.
	r := h.must(200, cit, "GET /v1/employers/{sub}", "/v1/employers/boss1", nil, nil)
	if strings.Contains(string(r.Body), licence(1)) || !strings.Contains(string(r.Body), "0873-3712345") {
		t.Errorf("public view: %s", r.Body)
	}

	// Reports count once per citizen.
	for range 2 {
		h.must(200, cit, "POST /v1/employers/{sub}/reports", "/v1/employers/boss1/reports", map[string]any{"reason": "拖欠工资"}, nil)
	}
	h.refused(400, "invalid_builders_request", boss, "POST /v1/employers/{sub}/reports", "/v1/employers/boss1/reports", map[string]any{"reason": "自己"}, nil)
	var pub builders.PublicEmployer
	h.must(200, citizen("c2"), "POST /v1/employers/{sub}/reports", "/v1/employers/boss1/reports", map[string]any{"reason": "安全"}, nil).decode(t, &pub)
	if pub.Reports != 2 {
		t.Errorf("reports = %d, want 2", pub.Reports)
	}

	// A rejected registration may be corrected (back to pending) with another licence: the old claim goes.
	h.employer("boss3", 3)
	h.must(200, admin, "POST /v1/admin/employers/{sub}/reject", "/v1/admin/employers/boss3/reject", map[string]any{"reason": "执照不清"}, nil)
	var fixed builders.Employer
	h.must(200, citizen("boss3"), "PUT /v1/me/employer", "/v1/me/employer", employerBody(4), nil).decode(t, &fixed)
	if fixed.Status != builders.EmployerPending || fixed.StatusReason != "" || fixed.Licence != licence(4) {
		t.Errorf("corrected: %+v", fixed)
	}
	d := h.dump()
	if len(items(d, "LICENCE#"+licence(3), "LICENCE")) != 0 || len(items(d, "LICENCE#"+licence(4), "LICENCE")) != 1 {
		t.Errorf("licence claims after the correction: %v", items(d, "LICENCE#", ""))
	}
}

func TestSuspensionTakesJobsOutOfTheListings(t *testing.T) {
	h := newHarness(t)
	boss := citizen("boss1")
	h.verifiedEmployer("boss1", 1)
	var j builders.Job
	h.must(201, boss, "POST /v1/jobs", "/v1/jobs", jobBody("砌墙", "bricklayer", lat0, nil), map[string]string{"Idempotency-Key": "k1"}).decode(t, &j)
	listed := func() bool {
		its := items(h.dump(), "JOB#"+j.ID, "JOB")
		if len(its) != 1 {
			t.Fatalf("job items: %v", its)
		}
		return strings.Contains(its[0], "gsi1pk") && strings.Contains(its[0], "gsi2pk")
	}
	if !listed() {
		t.Fatal("a posted job is not listed")
	}
	var e builders.Employer
	h.must(200, admin, "POST /v1/admin/employers/{sub}/suspend", "/v1/admin/employers/boss1/suspend", map[string]any{"reason": "拖欠工资"}, nil).decode(t, &e)
	if e.Status != builders.EmployerSuspended || e.StatusReason != "拖欠工资" || listed() {
		t.Errorf("suspended: %+v, listed %t", e, listed())
	}
	h.refused(403, "employer_suspended", boss, "POST /v1/jobs", "/v1/jobs", jobBody("再砌墙", "bricklayer", lat0, nil), map[string]string{"Idempotency-Key": "k2"})
	before := h.dump()
	h.must(200, admin, "POST /v1/admin/employers/{sub}/suspend", "/v1/admin/employers/boss1/suspend", map[string]any{"reason": "拖欠工资"}, nil)
	h.unchanged(before, "a re-sent suspension")
	e = builders.Employer{}
	h.must(200, admin, "POST /v1/admin/employers/{sub}/reinstate", "/v1/admin/employers/boss1/reinstate", nil, nil).decode(t, &e)
	if e.Status != builders.EmployerVerified || e.StatusReason != "" || !listed() {
		t.Errorf("reinstated: %+v, listed %t", e, listed())
	}
	if recs := items(h.dump(), "BLDREC#employer_verified#boss1", "BLDREC"); len(recs) != 1 {
		t.Errorf("a reinstatement is no second verification: %v", recs)
	}
}

func TestWorkerProfileMatchEntriesAndPrivacy(t *testing.T) {
	h := newHarness(t)
	w := citizen("w1")
	const phone = "13800138000"
	var got builders.Worker
	h.must(200, w, "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "bricklayer", "tiler"), nil).decode(t, &got)
	if got.Phone != phone || len(got.Trades) != 2 {
		t.Errorf("profile: %+v", got)
	}
	entries := func() []string { return items(h.dump(), "WORKER#w1", "TRADE#") }
	es := entries()
	if len(es) != 2 {
		t.Fatalf("match entries: %v", es)
	}
	for _, e := range es {
		if strings.Contains(e, phone) || strings.Contains(e, "张三") || !strings.Contains(e, "张师傅") || !strings.Contains(e, `"gsi1pk":"WORKERS#`) {
			t.Errorf("match entry: %s", e)
		}
	}
	before := h.dump()
	h.must(200, w, "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "bricklayer", "tiler"), nil)
	h.unchanged(before, "a re-sent profile")

	// Refused inputs write nothing.
	bad := workerBody("张三", builders.VisibilityProfile, "astronaut")
	h.refused(400, "unknown_trade", w, "PUT /v1/me/worker", "/v1/me/worker", bad, nil)
	bad = workerBody("张三", builders.VisibilityProfile)
	bad["area"] = map[string]any{"lat": lat0, "lng": lng0, "radiusKm": builders.MaxRadiusKm + 1}
	h.refused(400, "invalid_builders_request", w, "PUT /v1/me/worker", "/v1/me/worker", bad, nil)
	bad = workerBody("张三", "public")
	h.refused(400, "invalid_builders_request", w, "PUT /v1/me/worker", "/v1/me/worker", bad, nil)

	// A removed trade's entry goes; full visibility shows the name, never the phone.
	h.must(200, w, "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityFull, "tiler"), nil)
	if es := entries(); len(es) != 1 || !strings.Contains(es[0], "TRADE#tiler") || !strings.Contains(es[0], "张三") || strings.Contains(es[0], phone) {
		t.Errorf("entries after dropping bricklayer: %v", es)
	}
	// Hidden: no entries at all.
	h.must(200, w, "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityHidden, "tiler", "painter"), nil)
	if es := entries(); len(es) != 0 {
		t.Errorf("entries of a hidden profile: %v", es)
	}
	h.must(200, w, "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "painter"), nil)
	if es := entries(); len(es) != 1 {
		t.Errorf("entries after unhiding: %v", es)
	}

	// The worker's own view carries the phone; an employer's public view never a worker's data.
	h.must(200, w, "GET /v1/me/worker", "/v1/me/worker", nil, nil).decode(t, &got)
	if got.Phone != phone {
		t.Errorf("own profile: %+v", got)
	}
	h.verifiedEmployer("boss1", 1)
	if r := h.must(200, w, "GET /v1/employers/{sub}", "/v1/employers/boss1", nil, nil); strings.Contains(string(r.Body), phone) {
		t.Errorf("employer view carries the worker's phone: %s", r.Body)
	}

	// Opting out deletes the profile and its entries; a re-sent opt-out writes nothing.
	h.must(204, w, "DELETE /v1/me/worker", "/v1/me/worker", nil, nil)
	d := h.dump()
	if its := items(d, "WORKER#w1", ""); len(its) != 0 {
		t.Errorf("after opting out: %v", its)
	}
	h.must(204, w, "DELETE /v1/me/worker", "/v1/me/worker", nil, nil)
	h.unchanged(d, "a re-sent opt-out")
	h.refused(409, "not_a_worker", w, "GET /v1/me/worker", "/v1/me/worker", nil, nil)
}

func TestBuildersSettings(t *testing.T) {
	h := newHarness(t)
	var st builders.Settings
	h.must(200, admin, "GET /v1/admin/builders/settings", "/v1/admin/builders/settings", nil, nil).decode(t, &st)
	if st.MinimumWage != builders.DefaultSettings().MinimumWage {
		t.Errorf("defaults: %+v", st)
	}
	body := map[string]any{"minimumWage": map[string]any{"month": 2200, "day": 102}}
	h.must(200, admin, "PUT /v1/admin/builders/settings", "/v1/admin/builders/settings", body, nil).decode(t, &st)
	if st.MinimumWage != (builders.MinimumWage{Month: 2200, Day: 102}) || st.UpdatedBy != admin.sub {
		t.Errorf("saved: %+v", st)
	}
	before := h.dump()
	h.must(200, admin, "PUT /v1/admin/builders/settings", "/v1/admin/builders/settings", body, nil)
	h.unchanged(before, "re-sent settings")
	h.refused(400, "invalid_builders_request", admin, "PUT /v1/admin/builders/settings", "/v1/admin/builders/settings",
		map[string]any{"minimumWage": map[string]any{"month": 0, "day": 102}}, nil)

	// The new minimum holds for jobs: 101 yuan a day is below it.
	h.verifiedEmployer("boss1", 1)
	low := jobBody("砌墙", "bricklayer", lat0, nil)
	low["wage"] = map[string]any{"min": 101, "max": 150, "unit": builders.UnitDay}
	h.refused(400, "wage_below_minimum", citizen("boss1"), "POST /v1/jobs", "/v1/jobs", low, map[string]string{"Idempotency-Key": "k1"})
}

// Concurrent registrations: the same registration sent 10 times at once answers 200 each with one employer
// written; 10 accounts racing for one licence leave exactly one holder, the others 409 licence_taken.
func TestConcurrentRegistrations(t *testing.T) {
	h := newHarness(t)
	rs := storm(t, 10, func(int) (response, error) {
		return h.call(citizen("boss1"), "PUT /v1/me/employer", "/v1/me/employer", employerBody(1), nil)
	})
	for _, r := range rs {
		if r.Status != 200 {
			t.Errorf("a copy of the registration: %s", r)
		}
	}
	rs = storm(t, 10, func(i int) (response, error) {
		return h.call(citizen(fmt.Sprintf("rival%d", i)), "PUT /v1/me/employer", "/v1/me/employer", employerBody(2), nil)
	})
	won := 0
	for _, r := range rs {
		switch {
		case r.Status == 200:
			won++
		case r.Status != 409 || r.code() != "licence_taken":
			t.Errorf("a rival: %s", r)
		}
	}
	d := h.dump()
	employers := items(d, "EMPLOYER#", "PROFILE")
	if won != 1 || len(employers) != 2 || len(items(d, "LICENCE#", "LICENCE")) != 2 {
		t.Errorf("%d rivals won; employers %d, claims %d", won, len(employers), len(items(d, "LICENCE#", "LICENCE")))
	}
}
