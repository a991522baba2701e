package buildersfn_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// fairClock is the function's clock in the fair and consultation tests: check-in windows and codes
// depend on the time.
type fairClock struct{ ns atomic.Int64 }

func (c *fairClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fairClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fairClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// newFairHarness is H1's harness with the function on a clock the test sets (now, at first).
func newFairHarness(t *testing.T) (*harness, *fairClock) {
	t.Helper()
	h := newHarness(t)
	clk := &fairClock{}
	clk.set(time.Now())
	b := h.e.Base("BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil)))
	b.Now = clk.now
	fn, err := buildersfn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	h.fn = fn
	return h, clk
}

// fairStart is a fair's start: the next whole hour at least three hours from now.
func fairStart() time.Time { return time.Now().UTC().Add(3 * time.Hour).Truncate(time.Hour) }

// fairBody is a valid fair: 4 hours from start, a 200 m circle at Mengzi's centre.
func fairBody(start time.Time, capacity int, employers, staff []string) map[string]any {
	return map[string]any{
		"title": "蒙自市春风行动招聘会", "start": start, "end": start.Add(4 * time.Hour),
		"place":     map[string]any{"name": "蒙自市人力资源市场", "lat": lat0, "lng": lng0, "radiusM": 200},
		"employers": employers, "staff": staff, "capacity": capacity,
	}
}

func (h *harness) publishFair(key string, body any) builders.Fair {
	h.t.Helper()
	var f builders.Fair
	h.must(201, admin, "POST /v1/admin/fairs", "/v1/admin/fairs", body, map[string]string{"Idempotency-Key": key}).decode(h.t, &f)
	return f
}

func (h *harness) register(sub, fair string) (response, error) {
	return h.call(citizen(sub), "POST /v1/fairs/{id}/registrations", "/v1/fairs/"+fair+"/registrations", nil, nil)
}

func (h *harness) fairCode(staff caller, fair string) string {
	h.t.Helper()
	var c volunteer.Code
	h.must(200, staff, "GET /v1/fairs/{id}/code", "/v1/fairs/"+fair+"/code", nil, nil).decode(h.t, &c)
	if c.QR != "civicsnap:fair:"+fair+":"+c.Code {
		h.t.Fatalf("the code's QR text is %q", c.QR)
	}
	return c.Code
}

func (h *harness) fairCheckIn(sub, fair, code string, at volunteer.Point) (response, error) {
	return h.call(citizen(sub), "POST /v1/fairs/{id}/checkin", "/v1/fairs/"+fair+"/checkin",
		builders.FairPunch{Code: code, Location: &at}, nil)
}

// readFair reads a fair through the store (uncounted).
func (h *harness) readFair(id string) builders.Fair {
	h.t.Helper()
	f, err := h.e.Store.Fair(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}

// count counts the table's items whose JSON holds every one of parts.
func (h *harness) count(parts ...string) int {
	n := 0
	for _, it := range h.dump() {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(it, p)
		}
		if all {
			n++
		}
	}
	return n
}

// tally counts answers by "status code".
func tally(rs []response) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		k := fmt.Sprint(r.Status)
		if c := r.code(); c != "" {
			k += " " + c
		}
		m[k]++
	}
	return m
}

var atFair = volunteer.Point{Lat: lat0, Lng: lng0}

// A fair end to end: published once however often the request is sent, its employers verified; a worker
// registers, checks in with the staff's code from inside the place — twenty identical check-ins at once
// count once — and bad check-ins (too early, wrong or expired code, outside the place, not registered)
// answer their stable codes and change nothing; the staff check a second worker in.
func TestFairRegisterAndCheckIn(t *testing.T) {
	h, clk := newFairHarness(t)
	h.verifiedEmployer("emp1", 1)
	h.employer("emp2", 2) // pending
	h.workers("w1", "w2", "w3")
	staff := citizen("staff1")
	start := fairStart()

	// Bad publications write nothing.
	before := h.dump()
	for i, bad := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"an unverified employer", fairBody(start, 10, []string{"emp1", "emp2"}, nil), "employer_not_verified"},
		{"no such employer", fairBody(start, 10, []string{"nobody"}, nil), "employer_not_verified"},
		{"no capacity", fairBody(start, 0, nil, nil), "invalid_builders_request"},
		{"end before start", func() map[string]any { b := fairBody(start, 5, nil, nil); b["end"] = start.Add(-time.Hour); return b }(), "invalid_builders_request"},
		{"a radius too small", func() map[string]any {
			b := fairBody(start, 5, nil, nil)
			b["place"] = map[string]any{"lat": lat0, "lng": lng0, "radiusM": 1}
			return b
		}(), "invalid_builders_request"},
	} {
		r, err := h.call(admin, "POST /v1/admin/fairs", "/v1/admin/fairs", bad.body, map[string]string{"Idempotency-Key": fmt.Sprint("bad-", i)})
		if err != nil || r.Status/100 != 4 || r.code() != bad.code {
			t.Errorf("%s: %v %v, want 4xx %s", bad.name, r, err, bad.code)
		}
	}
	if r, _ := h.call(citizen("w1"), "POST /v1/admin/fairs", "/v1/admin/fairs", fairBody(start, 5, nil, nil), map[string]string{"Idempotency-Key": "k"}); r.Status != 403 {
		t.Errorf("a citizen publishing: %s", r)
	}
	if r, _ := h.call(admin, "POST /v1/admin/fairs", "/v1/admin/fairs", fairBody(start, 5, nil, nil), nil); r.code() != "idempotency_key_required" {
		t.Errorf("no Idempotency-Key: %s", r)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Fatalf("bad publications wrote %d items", len(after)-len(before))
	}

	body := fairBody(start, 10, []string{"emp1"}, []string{"staff1"})
	f := h.publishFair("fair-1", body)
	rs := storm(t, 5, func(int) (response, error) {
		return h.call(admin, "POST /v1/admin/fairs", "/v1/admin/fairs", body, map[string]string{"Idempotency-Key": "fair-1"})
	})
	for _, r := range rs {
		var again builders.Fair
		r.decode(t, &again)
		if r.Status != 200 || again.ID != f.ID {
			t.Errorf("a re-sent publication: %s", r)
		}
	}
	if r, _ := h.call(admin, "POST /v1/admin/fairs", "/v1/admin/fairs", fairBody(start, 11, nil, nil), map[string]string{"Idempotency-Key": "fair-1"}); r.code() != "idempotency_key_reused" {
		t.Errorf("the key with another body: %s", r)
	}
	if n := h.count(`"pk":"BLDREC#fair#` + f.ID + `"`); n != 1 {
		t.Errorf("%d fair records", n)
	}
	if strings.Contains(string(h.must(200, citizen("w1"), "GET /v1/fairs/{id}", "/v1/fairs/"+f.ID, nil, nil).Body), "secret") {
		t.Error("a fair's answer carries its secret")
	}
	var list struct{ Items []builders.Fair }
	h.must(200, citizen("w1"), "GET /v1/fairs", "/v1/fairs", nil, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != f.ID {
		t.Errorf("the fairs listed: %+v", list.Items)
	}

	// Registration: workers only, once.
	if r, _ := h.register("nobody", f.ID); r.code() != "not_a_worker" {
		t.Errorf("a citizen without a worker profile: %s", r)
	}
	h.must(201, citizen("w1"), "POST /v1/fairs/{id}/registrations", "/v1/fairs/"+f.ID+"/registrations", nil, nil)
	h.must(200, citizen("w1"), "POST /v1/fairs/{id}/registrations", "/v1/fairs/"+f.ID+"/registrations", nil, nil)
	h.must(201, citizen("w2"), "POST /v1/fairs/{id}/registrations", "/v1/fairs/"+f.ID+"/registrations", nil, nil)
	if got := h.readFair(f.ID).Registered; got != 2 {
		t.Fatalf("registered %d, want 2", got)
	}

	// The code: staff and admins only.
	if r, _ := h.call(citizen("w1"), "GET /v1/fairs/{id}/code", "/v1/fairs/"+f.ID+"/code", nil, nil); r.code() != "not_staff" {
		t.Errorf("a worker asking for the code: %s", r)
	}

	// Bad check-ins change nothing.
	clk.set(start.Add(-33 * time.Minute))
	early := h.fairCode(staff, f.ID) // three steps before the check-ins: expired
	clk.set(start.Add(-30 * time.Minute))
	code := h.fairCode(staff, f.ID)
	wrong := fmt.Sprintf("%06d", (atoiOr0(code)+1)%1000000)
	before = h.dump()
	cases := []struct {
		name, sub, code string
		at              volunteer.Point
		want            string
	}{
		{"a wrong code", "w1", wrong, atFair, "code_invalid"},
		{"not six digits", "w1", "12345", atFair, "code_invalid"},
		{"an expired code", "w1", early, atFair, "code_expired"},
		{"1.1 km away", "w1", code, volunteer.Point{Lat: lat0 + 0.01, Lng: lng0}, "outside_place"},
		{"not registered", "w3", code, atFair, "not_registered"},
	}
	for _, c := range cases {
		r, err := h.fairCheckIn(c.sub, f.ID, c.code, c.at)
		if err != nil || r.Status/100 != 4 || r.code() != c.want {
			t.Errorf("%s: %v %v, want 4xx %s", c.name, r, err, c.want)
		}
	}
	clk.set(start.Add(-61 * time.Minute))
	if r, _ := h.fairCheckIn("w1", f.ID, h.fairCode(staff, f.ID), atFair); r.code() != "outside_window" {
		t.Errorf("61 minutes before the start: %s", r)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Fatal("a refused check-in changed the table")
	}

	// Twenty identical check-ins at once: one check-in, one record.
	clk.set(start.Add(-30 * time.Minute))
	code = h.fairCode(staff, f.ID)
	rs = storm(t, 20, func(int) (response, error) { return h.fairCheckIn("w1", f.ID, code, atFair) })
	if got := tally(rs); got["200"] != 20 {
		t.Fatalf("check-ins: %v", got)
	}
	var first builders.Registration
	rs[0].decode(t, &first)
	for _, r := range rs {
		var reg builders.Registration
		r.decode(t, &reg)
		if !reg.CheckedInAt.Equal(first.CheckedInAt) || reg.Method != builders.CheckinCode {
			t.Errorf("an answer differs: %s", r)
		}
	}
	if got := h.readFair(f.ID).CheckedIn; got != 1 {
		t.Errorf("checkedIn %d after 20 identical check-ins", got)
	}
	if n := h.count(`"pk":"BLDREC#fair_checkin#` + f.ID + `#w1"`); n != 1 {
		t.Errorf("%d check-in records of w1", n)
	}
	clk.advance(3 * time.Minute) // the next code: a second check-in, not a re-sent one
	if r, _ := h.fairCheckIn("w1", f.ID, h.fairCode(staff, f.ID), atFair); r.code() != "already_checked_in" {
		t.Errorf("a second check-in: %s", r)
	}
	if r, _ := h.call(citizen("w1"), "DELETE /v1/fairs/{id}/registrations/me", "/v1/fairs/"+f.ID+"/registrations/me", nil, nil); r.code() != "already_checked_in" {
		t.Errorf("cancelling after checking in: %s", r)
	}

	// The staff check w2 in (twice: once counted); not w3, who did not register; not by a worker.
	if r, _ := h.call(citizen("w1"), "POST /v1/fairs/{id}/registrations/{sub}/checkin", "/v1/fairs/"+f.ID+"/registrations/w2/checkin", nil, nil); r.code() != "not_staff" {
		t.Errorf("a worker checking another in: %s", r)
	}
	for range 2 {
		var reg builders.Registration
		h.must(200, staff, "POST /v1/fairs/{id}/registrations/{sub}/checkin", "/v1/fairs/"+f.ID+"/registrations/w2/checkin", nil, nil).decode(t, &reg)
		if reg.Method != builders.CheckinStaff || reg.CheckedInAt.IsZero() {
			t.Errorf("the staff's check-in: %+v", reg)
		}
	}
	if r, _ := h.call(staff, "POST /v1/fairs/{id}/registrations/{sub}/checkin", "/v1/fairs/"+f.ID+"/registrations/w3/checkin", nil, nil); r.code() != "not_registered" {
		t.Errorf("checking in an unregistered worker: %s", r)
	}
	if got := h.readFair(f.ID); got.CheckedIn != 2 || got.Registered != 2 {
		t.Errorf("the fair counts %d registered, %d checked in; want 2, 2", got.Registered, got.CheckedIn)
	}
	if n := h.count(`"pk":"BLDREC#fair_checkin#`); n != 2 {
		t.Errorf("%d check-in records", n)
	}

	var regs struct {
		Items  []builders.Registration
		Cursor string
	}
	h.must(200, staff, "GET /v1/fairs/{id}/registrations", "/v1/fairs/"+f.ID+"/registrations", nil, nil).decode(t, &regs)
	if len(regs.Items) != 2 || regs.Cursor != "" {
		t.Errorf("the staff's list: %+v", regs)
	}
	var mine struct{ Items []builders.Registration }
	h.must(200, citizen("w1"), "GET /v1/me/fairs", "/v1/me/fairs", nil, nil).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].FairID != f.ID || mine.Items[0].CheckedInAt.IsZero() {
		t.Errorf("w1's fairs: %+v", mine.Items)
	}
}

func atoiOr0(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Thirty workers register at once for ten places: ten registrations, twenty fair_full, and nothing else
// written; a cancellation frees a place for another.
func TestFairCapacityStorm(t *testing.T) {
	h, _ := newFairHarness(t)
	subs := make([]string, 31)
	for i := range subs {
		subs[i] = fmt.Sprintf("w%02d", i)
	}
	h.workers(subs...)
	f := h.publishFair("cap", fairBody(fairStart(), 10, nil, nil))
	rs := storm(t, 30, func(i int) (response, error) { return h.register(subs[i], f.ID) })
	if got := tally(rs); got["201"] != 10 || got["409 fair_full"] != 20 {
		t.Fatalf("30 registrations for 10 places: %v", got)
	}
	if got := h.readFair(f.ID).Registered; got != 10 {
		t.Fatalf("registered %d", got)
	}
	if n := h.count(`"type":"fair_registration"`); n != 10 {
		t.Fatalf("%d registration items", n)
	}
	var winner string
	for i, r := range rs {
		if r.Status == 201 {
			winner = subs[i]
			break
		}
	}
	for range 2 { // a re-sent cancellation frees one place
		h.must(200, citizen(winner), "DELETE /v1/fairs/{id}/registrations/me", "/v1/fairs/"+f.ID+"/registrations/me", nil, nil)
	}
	if got := h.readFair(f.ID).Registered; got != 9 {
		t.Fatalf("registered %d after a cancellation", got)
	}
	h.must(201, citizen(subs[30]), "POST /v1/fairs/{id}/registrations", "/v1/fairs/"+f.ID+"/registrations", nil, nil)
	if r, _ := h.register(winner, f.ID); r.code() != "fair_full" {
		t.Errorf("registering again into a full fair: %s", r)
	}
}

// A transfer is recorded once however often it is sent (twenty at once): one transfer, one record whose n
// is its headcount; bad input writes nothing.
func TestTransferOnce(t *testing.T) {
	h, _ := newFairHarness(t)
	body := map[string]any{"employer": "宁波某电子厂", "destination": "浙江宁波", "trade": "factory", "headcount": 120, "date": day(7)}
	key := map[string]string{"Idempotency-Key": "tr-1"}
	rs := storm(t, 20, func(int) (response, error) {
		return h.call(admin, "POST /v1/admin/transfers", "/v1/admin/transfers", body, key)
	})
	if got := tally(rs); got["201"] != 1 || got["200"] != 19 {
		t.Fatalf("20 identical transfers: %v", got)
	}
	if n := h.count(`"type":"transfer"`); n != 1 {
		t.Errorf("%d transfer items", n)
	}
	if n := h.count(`"pk":"BLDREC#transfer#`, `"n":"N:120"`); n != 1 {
		t.Errorf("%d transfer records of n 120", n)
	}
	before := h.dump()
	for _, bad := range []map[string]any{
		{"employer": "x", "destination": "y", "headcount": 0, "date": day(1)},
		{"employer": "x", "destination": "y", "headcount": 5, "date": "tomorrow"},
		{"employer": "x", "destination": "y", "headcount": 5, "date": day(1), "trade": "astronaut"},
		{"employer": "", "destination": "y", "headcount": 5, "date": day(1)},
	} {
		if r, _ := h.call(admin, "POST /v1/admin/transfers", "/v1/admin/transfers", bad, map[string]string{"Idempotency-Key": "bad"}); r.Status != 400 {
			t.Errorf("%v: %s", bad, r)
		}
	}
	if r, _ := h.call(citizen("w1"), "POST /v1/admin/transfers", "/v1/admin/transfers", body, map[string]string{"Idempotency-Key": "c"}); r.Status != 403 {
		t.Errorf("a citizen's transfer: %s", r)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Fatal("refused transfers changed the table")
	}
	var list struct{ Items []builders.Transfer }
	h.must(200, admin, "GET /v1/admin/transfers", "/v1/admin/transfers?from="+day(0)+"&to="+day(30), nil, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Headcount != 120 {
		t.Errorf("the transfers listed: %+v", list.Items)
	}
}

func punchAt(code string) map[string]any {
	return map[string]any{"code": code, "location": map[string]any{"lat": lat0, "lng": lng0}}
}
