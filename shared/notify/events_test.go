package notify_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

var t0 = time.Date(2026, 11, 30, 9, 30, 0, 123e6, time.UTC)

func rep(status report.Status, sub string) report.Report {
	resolved := t0.Add(time.Hour)
	return report.Report{ID: "r1", Status: status, Category: "street_light", ReporterSub: sub, LeadDept: "municipal",
		UpdatedAt: t0, ResolvedAt: &resolved, ProofPhotos: []report.Photo{{Key: "photos/2026-11-30/p.jpg"}}}
}

func TestReportChanged(t *testing.T) {
	cases := []struct {
		name string
		r    report.Report
		from report.Status
		want notify.Kind // "" = no notice
	}{
		{"dispatched", rep(report.Dispatched, "u1"), report.Submitted, notify.ReportDispatched},
		{"reassigned by the command center", rep(report.Dispatched, "u1"), report.NeedsTriage, notify.ReportDispatched},
		{"accepted", rep(report.Accepted, "u1"), report.Dispatched, notify.ReportAccepted},
		{"reopened", rep(report.Reopened, "u1"), report.Resolved, notify.ReportReopened},
		{"accepted again after reopening", rep(report.Accepted, "u1"), report.Reopened, notify.ReportAccepted},
		{"no change of status", rep(report.Accepted, "u1"), report.Accepted, ""},
		{"in progress is not told", rep(report.InProgress, "u1"), report.Accepted, ""},
		{"resolution is accrual's", rep(report.Resolved, "u1"), report.InProgress, ""},
		{"duplicate", rep(report.Duplicate, "u1"), report.Submitted, ""},
		{"an Open311 application's report", rep(report.Dispatched, "open311-c1"), report.Submitted, ""},
		{"no reporter", rep(report.Dispatched, ""), report.Submitted, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := notify.ReportChanged(tc.r, tc.from)
			if ok != (tc.want != "") || n.Kind != tc.want {
				t.Fatalf("got %v %q, want %q", ok, n.Kind, tc.want)
			}
			if !ok {
				return
			}
			if n.Sub != "u1" || n.ReportID != "r1" || n.Dept != "municipal" || !n.At.Equal(t0) || !notify.ValidNoticeID(n.ID) {
				t.Fatalf("notice %+v", n)
			}
			again, _ := notify.ReportChanged(tc.r, tc.from)
			if again.ID != n.ID {
				t.Fatalf("the same event made ids %s and %s", n.ID, again.ID)
			}
		})
	}
}

func TestResolved(t *testing.T) {
	at := *rep(report.Resolved, "u1").ResolvedAt
	award := &points.Award{ReportID: "r1", Sub: "u1", Rule: points.RuleReport, Points: 5, Granted: 5, At: at}
	capped := &points.Award{ReportID: "r1", Sub: "u1", Rule: points.RuleReport, Points: 5, Granted: 0, At: at}
	reversed := &points.Award{ReportID: "r1", Sub: "u1", Rule: points.RuleReport, Granted: 5, At: at, Reversed: true}
	honors := []points.EarnedHonor{{Title: "文明市民", At: at}, {Title: "older", At: at.Add(-24 * time.Hour)}}
	cases := []struct {
		name       string
		r          report.Report
		award      *points.Award
		ok         bool
		points     int64
		honorCount int
	}{
		{"points and the honor they brought", rep(report.Resolved, "u1"), award, true, 5, 1},
		{"capped: no points", rep(report.Resolved, "u1"), capped, true, 0, 1},
		{"revoked first: nothing granted", rep(report.Resolved, "u1"), reversed, true, 0, 0},
		{"no award", rep(report.Resolved, "u1"), nil, true, 0, 0},
		{"Open311 report", rep(report.Resolved, "open311-c1"), nil, false, 0, 0},
		{"not resolved", rep(report.Accepted, "u1"), award, false, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := notify.Resolved(tc.r, tc.award, honors)
			if ok != tc.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if n.Kind != notify.ReportResolved || n.Points != tc.points || len(n.Honors) != tc.honorCount || !n.At.Equal(at) ||
				n.ProofPhotoKey != "photos/2026-11-30/p.jpg" {
				t.Fatalf("notice %+v", n)
			}
		})
	}
}

func TestConfirmedAndRedemption(t *testing.T) {
	conf := points.Award{ReportID: "r1", Sub: "u2", Rule: points.RuleConfirm, Granted: 2, At: t0}
	if n, ok := notify.Confirmed(conf); !ok || n.Kind != notify.PointsAwarded || n.Points != 2 || n.Sub != "u2" {
		t.Fatalf("confirmation: %v %+v", ok, n)
	}
	for _, a := range []points.Award{{Sub: "u2", Rule: points.RuleConfirm}, {Sub: "u2", Rule: points.RuleReport, Granted: 5}, {Sub: "u2", Rule: points.RuleConfirm, Granted: 2, Reversed: true}} {
		if _, ok := notify.Confirmed(a); ok {
			t.Fatalf("%+v notified", a)
		}
	}
	exp := t0.Add(30 * 24 * time.Hour)
	goods := market.Redemption{ID: "red1", Sub: "u1", ItemID: "umbrella", Kind: market.Goods, Status: market.Reserved, PickupCode: "123456", PickupAt: "市民中心", CreatedAt: t0, ExpiresAt: &exp}
	cases := []struct {
		name string
		red  market.Redemption
		ok   bool
	}{
		{"goods reserved", goods, true},
		{"credit", func() market.Redemption { r := goods; r.Kind = market.Credit; return r }(), false},
		{"already completed", func() market.Redemption { r := goods; r.Status = market.Completed; return r }(), false},
	}
	for _, tc := range cases {
		n, ok := notify.RedemptionMade(tc.red)
		if ok != tc.ok {
			t.Fatalf("%s: ok = %v", tc.name, ok)
		}
		if ok && (n.Kind != notify.PickupReady || n.RedemptionID != "red1" || n.PickupLocation != "市民中心" || !n.ExpiresAt.Equal(exp)) {
			t.Fatalf("%s: %+v", tc.name, n)
		}
	}
}

func TestNoticeIDs(t *testing.T) {
	a := notify.NoticeID("u1", notify.ReportAccepted, "r1", t0)
	cases := []struct {
		name string
		id   string
		same bool
	}{
		{"same event", notify.NoticeID("u1", notify.ReportAccepted, "r1", t0), true},
		{"other user", notify.NoticeID("u2", notify.ReportAccepted, "r1", t0), false},
		{"other kind", notify.NoticeID("u1", notify.ReportDispatched, "r1", t0), false},
		{"other report", notify.NoticeID("u1", notify.ReportAccepted, "r2", t0), false},
		{"later", notify.NoticeID("u1", notify.ReportAccepted, "r1", t0.Add(time.Nanosecond)), false},
	}
	for _, tc := range cases {
		if (tc.id == a) != tc.same || !notify.ValidNoticeID(tc.id) {
			t.Errorf("%s: %s vs %s", tc.name, tc.id, a)
		}
	}
	if later := notify.NoticeID("u1", notify.ReportAccepted, "r1", t0.Add(time.Millisecond)); later <= a {
		t.Errorf("ids do not sort by time: %s <= %s", later, a)
	}
	for _, bad := range []string{"", "x", a[:33], a + "0", "176452258212X-" + a[14:], a[:13] + "_" + a[14:], a[:14] + "ABCDEF" + a[20:]} {
		if notify.ValidNoticeID(bad) {
			t.Errorf("ValidNoticeID(%q)", bad)
		}
	}
}

func TestRedemptionExpiring(t *testing.T) {
	exp := t0.Add(30 * 24 * time.Hour)
	goods := market.Redemption{ID: "red1", Sub: "u1", ItemID: "umbrella", Kind: market.Goods, Status: market.Reserved, PickupCode: "123456", PickupAt: "市民中心", CreatedAt: t0, ExpiresAt: &exp}
	with := func(f func(*market.Redemption)) market.Redemption { r := goods; f(&r); return r }
	cases := []struct {
		name string
		red  market.Redemption
		ok   bool
	}{
		{"goods still reserved", goods, true},
		{"picked up", with(func(r *market.Redemption) { r.Status = market.Completed }), false},
		{"locked by wrong codes", with(func(r *market.Redemption) { r.Status = market.Locked }), false},
		{"cancelled", with(func(r *market.Redemption) { r.Status = market.Cancelled }), false},
		{"a gift", with(func(r *market.Redemption) { r.Kind = market.Charity }), false},
		{"no end", with(func(r *market.Redemption) { r.ExpiresAt = nil }), false},
		{"an Open311 application", with(func(r *market.Redemption) { r.Sub = "open311-c1" }), false},
	}
	for _, tc := range cases {
		n, ok := notify.RedemptionExpiring(tc.red, 24*time.Hour)
		if ok != tc.ok {
			t.Fatalf("%s: ok = %v", tc.name, ok)
		}
		if !ok {
			continue
		}
		if n.Kind != notify.PickupExpiring || n.Sub != "u1" || n.RedemptionID != "red1" || n.PickupLocation != "市民中心" ||
			!n.ExpiresAt.Equal(exp) || !n.At.Equal(exp.Add(-24*time.Hour)) || !notify.ValidNoticeID(n.ID) {
			t.Fatalf("%s: %+v", tc.name, n)
		}
		// Found again (a later run, a retry): the same notice. Not the ready notice's id.
		again, _ := notify.RedemptionExpiring(tc.red, 24*time.Hour)
		ready, _ := notify.RedemptionMade(tc.red)
		if again.ID != n.ID || ready.ID == n.ID {
			t.Fatalf("ids %s, again %s, ready %s", n.ID, again.ID, ready.ID)
		}
		if b, _ := json.Marshal(n); strings.Contains(string(b), "123456") {
			t.Fatalf("the notice carries the pickup code: %s", b)
		}
	}
}
