package points

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var sh = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

func TestGrantCaps(t *testing.T) {
	rules := DefaultRules()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, sh) }
	tests := []struct {
		name        string
		p           Profile
		pts         int64
		at          time.Time
		wantGranted int64
	}{
		{"fresh", Profile{}, 10, at(2026, 11, 27, 10, 0), 10},
		{"reaches the daily cap exactly", Profile{Day: "2026-11-27", DayEarned: 40, Month: "2026-11", MonthEarned: 40}, 10, at(2026, 11, 27, 10, 0), 10},
		{"over the daily cap", Profile{Day: "2026-11-27", DayEarned: 45, Month: "2026-11", MonthEarned: 45}, 10, at(2026, 11, 27, 23, 59), 5},
		{"at the cap", Profile{Day: "2026-11-27", DayEarned: 50, Month: "2026-11", MonthEarned: 50}, 10, at(2026, 11, 27, 23, 59), 0},
		{"local midnight resets the day", Profile{Day: "2026-11-27", DayEarned: 50, Month: "2026-11", MonthEarned: 50}, 10, at(2026, 11, 28, 0, 0), 10},
		{"UTC evening is already tomorrow in Shanghai", Profile{Day: "2026-11-27", DayEarned: 50, Month: "2026-11", MonthEarned: 50}, 10, time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC), 10},
		{"monthly cap", Profile{Day: "2026-11-27", DayEarned: 0, Month: "2026-11", MonthEarned: 495}, 10, at(2026, 11, 28, 9, 0), 5},
		{"month end resets the month", Profile{Day: "2026-11-30", DayEarned: 50, Month: "2026-11", MonthEarned: 500}, 10, at(2026, 12, 1, 0, 0), 10},
		{"last minute of the month still capped", Profile{Day: "2026-11-30", DayEarned: 0, Month: "2026-11", MonthEarned: 500}, 10, at(2026, 11, 30, 23, 59), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, n, e := Grant(tt.p, "r1", RuleReport, tt.pts, 1, rules, tt.at, sh)
			if a.Granted != tt.wantGranted || e.Delta != tt.wantGranted || n.Balance != tt.p.Balance+tt.wantGranted {
				t.Errorf("granted %d delta %d balance %d, want %d", a.Granted, e.Delta, n.Balance, tt.wantGranted)
			}
			if n.DayEarned > rules.DailyCap || n.MonthEarned > rules.MonthlyCap {
				t.Errorf("counters over cap: %+v", n)
			}
			if n.Version != tt.p.Version+1 || n.Merit != tt.p.Merit+1 {
				t.Errorf("version %d merit %d", n.Version, n.Merit)
			}
		})
	}
}

func TestHonorsOnceWithDate(t *testing.T) {
	rules := DefaultRules()
	p := Profile{Sub: "u1"}
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, sh)
	for i := range 12 {
		_, p, _ = Grant(p, "r", RuleReport, 1, 1, rules, at.Add(time.Duration(i)*24*time.Hour), sh)
	}
	if len(p.Honors) != 1 || p.Honors[0].Title != "文明市民" || !p.Honors[0].At.Equal(at.Add(9*24*time.Hour).UTC()) {
		t.Errorf("honors = %+v, want 文明市民 once, on the 10th report's day", p.Honors)
	}
	_, q, _ := Grant(p, "r", RuleConfirm, 1, 0, rules, at, sh)
	if q.ValidReports != p.ValidReports {
		t.Errorf("a duplicate confirmation counted as a valid report")
	}
}

func TestReverseWithDebtAndRecovery(t *testing.T) {
	rules := DefaultRules()
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, sh)
	a, p, _ := Grant(Profile{Sub: "u1"}, "r1", RuleReport, 10, 1, rules, at, sh)
	p.Balance -= 8 // spent 8 in the supermarket
	p.LifetimeRedeemed += 8
	p, e := Reverse(p, a, at.Add(time.Hour))
	if p.Balance != 0 || p.Debt != 8 || e.Delta != -2 || p.Merit != 0 || p.ValidReports != 0 {
		t.Errorf("after reversal: %+v entry %+v", p, e)
	}
	_, p, e = Grant(p, "r2", RuleReport, 5, 1, rules, at.Add(2*time.Hour), sh)
	if p.Debt != 3 || p.Balance != 0 || e.Delta != 0 {
		t.Errorf("next award should pay debt first: %+v %+v", p, e)
	}
	_, p, e = Grant(p, "r3", RuleReport, 5, 1, rules, at.Add(3*time.Hour), sh)
	if p.Debt != 0 || p.Balance != 2 || e.Delta != 2 {
		t.Errorf("debt paid off: %+v %+v", p, e)
	}
}

func TestRulesValidate(t *testing.T) {
	bad := []Rules{
		{DailyCap: -1, MonthlyCap: 10},
		{DailyCap: 50, MonthlyCap: 10},
		{DailyCap: 1, MonthlyCap: 1, Honors: []Honor{{Title: "", Threshold: 1}}},
		{DailyCap: 1, MonthlyCap: 1, CategoryPoints: map[string]int64{"x": -5}},
		{DailyCap: 1, MonthlyCap: 1, CategoryPoints: map[string]int64{"X#Y": 5}},
		{DailyCap: 1, MonthlyCap: 1, CategoryPoints: map[string]int64{strings.Repeat("x", 65): 5}},
		{DailyCap: 1, MonthlyCap: 1, Honors: []Honor{{Title: strings.Repeat("荣", MaxTitle+1), Threshold: 1}}},
		{DailyCap: 1, MonthlyCap: 1, Honors: []Honor{{Title: "a\x00b", Threshold: 1}}},
		{DailyCap: 1, MonthlyCap: 1, Honors: []Honor{{Title: "\xff", Threshold: 1}}},
		{DailyCap: 1, MonthlyCap: 1, Honors: manyHonors(MaxHonors + 1)},
		{DailyCap: 1, MonthlyCap: 1, CategoryPoints: manyCategories(MaxCategoryRules + 1)},
	}
	for i, r := range bad {
		if r.Validate() == nil {
			t.Errorf("bad rules %d accepted", i)
		}
	}
	if err := DefaultRules().Validate(); err != nil {
		t.Errorf("default rules: %v", err)
	}
	most := Rules{DailyCap: 1, MonthlyCap: 1, Honors: manyHonors(MaxHonors), CategoryPoints: manyCategories(MaxCategoryRules)}
	most.Honors[0].Title = strings.Repeat("荣", MaxTitle)
	if err := most.Validate(); err != nil {
		t.Errorf("rules at the bounds: %v", err)
	}
}

func manyHonors(n int) []Honor {
	hs := make([]Honor, n)
	for i := range hs {
		hs[i] = Honor{Title: fmt.Sprint("title ", i), Threshold: int64(i + 1)}
	}
	return hs
}

func manyCategories(n int) map[string]int64 {
	m := make(map[string]int64, n)
	for i := range n {
		m[fmt.Sprint("c", i)] = 1
	}
	return m
}
