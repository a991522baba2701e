package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/webhook"
)

// The volunteer service (志愿圈, issue 15) from end to end, over HTTP against the local stack: an admin
// names a team's organiser, a citizen opts in and is verified, the organiser publishes an activity, the
// citizen signs up, checks in and out with the organiser's rotating code inside the place, the organiser
// confirms the hours, and the accrual turns them into points, a ledger entry and — after enough hours —
// a star rating; every service record reaches the national volunteer system's sink, signed.
//
// Time. The codes rotate every 60 s and hours are the minutes between check-in and check-out, so the test
// moves the local stack's clock (POST /_local/clock, what `make demo` uses to replay a month) instead of
// sleeping: the functions, and so the codes, the stamps and the hours, run on that clock; tokens, moto and
// the pumps keep wall time. No test hook in the function and no organiser shortcut: the check-out is the
// citizen's own, with a code the organiser's screen shows at that moment. The star needs 100 h and an
// activity lasts at most 12 h, so the citizen serves a recurring series of 12-hour shifts the organiser marks
// (the route for hours not checked in on the spot), with the real thresholds: no rule of the stack is
// changed for the test (the point rules are global, and other tests rely on them).

const (
	volLat, volLng = 23.3690, 103.3860 // the activity's place: a 200 m circle in the old town
	volRadiusM     = 200
)

// volTeam, volActivity, volSignup and volAttendance are the parts of the API's answers the test reads.
type volTeam struct {
	ID         string
	Name       string
	Kind       string
	Organisers []string
}

type volActivity struct {
	ID       string
	TeamID   string
	Type     string
	Title    string
	Start    time.Time
	End      time.Time
	Capacity int
	SeriesID string
	Status   string
	SignedUp int
}

// volListed is an activity in a listing near a point.
type volListed struct {
	volActivity
	DistanceM float64
}

// volMine is one of the caller's activities with the caller's sign-up.
type volMine struct {
	Activity volActivity
	Signup   volSignup
}

type volSignup struct {
	ActivityID string
	Sub        string
	Status     string
	Position   int64
}

type volAttendance struct {
	ActivityID       string
	Sub              string
	Status           string
	Method           string
	CheckInAt        time.Time
	CheckOutAt       time.Time
	Minutes          int64
	ConfirmedMinutes int64
	ConfirmedBy      string
	Revision         int64
}

type volProfile struct {
	Sub              string
	Balance          int64
	Merit            int64
	VolunteerMinutes int64
	Honors           []struct{ Title string }
}

type volError struct{ Error struct{ Code string } }

// must sends a request and fails the test unless the status is one of want.
func (c *client) must(method, path string, body any, headers map[string]string, out any, want ...int) int {
	c.t.Helper()
	raw := json.RawMessage{}
	st := c.call(method, path, body, headers, &raw)
	if !slices.Contains(want, st) {
		c.t.Fatalf("%s %s = %d %s, want %v", method, path, st, clip(raw), want)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, clip(raw), err)
		}
	}
	return st
}

// refused sends a request that must be refused with status and code.
func (c *client) refused(what, method, path string, body any, headers map[string]string, status int, code string) {
	c.t.Helper()
	var e volError
	if st := c.call(method, path, body, headers, &e); st != status || e.Error.Code != code {
		c.t.Errorf("%s: %s %s = %d %q, want %d %s", what, method, path, st, e.Error.Code, status, code)
	}
}

// raw sends a request and returns the status, headers and body as they are (the CSV export).
func (c *client) raw(method, path string) (int, http.Header, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, api+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := httpClient(c.t).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func volKey(name string) map[string]string {
	return map[string]string{"Idempotency-Key": fmt.Sprint("e2e-vol-", name, "-", time.Now().UnixNano())}
}

func rfc(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// stackNow is the functions' clock.
func stackNow(t *testing.T) time.Time {
	t.Helper()
	var out struct{ Now time.Time }
	localJSON(t, "GET", "/_local/clock", &out)
	return out.Now
}

// circle is a place of volRadiusM around (volLat, volLng).
func circle(name string) map[string]any {
	return map[string]any{"name": name, "lat": volLat, "lng": volLng, "radiusM": volRadiusM}
}

// inside and outside are where the citizen's phone is: 60 m and about 1.2 km from the place's centre.
var (
	inside  = map[string]float64{"lat": volLat + 0.0005, "lng": volLng + 0.0002}
	outside = map[string]float64{"lat": volLat + 0.0110, "lng": volLng}
)

// codeOf is the code the organiser's screen shows now.
func codeOf(t *testing.T, organiser *client, activityID string) string {
	t.Helper()
	var out struct {
		Code string
		QR   string `json:"qr"`
	}
	organiser.must("GET", "/v1/activities/"+activityID+"/code", nil, nil, &out, 200)
	if len(out.Code) != 6 || strings.Trim(out.Code, "0123456789") != "" {
		t.Fatalf("code = %+v, want 6 digits", out)
	}
	return out.Code
}

// attendanceOf is the organiser's view of sub's attendance of the activity.
func attendanceOf(t *testing.T, organiser *client, activityID, sub string) volAttendance {
	t.Helper()
	var out struct{ Items []volAttendance }
	organiser.must("GET", "/v1/activities/"+activityID+"/attendance", nil, nil, &out, 200)
	for _, a := range out.Items {
		if a.Sub == sub {
			return a
		}
	}
	t.Fatalf("no attendance of %s in %s: %+v", sub, activityID, out.Items)
	return volAttendance{}
}

// waitVolProfile polls /v1/me until cond holds (the accrual runs from the table's stream).
func waitVolProfile(t *testing.T, c *client, cond func(volProfile) bool) volProfile {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var p volProfile
		c.must("GET", "/v1/me", nil, nil, &p, 200)
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("profile never reached the expected state; last %+v", p)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// registryDeliveries are the signed service records the national volunteer system's sink received for
// the activity, each checked against the seeded secret.
func registryDeliveries(t *testing.T, activityID, sub string) []map[string]any {
	t.Helper()
	resp, err := http.Get(api + "/_local/sink/volunteer_registry")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Items []sinkDelivery }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, d := range out.Items {
		if !strings.Contains(d.Body, activityID) || !strings.Contains(d.Body, sub) {
			continue
		}
		h := http.Header{}
		for k, v := range d.Headers {
			h.Set(k, v)
		}
		// The signature is checked at the delivery's own timestamp: the sink keeps what it received, and
		// the sender signs with the functions' clock, which this test moves.
		ts, err := parseUnix(h.Get("webhook-timestamp"))
		if err != nil {
			t.Errorf("volunteer_registry delivery %s: webhook-timestamp %q", h.Get("webhook-id"), h.Get("webhook-timestamp"))
		}
		if err := webhook.Verify(secretOf(t, "volunteer_registry"), []byte(d.Body), h, ts); err != nil {
			t.Errorf("volunteer_registry delivery %s: the signature does not verify: %v", h.Get("webhook-id"), err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(d.Body), &m); err != nil {
			t.Fatalf("volunteer_registry delivery %s: %v", d.Body, err)
		}
		m["webhook-id"] = h.Get("webhook-id")
		got = append(got, m)
	}
	return got
}

func parseUnix(s string) (time.Time, error) {
	var sec int64
	if _, err := fmt.Sscan(s, &sec); err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0), nil
}

// waitRegistry waits until the sink holds n distinct deliveries for the activity and sub.
func waitRegistry(t *testing.T, activityID, sub string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := registryDeliveries(t, activityID, sub)
		ids := map[any]bool{}
		for _, d := range got {
			ids[d["webhook-id"]] = true
		}
		if len(ids) >= n {
			if len(ids) > n {
				t.Errorf("%d distinct deliveries for %s, want %d: %v", len(ids), activityID, n, got)
			}
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the volunteer_registry sink has %d deliveries of %s, want %d", len(ids), activityID, n)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// TestVolunteerServiceEndToEnd: publish → sign up → check in and out with rotating codes inside the
// place → confirmation → points and a ledger entry → the signed export → a dispute → a star rating from
// a recurring series of shifts → a revocation; and the waitlist, a cancelled activity, the CSV export.
func TestVolunteerServiceEndToEnd(t *testing.T) {
	run := fmt.Sprint(time.Now().UnixNano() % 1e9) // -count=N runs against one stack: fresh names each run
	admin := login(t, "e2e-vol-admin", []string{"admin"}, "")
	orgSub, citSub, otherSub := "e2e-vol-org-"+run, "e2e-vol-cit-"+run, "e2e-vol-other-"+run
	organiser := login(t, orgSub, []string{"citizen"}, "")
	citizen := login(t, citSub, []string{"citizen"}, "")
	other := login(t, otherSub, []string{"citizen"}, "")
	t.Cleanup(func() { setClock(t, time.Time{}) })

	// An admin creates the team and names its organiser; only an admin may.
	teamID, otherTeamID := "e2e-clean-"+run, "e2e-wardens-"+run
	organiser.refused("a citizen names organisers", "PUT", "/v1/admin/teams/"+teamID,
		map[string]any{"name": "全民清扫日", "kind": "service_team", "organisers": []string{orgSub}}, nil, 403, "forbidden")
	var team volTeam
	admin.must("PUT", "/v1/admin/teams/"+teamID, map[string]any{"name": "全民清扫日 e2e", "kind": "service_team", "organisers": []string{orgSub}}, nil, &team, 200, 201)
	if team.ID != teamID || !slices.Contains(team.Organisers, orgSub) {
		t.Fatalf("team = %+v", team)
	}
	admin.must("PUT", "/v1/admin/teams/"+otherTeamID, map[string]any{"name": "文明交通劝导 e2e", "kind": "group", "organisers": []string{otherSub}}, nil, nil, 200, 201)
	admin.refused("a team of an unknown kind", "PUT", "/v1/admin/teams/e2e-bad-"+run,
		map[string]any{"name": "x", "kind": "club", "organisers": []string{orgSub}}, nil, 400, "invalid_volunteer_request")
	var teams struct{ Items []volTeam }
	citizen.must("GET", "/v1/teams", nil, nil, &teams, 200)
	if !slices.ContainsFunc(teams.Items, func(x volTeam) bool { return x.ID == teamID }) {
		t.Errorf("GET /v1/teams lacks %s: %+v", teamID, teams.Items)
	}
	citizen.must("GET", "/v1/teams/"+teamID, nil, nil, &team, 200)
	citizen.refused("an unknown team", "GET", "/v1/teams/e2e-none-"+run, nil, nil, 404, "team_not_found")

	// The citizen opts in, joins the team and is verified by its organiser (not by another team's).
	citizen.refused("joining before opting in", "POST", "/v1/teams/"+teamID+"/members", nil, nil, 409, "not_a_volunteer")
	var vol struct {
		Sub      string
		Name     string
		Skills   []string
		Teams    []string
		Verified bool
	}
	citizen.refused("a profile with an unknown field", "PUT", "/v1/me/volunteer", map[string]any{"name": "小李", "age": 30}, nil, 400, "invalid_json")
	citizen.must("PUT", "/v1/me/volunteer", map[string]any{"name": "小李", "skills": []string{"first_aid", "cleaning"}}, nil, &vol, 200, 201)
	if vol.Sub != citSub || vol.Verified {
		t.Errorf("opted in = %+v", vol)
	}
	citizen.must("POST", "/v1/teams/"+teamID+"/members", nil, nil, nil, 200, 201)
	citizen.must("POST", "/v1/teams/"+teamID+"/members", nil, nil, nil, 200, 201) // a second tap changes nothing
	other.refused("another team's organiser verifies", "POST", "/v1/volunteers/"+citSub+"/verify", nil, nil, 403, "not_organiser")
	organiser.must("POST", "/v1/volunteers/"+citSub+"/verify", nil, nil, &vol, 200)
	citizen.must("GET", "/v1/me/volunteer", nil, nil, &vol, 200)
	if !vol.Verified || !slices.Contains(vol.Teams, teamID) {
		t.Errorf("after verification = %+v", vol)
	}

	// The organiser publishes an activity starting in 20 minutes (check-in opens 30 minutes before the
	// start); a re-sent request publishes nothing new; the other team's organiser may not publish.
	now := stackNow(t)
	start := now.Add(20 * time.Minute).Truncate(time.Second)
	act := map[string]any{"teamId": teamID, "type": "cleanup", "title": "全民清扫日 · 老城", "description": "扫街 e2e",
		"start": rfc(start), "end": rfc(start.Add(3 * time.Hour)), "place": circle("老城"), "capacity": 5}
	organiser.refused("an activity that started already", "POST", "/v1/activities",
		map[string]any{"teamId": teamID, "type": "cleanup", "title": "late", "start": rfc(now.Add(-time.Minute)),
			"end": rfc(now.Add(time.Hour)), "place": circle("老城"), "capacity": 5}, volKey("late"), 400, "invalid_volunteer_request")
	other.refused("another team's organiser publishes", "POST", "/v1/activities", act, volKey("other"), 403, "not_organiser")
	pubKey := volKey("publish")
	var pub struct{ Items []volActivity }
	organiser.must("POST", "/v1/activities", act, pubKey, &pub, 201)
	if len(pub.Items) != 1 || pub.Items[0].Status != "open" || pub.Items[0].Capacity != 5 {
		t.Fatalf("published = %+v", pub)
	}
	a := pub.Items[0]
	var again struct{ Items []volActivity }
	organiser.must("POST", "/v1/activities", act, pubKey, &again, 200, 201)
	if len(again.Items) != 1 || again.Items[0].ID != a.ID {
		t.Errorf("re-sent publication = %+v, want %s again", again, a.ID)
	}
	var near struct{ Items []volListed }
	day := start.In(shanghai(t)).Format("2006-01-02") // the local day it starts on (not always today: near midnight)
	citizen.must("GET", fmt.Sprintf("/v1/activities?date=%s&near=%f,%f&radiusKm=5", day, volLat, volLng), nil, nil, &near, 200)
	if !slices.ContainsFunc(near.Items, func(x volListed) bool { return x.ID == a.ID && x.DistanceM < volRadiusM }) {
		t.Errorf("activities near the place on %s lack %s: %+v", day, a.ID, near.Items)
	}

	// Sign-up, twice (the second tap answers the first's place).
	var su volSignup
	citizen.must("POST", "/v1/activities/"+a.ID+"/signups", nil, nil, &su, 201)
	if su.Status != "signed_up" {
		t.Fatalf("sign-up = %+v", su)
	}
	citizen.must("POST", "/v1/activities/"+a.ID+"/signups", nil, nil, &su, 200)
	if su.Status != "signed_up" {
		t.Errorf("second sign-up = %+v", su)
	}
	var signups struct{ Items []volSignup }
	organiser.must("GET", "/v1/activities/"+a.ID+"/signups", nil, nil, &signups, 200)
	if len(signups.Items) != 1 || signups.Items[0].Sub != citSub {
		t.Errorf("the organiser's sign-ups = %+v", signups.Items)
	}
	citizen.refused("a citizen lists the sign-ups", "GET", "/v1/activities/"+a.ID+"/signups", nil, nil, 403, "not_organiser")
	var mine struct{ Items []volMine }
	citizen.must("GET", "/v1/me/volunteer/activities", nil, nil, &mine, 200)
	if !slices.ContainsFunc(mine.Items, func(x volMine) bool { return x.Activity.ID == a.ID && x.Signup.Status == "signed_up" }) {
		t.Errorf("my activities lack %s: %+v", a.ID, mine.Items)
	}

	// Check-in: bad codes and a phone outside the place are refused and write nothing; then the real one.
	citizen.refused("a check-out before check-in", "POST", "/v1/activities/"+a.ID+"/checkout",
		map[string]any{"code": codeOf(t, organiser, a.ID), "location": inside}, nil, 409, "not_checked_in")
	code := codeOf(t, organiser, a.ID)
	citizen.refused("a phone outside the place", "POST", "/v1/activities/"+a.ID+"/checkin",
		map[string]any{"code": code, "location": outside}, nil, 400, "outside_place")
	// Another six digits: one of the 12 steps' codes that answer otherwise only by a 1-in-80,000 chance.
	wrong := fmt.Sprintf("%06d", (atoi(code)+500000)%1000000)
	citizen.refused("a wrong code", "POST", "/v1/activities/"+a.ID+"/checkin",
		map[string]any{"code": wrong, "location": inside}, nil, 400, "code_invalid")
	other.refused("no place in the activity", "POST", "/v1/activities/"+a.ID+"/checkin",
		map[string]any{"code": code, "location": inside}, nil, 409, "not_signed_up")
	var att volAttendance
	citizen.must("POST", "/v1/activities/"+a.ID+"/checkin", map[string]any{"code": code, "location": inside}, nil, &att, 200, 201)
	if att.Status != "checked_in" || att.CheckInAt.IsZero() {
		t.Fatalf("checked in = %+v", att)
	}
	checkIn := att.CheckInAt
	// A replay (the app re-sends what it lost the answer of) keeps the first check-in.
	if st := citizen.call("POST", "/v1/activities/"+a.ID+"/checkin", map[string]any{"code": code, "location": inside}, nil, nil); st != 200 && st != 409 {
		t.Errorf("a re-sent check-in = %d, want 200 (answered as it is) or 409", st)
	}
	// The check-in's code cannot check out too: one use per volunteer.
	citizen.refused("the check-in's code at check-out", "POST", "/v1/activities/"+a.ID+"/checkout",
		map[string]any{"code": code, "location": inside}, nil, 409, "code_used")
	if got := attendanceOf(t, organiser, a.ID, citSub); got.Status != "checked_in" || !got.CheckInAt.Equal(checkIn) {
		t.Errorf("after refused requests the attendance = %+v, want checked in at %v", got, checkIn)
	}

	// Two hours and ten minutes after the start (the stack's clock, not a sleep): a code shown five minutes
	// ago has expired; the one on the screen now checks out. Hours: the overlap with the window, from the
	// start (the citizen came early), 130 minutes and a few seconds, rounded down to 120.
	setClock(t, a.Start.Add(2*time.Hour+5*time.Minute))
	stale := codeOf(t, organiser, a.ID)
	setClock(t, a.Start.Add(2*time.Hour+10*time.Minute))
	citizen.refused("a code of five minutes ago", "POST", "/v1/activities/"+a.ID+"/checkout",
		map[string]any{"code": stale, "location": inside}, nil, 400, "code_expired")
	citizen.refused("a check-out outside the place", "POST", "/v1/activities/"+a.ID+"/checkout",
		map[string]any{"code": codeOf(t, organiser, a.ID), "location": outside}, nil, 400, "outside_place")
	citizen.must("POST", "/v1/activities/"+a.ID+"/checkout", map[string]any{"code": codeOf(t, organiser, a.ID), "location": inside}, nil, &att, 200)
	if att.Status != "pending" || att.Minutes != 120 {
		t.Fatalf("checked out = %+v, want pending with 120 minutes (130 rounded down to 15)", att)
	}
	var detail struct {
		Activity   volActivity
		Signup     *volSignup
		Attendance *volAttendance
	}
	citizen.must("GET", "/v1/activities/"+a.ID, nil, nil, &detail, 200)
	if detail.Activity.ID != a.ID || detail.Signup == nil || detail.Signup.Status != "signed_up" || detail.Attendance == nil || detail.Attendance.Minutes != 120 {
		t.Errorf("the activity as the citizen sees it = %+v", detail)
	}

	// The organiser confirms (a citizen may not); the accrual pays 5 points and 1 merit an hour.
	citizen.refused("a citizen confirms", "POST", "/v1/activities/"+a.ID+"/attendance/"+citSub+"/confirm", map[string]any{}, nil, 403, "not_organiser")
	organiser.must("POST", "/v1/activities/"+a.ID+"/attendance/"+citSub+"/confirm", map[string]any{}, nil, &att, 200)
	if att.Status != "confirmed" || att.ConfirmedMinutes != 120 || att.Revision != 1 || att.ConfirmedBy != orgSub {
		t.Errorf("confirmed = %+v", att)
	}
	p := waitVolProfile(t, citizen, func(p volProfile) bool { return p.VolunteerMinutes == 120 && p.Balance > 0 })
	if p.Balance != 10 || p.Merit != 2 {
		t.Errorf("after 2 confirmed hours the profile = %+v, want 10 points and 2 merit", p)
	}
	if l := ledgerOf(t, citizen); len(l) != 1 || l[0].Kind != "volunteer_award" || l[0].Delta != 10 || l[0].ActivityID != a.ID {
		t.Errorf("ledger = %+v, want one volunteer_award of 10 for %s", l, a.ID)
	}
	recs := waitRegistry(t, a.ID, citSub, 1)
	if s := fmt.Sprint(recs[0]); !strings.Contains(s, "confirmed") || !strings.Contains(s, "120") {
		t.Errorf("the registry's record = %v, want the confirmed 120 minutes", recs[0])
	}

	// A dispute, once; the organiser upholds 135 minutes: revision 2 replaces revision 1's award. (The
	// clock only moves forward in this test, as time does.)
	setClock(t, a.Start.Add(2*time.Hour+30*time.Minute))
	citizen.must("POST", "/v1/activities/"+a.ID+"/attendance/me/dispute", map[string]any{"reason": "我九点就到了", "minutes": 150}, nil, &att, 200)
	if att.Status != "disputed" {
		t.Errorf("disputed = %+v", att)
	}
	citizen.refused("a second dispute", "POST", "/v1/activities/"+a.ID+"/attendance/me/dispute",
		map[string]any{"reason": "again", "minutes": 180}, nil, 409, "dispute_used")
	organiser.must("POST", "/v1/activities/"+a.ID+"/attendance/"+citSub+"/confirm", map[string]any{"answer": "upheld", "minutes": 135}, nil, &att, 200)
	if att.Status != "confirmed" || att.ConfirmedMinutes != 135 || att.Revision != 2 {
		t.Errorf("upheld = %+v", att)
	}
	p = waitVolProfile(t, citizen, func(p volProfile) bool { return p.VolunteerMinutes == 135 })
	if p.Balance != 11 {
		t.Errorf("after the upheld dispute the profile = %+v, want 11 points (135 minutes at 5 an hour)", p)
	}
	if l := ledgerOf(t, citizen); len(l) != 3 || sumOf(l, a.ID, "") != 11 {
		t.Errorf("ledger = %+v, want revision 1's award, its reversal and revision 2's award, 11 in all", l)
	}
	waitRegistry(t, a.ID, citSub, 2)

	// A star: 100 hours. An activity lasts at most 12 h, so the organiser publishes ten daily 12-hour
	// shifts from tomorrow, the citizen signs up to each, and after the last the organiser marks and
	// confirms them (720 minutes each, 7,200 in all).
	loc := shanghai(t)
	tomorrow := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day()+1, 7, 0, 0, 0, loc)
	series := map[string]any{"teamId": teamID, "type": "shift", "title": "服务站值班 e2e", "start": rfc(tomorrow),
		"end": rfc(tomorrow.Add(12 * time.Hour)), "place": circle("服务站"), "capacity": 2,
		"recurrence": map[string]any{"everyDays": 1, "count": 10}}
	var shifts struct{ Items []volActivity }
	organiser.must("POST", "/v1/activities", series, volKey("series"), &shifts, 201)
	if len(shifts.Items) != 10 || shifts.Items[0].SeriesID == "" || shifts.Items[9].SeriesID != shifts.Items[0].SeriesID {
		t.Fatalf("a 10-shift series = %+v", shifts.Items)
	}
	for _, s := range shifts.Items {
		citizen.must("POST", "/v1/activities/"+s.ID+"/signups", nil, nil, &su, 201)
	}
	first, last := shifts.Items[0], shifts.Items[9]
	setClock(t, last.End.Add(time.Hour))
	for i, s := range shifts.Items {
		organiser.must("PUT", "/v1/activities/"+s.ID+"/attendance/"+citSub,
			map[string]any{"checkInAt": rfc(s.Start.Add(-20 * time.Minute)), "checkOutAt": rfc(s.End.Add(10 * time.Minute))}, nil, &att, 200)
		if att.Minutes != 720 || att.Method != "organiser" || att.Status != "pending" {
			t.Errorf("marked %s = %+v, want 720 minutes (the window) pending, by the organiser", s.ID, att)
		}
		organiser.must("POST", "/v1/activities/"+s.ID+"/attendance/"+citSub+"/confirm", map[string]any{}, nil, &att, 200)
		if i == 0 {
			// The first shift's award is paid before the others are confirmed, so which award the day's
			// cap cuts is known: the revocation below takes back exactly what this one granted.
			waitVolProfile(t, citizen, func(p volProfile) bool { return p.VolunteerMinutes == 135+720 })
		}
	}
	p = waitVolProfile(t, citizen, func(p volProfile) bool { return p.VolunteerMinutes == 135+7200 })
	if !slices.ContainsFunc(p.Honors, func(h struct{ Title string }) bool { return h.Title == "一星志愿者" }) {
		t.Errorf("after %d hours the honors = %+v, want 一星志愿者", p.VolunteerMinutes/60, p.Honors)
	}
	granted := sumOf(ledgerOf(t, citizen), first.ID, "volunteer_award")
	if granted <= 0 {
		t.Fatalf("the first shift's award granted %d points", granted)
	}

	// The organiser revokes the first shift: its hours and points are taken back, the star (earned) is
	// kept.
	before := p
	citizen.refused("a citizen revokes", "POST", "/v1/activities/"+first.ID+"/attendance/"+citSub+"/revoke", map[string]any{"reason": "x"}, nil, 403, "not_organiser")
	organiser.must("POST", "/v1/activities/"+first.ID+"/attendance/"+citSub+"/revoke", map[string]any{"reason": "未到岗 not there"}, nil, &att, 200)
	if att.Status != "revoked" || att.ConfirmedMinutes != 0 {
		t.Errorf("revoked = %+v", att)
	}
	p = waitVolProfile(t, citizen, func(p volProfile) bool { return p.VolunteerMinutes == 135+7200-720 })
	if p.Balance != before.Balance-granted || len(p.Honors) != len(before.Honors) {
		t.Errorf("after the revocation %+v, before %+v: want %d points fewer and the same honors", p, before, granted)
	}
	if l := ledgerOf(t, citizen); sumOf(l, first.ID, "volunteer_reversal") != -granted {
		t.Errorf("ledger = %+v, want a volunteer_reversal of %d for %s", l, -granted, first.ID)
	}
	waitRegistry(t, first.ID, citSub, 2) // its confirmation and its revocation
	setClock(t, time.Time{})

	// The CSV export: the admin's, by day; a citizen is refused.
	from := day
	to := last.End.In(loc).Format("2006-01-02")
	citizen.refused("a citizen exports", "GET", "/v1/admin/volunteer-records?from="+from+"&to="+to, nil, nil, 403, "forbidden")
	st, h, body := admin.raw("GET", "/v1/admin/volunteer-records?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to))
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s %s", st, h.Get("Content-Type"), clip(body))
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	var ofCitizen int
	for _, r := range rows {
		if slices.Contains(r, citSub) {
			ofCitizen++
		}
	}
	if ofCitizen != 2+10+1 { // two revisions of the first activity, ten shifts, a revocation
		t.Errorf("export has %d records of the citizen, want 13:\n%s", ofCitizen, clip(body))
	}

	// The waitlist moves up on a cancellation; a cancelled activity takes no sign-ups.
	small := map[string]any{"teamId": teamID, "type": "weekend_care", "title": "爱在周末 e2e", "start": rfc(tomorrow),
		"end": rfc(tomorrow.Add(3 * time.Hour)), "place": circle("社区"), "capacity": 1}
	var one struct{ Items []volActivity }
	organiser.must("POST", "/v1/activities", small, volKey("small"), &one, 201)
	s := one.Items[0]
	other.must("PUT", "/v1/me/volunteer", map[string]any{"name": "老王"}, nil, nil, 200, 201)
	other.must("POST", "/v1/activities/"+s.ID+"/signups", nil, nil, &su, 201)
	citizen.must("POST", "/v1/activities/"+s.ID+"/signups", nil, nil, &su, 200, 201)
	if su.Status != "waitlisted" || su.Position == 0 {
		t.Fatalf("the second of one place = %+v, want waitlisted", su)
	}
	other.must("DELETE", "/v1/activities/"+s.ID+"/signups/me", nil, nil, nil, 200, 204)
	organiser.must("GET", "/v1/activities/"+s.ID+"/signups", nil, nil, &signups, 200)
	for _, x := range signups.Items {
		if want := map[string]string{citSub: "signed_up", otherSub: "cancelled"}[x.Sub]; x.Status != want {
			t.Errorf("after the cancellation %s is %s, want %s", x.Sub, x.Status, want)
		}
	}
	citizen.refused("a citizen cancels the activity", "POST", "/v1/activities/"+s.ID+"/cancel", nil, nil, 403, "not_organiser")
	organiser.must("POST", "/v1/activities/"+s.ID+"/cancel", nil, nil, nil, 200)
	other.refused("a sign-up to a cancelled activity", "POST", "/v1/activities/"+s.ID+"/signups", nil, nil, 409, "activity_closed")
	citizen.must("DELETE", "/v1/teams/"+teamID+"/members/me", nil, nil, nil, 200, 204)
	citizen.must("GET", "/v1/me/volunteer", nil, nil, &vol, 200)
	if slices.Contains(vol.Teams, teamID) {
		t.Errorf("after leaving, teams = %v", vol.Teams)
	}
}

type volEntry struct {
	Delta      int64
	Kind       string
	ActivityID string
}

// ledgerOf is the caller's ledger, newest first (all of it: the test makes fewer than 50 entries).
func ledgerOf(t *testing.T, c *client) []volEntry {
	t.Helper()
	var out struct {
		Items      []volEntry
		NextCursor string
	}
	c.must("GET", "/v1/me/ledger?limit=50", nil, nil, &out, 200)
	if out.NextCursor != "" {
		t.Fatalf("more than 50 ledger entries")
	}
	return out.Items
}

// sumOf adds the deltas of the entries of an activity (of one kind, or every kind).
func sumOf(l []volEntry, activityID, kind string) int64 {
	var n int64
	for _, e := range l {
		if e.ActivityID == activityID && (kind == "" || e.Kind == kind) {
			n += e.Delta
		}
	}
	return n
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
