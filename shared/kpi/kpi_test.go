package kpi

import (
	"testing"
	"time"
)

var sh = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

func at(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, sh) }

// TestWorkedExample is the README's worked example: two days, a duplicate, an invalid report, a report
// resolved the next day, one late resolution.
func TestWorkedExample(t *testing.T) {
	day1 := Compute("2026-11-01", Inputs{
		Created: []Created{
			{ID: "a", Category: "rubbish", Status: "resolved", ReporterSub: "u1", LeadDept: "sanitation"},
			{ID: "b", Category: "rubbish", Status: "duplicate", DuplicateOf: "a", ReporterSub: "u2"},
			{ID: "c", Category: "noise", Status: "rejected", Reason: "invalid", ReporterSub: "u1", LeadDept: "environment"},
			{ID: "d", Category: "street_light", Status: "resolved", ReporterSub: "u3", LeadDept: "municipal"},
		},
		Resolutions: []Resolution{
			{ReportID: "a", Category: "rubbish", LeadDept: "sanitation", CreatedAt: at(1, 8, 0), ResolvedAt: at(1, 14, 0), SLADeadline: at(1, 20, 0)},
		},
		Ledger:      []LedgerLine{{Kind: "award", Delta: 5}, {Kind: "redemption", Delta: -3}},
		Redemptions: []RedemptionLine{{Kind: "charity", Amount: 3, Status: "completed"}},
		Registered:  3,
	}, sh, at(2, 0, 15))
	day2 := Compute("2026-11-02", Inputs{
		Created: []Created{{ID: "e", Category: "rubbish", Status: "dispatched", ReporterSub: "u1", LeadDept: "sanitation"}},
		Resolutions: []Resolution{
			{ReportID: "d", Category: "street_light", LeadDept: "municipal", CreatedAt: at(1, 9, 0), ResolvedAt: at(2, 21, 0), SLADeadline: at(2, 9, 0)},
		},
		Ledger: []LedgerLine{{Kind: "award", Delta: 5}, {Kind: "reversal", Delta: -5}, {Kind: "refund", Delta: 1}},
	}, sh, at(3, 0, 15))

	s := Summarize("2026-11-01", "2026-11-02", []Snapshot{day1, day2})
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("received", s.Received, 5)
	check("duplicates", s.Duplicates, 1)
	check("invalid", s.Invalid, 1)
	check("resolved", s.Resolved, 2)
	check("resolvedOfReceived", s.ResolvedOfReceived, 2)
	check("completion 2/(5-1-1)", *s.CompletionRate, 0.6667)
	check("on time 1/2", *s.OnTimeRate, 0.5)
	check("median hours (6 h, 36 h)", *s.MedianHours, 6.0)
	check("p90 hours", *s.P90Hours, 36.0)
	check("points issued", s.PointsIssued, int64(10))
	check("points redeemed 3 − 1 refunded", s.PointsRedeemed, int64(2))
	check("points reversed", s.PointsReversed, int64(5))
	check("charity", s.Redemptions["charity"], Count{Count: 1, Points: 3})
	check("registered", s.RegisteredUsers, 3)
	check("active reporters", s.ActiveReporters, 3)

	// Day 1 alone: d was resolved on day 2, which still counts toward day 1's completion when day 2's
	// snapshot is in view.
	d1 := Summarize("2026-11-01", "2026-11-01", []Snapshot{day1, day2})
	check("day 1 completion 2/(4-1-1)", *d1.CompletionRate, 1.0)
	d1alone := Summarize("2026-11-01", "2026-11-01", []Snapshot{day1})
	check("day 1 before day 2 was rolled up", *d1alone.CompletionRate, 0.5)

	// A range's summary is the sum of its days.
	a, b := Summarize("2026-11-01", "2026-11-01", []Snapshot{day1, day2}), Summarize("2026-11-02", "2026-11-02", []Snapshot{day1, day2})
	check("sum of received", a.Received+b.Received, s.Received)
	check("sum of resolved", a.Resolved+b.Resolved, s.Resolved)
	check("sum of points", a.PointsIssued+b.PointsIssued, s.PointsIssued)

	rows := League("2026-11-01", "2026-11-02", []Snapshot{day1, day2}, map[string][2]string{"sanitation": {"环卫", "Sanitation"}}, 2)
	if len(rows) != 2 || rows[0].Dept != "sanitation" || rows[0].Rank == nil || *rows[0].Rank != 1 || rows[1].Rank != nil {
		t.Errorf("league = %+v, want sanitation ranked (2 cases) and municipal listed unranked (1 case)", rows)
	}
}

func TestLocalDayBoundary(t *testing.T) {
	// 23:59:59 local on the 1st and 00:00 local on the 2nd are different days though both are 15–16 h UTC.
	r := Resolution{ReportID: "x", LeadDept: "d", CreatedAt: time.Date(2026, 11, 1, 23, 59, 59, 0, sh), ResolvedAt: at(2, 0, 0), SLADeadline: at(3, 0, 0)}
	s := Compute("2026-11-02", Inputs{Resolutions: []Resolution{r}}, sh, at(2, 1, 0))
	if s.ResolvedByCreatedDay["2026-11-01"] != 1 {
		t.Errorf("resolution filed under created day %v", s.ResolvedByCreatedDay)
	}
}

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		ok       bool
	}{
		{"2026-11-01", "2026-11-30", true}, {"2026-11-30", "2026-11-01", false}, {"2026-11-01", "nope", false},
		{"2025-01-01", "2026-11-01", false},
	} {
		if _, _, err := ParseRange(tt.from, tt.to); (err == nil) != tt.ok {
			t.Errorf("ParseRange(%s, %s) = %v", tt.from, tt.to, err)
		}
	}
}
