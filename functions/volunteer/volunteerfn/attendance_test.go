package volunteerfn_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/volunteer/volunteerfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// clock is the function's clock in these tests: attendance depends on the time (windows, codes, hours).
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// attHarness is H1's harness over a function whose clock the test sets, with a team "t1" organised by
// org1, an activity of it (tomorrow 10:00-12:00 local, a 200 m circle at Mengzi's centre) and the
// volunteers signed up to it.
type attHarness struct {
	*harness
	clk *clock
	act volunteer.Activity
}

var org = citizen("org1")

func newAttHarness(t *testing.T, subs ...string) *attHarness {
	t.Helper()
	return newAttHarnessWith(t, testenv.Options{CategoriesOnly: true}, subs...)
}

// newAttHarnessWith is newAttHarness on an environment made with opts.
func newAttHarnessWith(t *testing.T, opts testenv.Options, subs ...string) *attHarness {
	t.Helper()
	e := moto.New(t, opts)
	clk := &clock{}
	clk.set(time.Now())
	h := &attHarness{harness: &harness{e: e, t: t}, clk: clk}
	h.fn = h.function(e.Counted)
	h.team("t1", "org1")
	h.volunteers(subs...)
	h.act = h.publish(org, "act-"+t.Name(), activityBody("t1", 10, lat0, lng0, tomorrow()))[0]
	for _, s := range subs {
		if r, err := h.signUp(s, h.act.ID); err != nil || r.Status != 201 {
			t.Fatalf("sign up %s: %v %v", s, r, err)
		}
	}
	return h
}

// function builds the volunteer function on cfg with the test's clock.
func (h *attHarness) function(cfg aws.Config) *volunteerfn.Function {
	h.t.Helper()
	b := h.e.BaseOn(cfg, "VolunteerFunction", nil, nil)
	b.Now = h.clk.now
	fn, err := volunteerfn.New(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return fn
}

// at sets the clock to the activity's start plus d.
func (h *attHarness) at(d time.Duration) { h.clk.set(h.act.Start.Add(d)) }

// code is the code the organiser's screen shows now.
func (h *attHarness) code(act string) string {
	h.t.Helper()
	var c volunteer.Code
	h.must(200, org, "GET /v1/activities/{id}/code", "/v1/activities/"+act+"/code", nil, nil).decode(h.t, &c)
	return c.Code
}

var here = volunteer.Point{Lat: lat0, Lng: lng0}

func punch(code string, at volunteer.Point) volunteer.Punch {
	return volunteer.Punch{Code: code, Location: &at}
}

func (h *attHarness) checkIn(sub, act string, p volunteer.Punch) (response, error) {
	return h.call(citizen(sub), "POST /v1/activities/{id}/checkin", "/v1/activities/"+act+"/checkin", p, nil)
}

func (h *attHarness) checkOut(sub, act string, p volunteer.Punch) (response, error) {
	return h.call(citizen(sub), "POST /v1/activities/{id}/checkout", "/v1/activities/"+act+"/checkout", p, nil)
}

func (h *attHarness) confirm(c caller, sub string, body any) (response, error) {
	return h.call(c, "POST /v1/activities/{id}/attendance/{sub}/confirm", "/v1/activities/"+h.act.ID+"/attendance/"+sub+"/confirm", body, nil)
}

func (h *attHarness) dispute(sub string, body any) (response, error) {
	return h.call(citizen(sub), "POST /v1/activities/{id}/attendance/me/dispute", "/v1/activities/"+h.act.ID+"/attendance/me/dispute", body, nil)
}

func (h *attHarness) revoke(c caller, sub string, reason string) (response, error) {
	return h.call(c, "POST /v1/activities/{id}/attendance/{sub}/revoke", "/v1/activities/"+h.act.ID+"/attendance/"+sub+"/revoke",
		volunteer.Revocation{Reason: reason}, nil)
}

// attendance reads sub's attendance through the store (uncounted).
func (h *attHarness) attendance(sub string) volunteer.Attendance {
	h.t.Helper()
	a, err := h.e.Store.Attendance(h.t.Context(), h.act.ID, sub)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

// records reads the service records of the activity's local day through the store (what accrual, the KPI
// roll-up and the export read), sub's only.
func (h *attHarness) records(sub string) []volunteer.Record {
	h.t.Helper()
	var out []volunteer.Record
	day := h.act.Start.In(tz()).Format(time.DateOnly)
	if err := h.e.Store.RecordsOn(h.t.Context(), day, func(r volunteer.Record) error {
		if r.Sub == sub {
			out = append(out, r)
		}
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func tz() *time.Location {
	l, _ := time.LoadLocation("Asia/Shanghai")
	return l
}

// items counts the table's items whose key starts with prefix ("ACT#<id>|ATT#").
func (h *attHarness) items(prefix string) int {
	n := 0
	for _, it := range h.dump() {
		if strings.Contains(it, prefix) {
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

// Twenty check-ins of one request at once, and the same request again later, write one attendance with
// one check-in time; twenty check-outs at once credit the hours once, by the rule. The calls of one
// check-in and one check-out are counted.
func TestCheckInAndOutStormsNeverDoubleHours(t *testing.T) {
	h := newAttHarness(t, "v1")
	h.at(-20 * time.Minute) // check-in opens 30 minutes early; the hours count from the start
	in := punch(h.code(h.act.ID), here)
	h.e.Calls.Reset()
	rs := storm(t, 20, func(int) (response, error) { return h.checkIn("v1", h.act.ID, in) })
	if got := tally(rs); got["200"] != 20 {
		t.Fatalf("check-ins: %v", got)
	}
	// How many of the twenty raced to the conditional put (each loser re-read and answered the winner's).
	t.Logf("calls of 20 concurrent check-ins: %v", h.e.Calls.Snapshot())
	var first volunteer.Attendance
	rs[0].decode(t, &first)
	for _, r := range rs {
		var a volunteer.Attendance
		r.decode(t, &a)
		if !a.CheckInAt.Equal(first.CheckInAt) || a.Status != volunteer.CheckedIn {
			t.Errorf("an answer differs: %s", r)
		}
	}
	if n := h.items(`"sk":"ATT#v1"`); n != 1 {
		t.Fatalf("%d attendance items", n)
	}
	h.clk.advance(30 * time.Second) // the same request, sent again while its code is accepted
	again := h.must(200, citizen("v1"), "POST /v1/activities/{id}/checkin", "/v1/activities/"+h.act.ID+"/checkin", in, nil)
	var a volunteer.Attendance
	again.decode(t, &a)
	if !a.CheckInAt.Equal(first.CheckInAt) {
		t.Errorf("a re-sent check-in moved the check-in: %v, was %v", a.CheckInAt, first.CheckInAt)
	}

	// One check-in alone, counted: three reads (activity, sign-up, attendance) and one conditional put.
	h.clk.advance(2 * time.Minute)
	h.signUpOrFail("v2")
	h.e.Calls.Reset()
	h.must(200, citizen("v2"), "POST /v1/activities/{id}/checkin", "/v1/activities/"+h.act.ID+"/checkin", punch(h.code(h.act.ID), here), nil)
	t.Logf("calls of the code and one check-in: %v", h.e.Calls.Snapshot())

	h.at(time.Hour + 29*time.Minute) // 1 h 29 min of the window: 75 minutes by the rule
	out := punch(h.code(h.act.ID), here)
	rs = storm(t, 20, func(int) (response, error) { return h.checkOut("v1", h.act.ID, out) })
	if got := tally(rs); got["200"] != 20 {
		t.Fatalf("check-outs: %v", got)
	}
	got := h.attendance("v1")
	if got.Status != volunteer.Pending || got.Minutes != 75 || !got.CheckInAt.Equal(first.CheckInAt) || len(got.UsedSteps) != 2 {
		t.Errorf("after the check-outs: %+v", got)
	}
	h.e.Calls.Reset()
	h.must(200, citizen("v2"), "POST /v1/activities/{id}/checkout", "/v1/activities/"+h.act.ID+"/checkout", out, nil)
	t.Logf("calls of one check-out: %v", h.e.Calls.Snapshot())
	if a := h.attendance("v2"); a.Minutes != 75 {
		t.Errorf("v2 checked in at %v, out at %v: %d minutes, want 75", a.CheckInAt, a.CheckOutAt, a.Minutes)
	}
}

func (h *attHarness) signUpOrFail(sub string) {
	h.t.Helper()
	h.volunteers(sub)
	if r, err := h.signUp(sub, h.act.ID); err != nil || r.Status != 201 {
		h.t.Fatalf("sign up %s: %v %v", sub, r, err)
	}
}

// Every refused check-in or check-out is a 4xx with its stable code and leaves the table as it was.
func TestRefusedPunchesWriteNothing(t *testing.T) {
	h := newAttHarness(t, "v1", "v2", "v3")
	// A polygon activity of the same team: a square of about 200 m around Mengzi's centre.
	poly := activityBody("t1", 10, lat0, lng0, tomorrow())
	poly["title"] = "文明交通劝导"
	poly["place"] = map[string]any{"name": "红绿灯路口", "lat": lat0, "lng": lng0, "geometry": map[string]any{
		"type": "Polygon", "coordinates": [][][2]float64{{{lng0 - 0.001, lat0 - 0.001}, {lng0 + 0.001, lat0 - 0.001},
			{lng0 + 0.001, lat0 + 0.001}, {lng0 - 0.001, lat0 + 0.001}, {lng0 - 0.001, lat0 - 0.001}}}}}
	polyAct := h.publish(org, "poly-"+t.Name(), poly)[0]
	if r, err := h.signUp("v1", polyAct.ID); err != nil || r.Status != 201 {
		t.Fatalf("sign up: %v %v", r, err)
	}
	other := h.publish(org, "other-"+t.Name(), activityBody("t1", 10, lat0, lng0, tomorrow()))[0]

	// v3 is checked in (its check-in's code is still accepted).
	h.at(10 * time.Minute)
	v3code := h.code(h.act.ID)
	h.must(200, citizen("v3"), "POST /v1/activities/{id}/checkin", "/v1/activities/"+h.act.ID+"/checkin", punch(v3code, here), nil)

	// About 1 km east: inside no place; inside the polygon's circle of 200 m but outside the square.
	far := volunteer.Point{Lat: lat0, Lng: lng0 + 0.01}
	corner := volunteer.Point{Lat: lat0 + 0.0012, Lng: lng0 + 0.0012}
	if in, _ := (volunteer.Place{Lat: lat0, Lng: lng0, RadiusM: 200}).Contains(corner); !in {
		t.Fatal("the corner should lie inside the circle (the polygon is what refuses it)")
	}
	type step struct {
		name  string
		setup func() // moves the clock
		do    func() (response, error)
		want  string // "status code"
	}
	var expired string
	steps := []step{
		{"a wrong code", nil, func() (response, error) { return h.checkIn("v1", h.act.ID, punch(h.code(other.ID), here)) }, "400 code_invalid"},
		{"not six digits", nil, func() (response, error) { return h.checkIn("v1", h.act.ID, punch("12345", here)) }, "400 code_invalid"},
		{"an expired code", func() { expired = h.code(h.act.ID); h.clk.advance(3 * time.Minute) },
			func() (response, error) { return h.checkIn("v1", h.act.ID, punch(expired, here)) }, "400 code_expired"},
		{"outside the circle", nil, func() (response, error) { return h.checkIn("v1", h.act.ID, punch(h.code(h.act.ID), far)) }, "400 outside_place"},
		{"outside the polygon", nil, func() (response, error) { return h.checkIn("v1", polyAct.ID, punch(h.code(polyAct.ID), corner)) }, "400 outside_place"},
		{"no location", nil, func() (response, error) {
			return h.checkIn("v1", h.act.ID, volunteer.Punch{Code: h.code(h.act.ID)})
		}, "400 invalid_volunteer_request"},
		{"an unknown field", nil, func() (response, error) {
			return h.call(citizen("v1"), "POST /v1/activities/{id}/checkin", "/v1/activities/"+h.act.ID+"/checkin", `{"code":"123456","location":{"lat":1,"lng":1},"at":"x"}`, nil)
		}, "400 invalid_json"},
		{"a check-out before check-in", nil, func() (response, error) { return h.checkOut("v1", h.act.ID, punch(h.code(h.act.ID), here)) }, "409 not_checked_in"},
		{"not signed up", nil, func() (response, error) { return h.checkIn("v2", other.ID, punch(h.code(other.ID), here)) }, "409 not_signed_up"},
		{"the check-in's code to check out (reused)", func() { h.at(11 * time.Minute) },
			func() (response, error) { return h.checkOut("v3", h.act.ID, punch(v3code, here)) }, "409 code_used"},
		{"a check-in outside the window (early)", func() { h.at(-31 * time.Minute) },
			func() (response, error) { return h.checkIn("v1", h.act.ID, punch(h.code(h.act.ID), here)) }, "409 outside_window"},
		{"a check-in outside the window (after the end)", func() { h.at(2*time.Hour + time.Second) },
			func() (response, error) { return h.checkIn("v1", h.act.ID, punch(h.code(h.act.ID), here)) }, "409 outside_window"},
		{"a check-out over 30 minutes after the end", func() { h.at(2*time.Hour + 31*time.Minute) },
			func() (response, error) { return h.checkOut("v3", h.act.ID, punch(h.code(h.act.ID), here)) }, "409 outside_window"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.setup != nil {
				s.setup()
			} else {
				h.at(15 * time.Minute)
			}
			before := h.dump()
			r, err := s.do()
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%d %s", r.Status, r.code()); got != s.want {
				t.Errorf("got %s, want %s", r, s.want)
			}
			if after := h.dump(); !slices.Equal(before, after) {
				t.Errorf("the refused request wrote:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}
