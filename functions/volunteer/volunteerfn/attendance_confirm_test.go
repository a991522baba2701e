package volunteerfn_test

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// confirmedAt returns the answer's attendance.
func attendanceOf(t *testing.T, r response) volunteer.Attendance {
	t.Helper()
	var a volunteer.Attendance
	r.decode(t, &a)
	return a
}

// The organiser marks attendance and confirms it: exactly one service record per revision under twenty
// confirmations at once and re-sent ones; a volunteer disputes once; an upheld dispute is revision 2 with
// its delta, a rejected one keeps the hours; a revocation is a revoked record; only organisers and admins
// confirm, mark and revoke. The CSV export lists the day's records (admins only).
func TestMarkConfirmDisputeRevokeAndExport(t *testing.T) {
	h := newAttHarness(t, "v1", "v2", "v3")
	path := "/v1/activities/" + h.act.ID + "/attendance/"

	// Marking: 09:50 to 11:44 local → the window's 10:00-11:44 → 104 min → 90 by the rule.
	h.at(3 * time.Hour)
	mark := volunteer.Marking{CheckInAt: h.act.Start.Add(-10 * time.Minute), CheckOutAt: h.act.Start.Add(time.Hour + 44*time.Minute)}
	for _, c := range []struct {
		who  caller
		sub  string
		body any
		want string
	}{
		{citizen("v2"), "v1", mark, "403 not_organiser"},
		{org, "v1", volunteer.Marking{CheckInAt: mark.CheckOutAt, CheckOutAt: mark.CheckInAt}, "400 invalid_volunteer_request"},
		{org, "v1", volunteer.Marking{CheckInAt: mark.CheckInAt, CheckOutAt: h.act.End.Add(31 * time.Minute)}, "400 invalid_volunteer_request"},
		{org, "nobody", mark, "409 not_signed_up"},
	} {
		before := h.dump()
		r, err := h.call(c.who, "PUT /v1/activities/{id}/attendance/{sub}", path+c.sub, c.body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%d %s", r.Status, r.code()); got != c.want {
			t.Errorf("mark %s by %s: %s, want %s", c.sub, c.who.sub, r, c.want)
		}
		if !slices.Equal(before, h.dump()) {
			t.Errorf("a refused marking wrote")
		}
	}
	for _, sub := range []string{"v1", "v2", "v3"} {
		a := attendanceOf(t, h.must(200, org, "PUT /v1/activities/{id}/attendance/{sub}", path+sub, mark, nil))
		if a.Minutes != 90 || a.Status != volunteer.Pending || a.Method != volunteer.MethodOrganiser {
			t.Fatalf("marked %s: %+v", sub, a)
		}
	}
	var list struct{ Items []volunteer.Attendance }
	h.must(200, org, "GET /v1/activities/{id}/attendance", "/v1/activities/"+h.act.ID+"/attendance", nil, nil).decode(t, &list)
	if len(list.Items) != 3 {
		t.Errorf("the organiser's list: %+v", list.Items)
	}
	if r, _ := h.call(citizen("v1"), "GET /v1/activities/{id}/attendance", "/v1/activities/"+h.act.ID+"/attendance", nil, nil); r.Status != 403 || r.code() != "not_organiser" {
		t.Errorf("a volunteer's list: %s", r)
	}

	// Only organisers (and admins) confirm.
	before := h.dump()
	if r, _ := h.confirm(citizen("v2"), "v1", map[string]any{}); r.Status != 403 || r.code() != "not_organiser" {
		t.Errorf("a volunteer's confirmation: %s", r)
	}
	if r, _ := h.confirm(org, "v1", map[string]any{"minutes": 50}); r.Status != 400 {
		t.Errorf("50 minutes (off the 15-minute rule): %s", r)
	}
	if !slices.Equal(before, h.dump()) {
		t.Errorf("a refused confirmation wrote")
	}

	// Twenty confirmations at once, then the same again: one record, revision 1.
	h.at(4 * time.Hour)
	h.e.Calls.Reset()
	rs := storm(t, 20, func(int) (response, error) { return h.confirm(org, "v1", map[string]any{}) })
	if got := tally(rs); got["200"] != 20 {
		t.Fatalf("confirmations: %v", got)
	}
	t.Logf("calls of 20 concurrent confirmations: %v", h.e.Calls.Snapshot())
	h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/confirm", path+"v1/confirm", map[string]any{"minutes": 90}, nil)
	confirmedAt := h.act.Start.Add(4 * time.Hour)
	recs := h.records("v1")
	if len(recs) != 1 || recs[0].Revision != 1 || recs[0].Kind != volunteer.RecordConfirmed || recs[0].Minutes != 90 ||
		recs[0].Delta != 90 || !recs[0].PrevAt.IsZero() || recs[0].By != "org1" || !recs[0].At.Equal(confirmedAt) ||
		recs[0].Title != h.act.Title || recs[0].TeamID != "t1" || !recs[0].Start.Equal(h.act.Start) {
		t.Fatalf("records after the confirmations: %+v", recs)
	}
	if a := h.attendance("v1"); a.Status != volunteer.Confirmed || a.Revision != 1 || a.Confirmed != 90 {
		t.Fatalf("confirmed: %+v", a)
	}
	h.e.Calls.Reset()
	h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/confirm", path+"v2/confirm", map[string]any{"minutes": 60}, nil)
	t.Logf("calls of one confirmation: %v", h.e.Calls.Snapshot())
	// An admin confirms too.
	h.must(200, admin, "POST /v1/activities/{id}/attendance/{sub}/confirm", path+"v3/confirm", map[string]any{}, nil)

	// A dispute: once. The same one re-sent is answered as it is; another is dispute_used.
	h.at(5 * time.Hour)
	claim := volunteer.DisputeRequest{Reason: "我 9:40 就到了，清扫到 12:00", Minutes: 120}
	rs = storm(t, 5, func(int) (response, error) { return h.dispute("v1", claim) })
	if got := tally(rs); got["200"] != 5 {
		t.Fatalf("disputes: %v", got)
	}
	before = h.dump()
	if r, _ := h.dispute("v1", volunteer.DisputeRequest{Reason: "another", Minutes: 105}); r.Status != 409 || r.code() != "dispute_used" {
		t.Errorf("a second dispute: %s", r)
	}
	if r, _ := h.confirm(org, "v1", map[string]any{}); r.Status != 409 || r.code() != "attendance_state" {
		t.Errorf("a confirmation of a disputed attendance without an answer: %s", r)
	}
	if !slices.Equal(before, h.dump()) {
		t.Errorf("a refused dispute wrote")
	}

	// Upheld (five at once): revision 2, +30 minutes, its prevAt revision 1's time.
	h.at(6 * time.Hour)
	rs = storm(t, 5, func(int) (response, error) {
		return h.confirm(org, "v1", map[string]any{"answer": "upheld", "minutes": 120})
	})
	if got := tally(rs); got["200"] != 5 {
		t.Fatalf("answers: %v", got)
	}
	recs = h.records("v1")
	if len(recs) != 2 || recs[1].Revision != 2 || recs[1].Minutes != 120 || recs[1].Delta != 30 || !recs[1].PrevAt.Equal(confirmedAt) {
		t.Fatalf("records after the upheld dispute: %+v", recs)
	}
	if a := h.attendance("v1"); a.Status != volunteer.Confirmed || a.Revision != 2 || a.Dispute == nil || a.Dispute.Answer != volunteer.Upheld {
		t.Errorf("after the upheld dispute: %+v", a)
	}
	if r, _ := h.dispute("v1", volunteer.DisputeRequest{Reason: "再来一次", Minutes: 120}); r.Status != 409 || r.code() != "dispute_used" {
		t.Errorf("a dispute after the answer: %s", r)
	}

	// Rejected: the hours stand, no record.
	h.must(200, citizen("v2"), "POST /v1/activities/{id}/attendance/me/dispute", path+"me/dispute", volunteer.DisputeRequest{Reason: "少算了", Minutes: 90}, nil)
	a := attendanceOf(t, h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/confirm", path+"v2/confirm", map[string]any{"answer": "rejected"}, nil))
	if a.Status != volunteer.Confirmed || a.Confirmed != 60 || a.Revision != 1 || a.Dispute.Answer != volunteer.Rejected || len(h.records("v2")) != 1 {
		t.Errorf("after the rejected dispute: %+v, records %+v", a, h.records("v2"))
	}

	// Revoked (three at once, and again): one revoked record of revision 3 taking back 120 minutes.
	h.at(7 * time.Hour)
	if r, _ := h.revoke(citizen("v2"), "v1", "代签"); r.Status != 403 || r.code() != "not_organiser" {
		t.Errorf("a volunteer's revocation: %s", r)
	}
	rs = storm(t, 3, func(int) (response, error) { return h.revoke(org, "v1", "代签") })
	if got := tally(rs); got["200"] != 3 {
		t.Fatalf("revocations: %v", got)
	}
	h.must(200, org, "POST /v1/activities/{id}/attendance/{sub}/revoke", path+"v1/revoke", volunteer.Revocation{Reason: "代签"}, nil)
	recs = h.records("v1")
	upheldAt := h.act.Start.Add(6 * time.Hour)
	if len(recs) != 3 || recs[2].Kind != volunteer.RecordRevoked || recs[2].Revision != 3 || recs[2].Minutes != 0 ||
		recs[2].Delta != -120 || !recs[2].PrevAt.Equal(upheldAt) {
		t.Fatalf("records after the revocation: %+v", recs)
	}
	if a := h.attendance("v1"); a.Status != volunteer.Revoked || a.RevokeReason != "代签" {
		t.Errorf("revoked: %+v", a)
	}

	// The export: admins only; the day's records with the documented columns.
	day := h.act.Start.In(tz()).Format(time.DateOnly)
	q := "/v1/admin/volunteer-records?from=" + day + "&to=" + day
	for _, c := range []caller{org, citizen("v1")} {
		if r, _ := h.call(c, "GET /v1/admin/volunteer-records", q, nil, nil); r.Status != 403 || r.code() != "forbidden" {
			t.Errorf("export by %s: %s", c.sub, r)
		}
	}
	if r, _ := h.call(admin, "GET /v1/admin/volunteer-records", "/v1/admin/volunteer-records?from=2025-01-01&to=2026-01-02", nil, nil); r.Status != 400 || r.code() != "invalid_range" {
		t.Errorf("367 days: %s", r)
	}
	r := h.must(200, admin, "GET /v1/admin/volunteer-records", q, nil, nil)
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], volunteer.CSVColumns()) {
		t.Errorf("header %v", rows[0])
	}
	var got []string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, c := range rows[0] {
			m[c] = row[i]
		}
		got = append(got, strings.Join([]string{m["volunteer_sub"], m["revision"], m["kind"], m["minutes"], m["hours"], m["delta_minutes"], m["confirmed_by"], m["activity_id"], m["activity_title"]}, " "))
	}
	want := []string{
		"v1 1 confirmed 90 1.50 90 org1 " + h.act.ID + " " + h.act.Title,
		"v2 1 confirmed 60 1.00 60 org1 " + h.act.ID + " " + h.act.Title,
		"v3 1 confirmed 90 1.50 90 admin1 " + h.act.ID + " " + h.act.Title,
		"v1 2 confirmed 120 2.00 30 org1 " + h.act.ID + " " + h.act.Title,
		"v1 3 revoked 0 0.00 -120 org1 " + h.act.ID + " " + h.act.Title,
	}
	if !slices.Equal(got, want) {
		t.Errorf("export rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
