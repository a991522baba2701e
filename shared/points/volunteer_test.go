package points

import (
	"strings"
	"testing"
	"time"
)

func TestVolunteerPointsAndMerit(t *testing.T) {
	v := DefaultVolunteerRules()
	tests := []struct {
		minutes, points, merit int64
	}{
		{0, 0, 0},
		{15, 1, 0},  // 5 × 15 / 60 = 1.25 → 1
		{45, 3, 0},  // 3.75 → 3: rounded down
		{60, 5, 1},  // one whole hour: one merit
		{105, 8, 1}, // 1 h 45: 8.75 → 8, one whole hour
		{600, 50, 10},
		{-30, 0, 0}, // never negative
	}
	for _, tt := range tests {
		if p, m := v.Points(tt.minutes), v.Merit(tt.minutes); p != tt.points || m != tt.merit {
			t.Errorf("%d minutes: %d points %d merit, want %d and %d", tt.minutes, p, m, tt.points, tt.merit)
		}
	}
	custom := VolunteerRules{PointsPerHour: 7, MeritPerHour: 2}
	if p, m := custom.Points(90), custom.Merit(90); p != 10 || m != 2 {
		t.Errorf("7/h, 2 merit/h for 90 minutes: %d points %d merit, want 10 and 2", p, m)
	}
}

func TestGrantVolunteer(t *testing.T) {
	rules := DefaultRules()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, sh)
	tests := []struct {
		name                   string
		p                      Profile
		minutes                int64
		granted, balance, debt int64
		minutesAfter           int64
		stars                  []string
	}{
		{"first hours", Profile{Sub: "v"}, 120, 10, 10, 0, 120, nil},
		{"daily cap shared with reports", Profile{Sub: "v", Day: "2026-11-28", DayEarned: 45, Month: "2026-11", MonthEarned: 45}, 120, 5, 5, 0, 120, nil},
		{"monthly cap", Profile{Sub: "v", Day: "2026-11-27", DayEarned: 50, Month: "2026-11", MonthEarned: 498}, 120, 2, 2, 0, 120, nil},
		{"debt paid first", Profile{Sub: "v", Debt: 4}, 120, 10, 6, 0, 120, nil},
		{"one star at exactly 100 h", Profile{Sub: "v", VolunteerMinutes: 100*60 - 60}, 60, 5, 5, 0, 100 * 60, []string{"一星志愿者"}},
		{"99 h 45 is no star", Profile{Sub: "v", VolunteerMinutes: 99 * 60}, 45, 3, 3, 0, 99*60 + 45, nil},
		{"two stars in one jump", Profile{Sub: "v", VolunteerMinutes: 299 * 60}, 120, 10, 10, 0, 301 * 60, []string{"一星志愿者", "二星志愿者"}},
		{"five stars at 1,500 h", Profile{Sub: "v", VolunteerMinutes: 1499 * 60, Honors: []EarnedHonor{{Title: "一星志愿者"}, {Title: "二星志愿者"}, {Title: "三星志愿者"}, {Title: "四星志愿者"}}}, 60, 5, 5, 0, 1500 * 60, []string{"一星志愿者", "二星志愿者", "三星志愿者", "四星志愿者", "五星志愿者"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, n, e := GrantVolunteer(tt.p, "act1", 1, tt.minutes, rules, at, sh)
			if a.Granted != tt.granted || n.Balance != tt.balance || n.Debt != tt.debt || n.VolunteerMinutes != tt.minutesAfter {
				t.Errorf("granted %d balance %d debt %d minutes %d, want %d %d %d %d", a.Granted, n.Balance, n.Debt, n.VolunteerMinutes, tt.granted, tt.balance, tt.debt, tt.minutesAfter)
			}
			var titles []string
			for _, h := range n.Honors {
				titles = append(titles, h.Title)
			}
			if strings.Join(titles, ",") != strings.Join(tt.stars, ",") {
				t.Errorf("honors %v, want %v", titles, tt.stars)
			}
			if e.Kind != KindVolunteerAward || e.ActivityID != "act1" || e.Delta != tt.balance-tt.p.Balance || e.ID != "award-act1#v#volunteer#1" || !e.At.Equal(at) {
				t.Errorf("entry %+v", e)
			}
			if n.Version != tt.p.Version+1 || n.ValidReports != tt.p.ValidReports || n.Merit != tt.p.Merit+tt.minutes/60 {
				t.Errorf("version %d valid reports %d merit %d", n.Version, n.ValidReports, n.Merit)
			}
		})
	}
}

// TestRevisionReplacesRevision: a later revision reverses its predecessor and grants its own; the cap
// room the predecessor used comes back, so 10 h confirmed and then corrected to 8 h ends with 8 h's points
// even at the daily cap.
func TestRevisionReplacesRevision(t *testing.T) {
	rules := DefaultRules()
	at1 := time.Date(2026, 11, 28, 18, 0, 0, 0, sh)
	at2 := at1.Add(2 * time.Hour)
	a1, p, _ := GrantVolunteer(Profile{Sub: "v"}, "act", 1, 600, rules, at1, sh)
	if a1.Granted != 50 || p.DayEarned != 50 {
		t.Fatalf("revision 1: granted %d day %d", a1.Granted, p.DayEarned)
	}
	p, rev := ReverseVolunteer(p, a1, at2, sh)
	if rev.Delta != -50 || rev.Kind != KindVolunteerReversal || rev.ID != "reversal-act#v#volunteer#1" || p.DayEarned != 0 || p.MonthEarned != 0 {
		t.Fatalf("reversal %+v, profile %+v", rev, p)
	}
	a2, p, _ := GrantVolunteer(p, "act", 2, 480, rules, at2, sh)
	if a2.Granted != 40 || p.Balance != 40 || p.VolunteerMinutes != 480 || p.Merit != 8 || p.LifetimeEarned != 40 || p.Debt != 0 {
		t.Errorf("after revision 2: %+v (award %+v)", p, a2)
	}
}

func TestReverseVolunteer(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, sh)
	a := Award{ActivityID: "act", Sub: "v", Rule: RuleVolunteer, Revision: 1, Granted: 10, Merit: 2, Minutes: 120, At: at.UTC()}
	tests := []struct {
		name                          string
		p                             Profile
		balance, debt, minutes, merit int64
		dayEarned, monthEarned        int64
		keepsStar                     bool
	}{
		{"covered by the balance", Profile{Balance: 30, Merit: 5, VolunteerMinutes: 200, Day: "2026-11-28", DayEarned: 10, Month: "2026-11", MonthEarned: 40}, 20, 0, 80, 3, 0, 30, false},
		{"short balance becomes debt", Profile{Balance: 4, Merit: 2, VolunteerMinutes: 120, Day: "2026-11-28", DayEarned: 10, Month: "2026-11", MonthEarned: 10}, 0, 6, 0, 0, 0, 0, false},
		{"another day's counter is not given back", Profile{Balance: 10, Merit: 2, VolunteerMinutes: 120, Day: "2026-11-29", DayEarned: 20, Month: "2026-11", MonthEarned: 30}, 0, 0, 0, 0, 20, 20, false},
		{"stars are kept", Profile{Balance: 10, VolunteerMinutes: 100 * 60, Honors: []EarnedHonor{{Title: "一星志愿者"}}}, 0, 0, 100*60 - 120, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Sub = "v"
			n, e := ReverseVolunteer(tt.p, a, at.Add(time.Hour), sh)
			if n.Balance != tt.balance || n.Debt != tt.debt || n.VolunteerMinutes != tt.minutes || n.Merit != tt.merit || n.DayEarned != tt.dayEarned || n.MonthEarned != tt.monthEarned {
				t.Errorf("got %+v", n)
			}
			if e.Delta != n.Balance-tt.p.Balance || e.ActivityID != "act" {
				t.Errorf("entry %+v", e)
			}
			if n.HasHonor("一星志愿者") != tt.keepsStar {
				t.Errorf("honors %+v", n.Honors)
			}
		})
	}
}

func TestVolunteerRulesValidate(t *testing.T) {
	with := func(v VolunteerRules) Rules { r := DefaultRules(); r.Volunteer = &v; return r }
	tests := []struct {
		name string
		r    Rules
		ok   bool
	}{
		{"defaults (none saved)", DefaultRules(), true},
		{"defaults saved", with(DefaultVolunteerRules()), true},
		{"no stars, no points", with(VolunteerRules{}), true},
		{"negative points", with(VolunteerRules{PointsPerHour: -1}), false},
		{"too many points", with(VolunteerRules{PointsPerHour: MaxVolunteerPerHour + 1}), false},
		{"negative merit", with(VolunteerRules{MeritPerHour: -1}), false},
		{"zero-hour star", with(VolunteerRules{Stars: []Honor{{Title: "星", Threshold: 0}}}), false},
		{"star over the bound", with(VolunteerRules{Stars: []Honor{{Title: "星", Threshold: MaxStarHours + 1}}}), false},
		{"duplicate star titles", with(VolunteerRules{Stars: []Honor{{Title: "星", Threshold: 1}, {Title: "星", Threshold: 2}}}), false},
		{"a report honor's title", with(VolunteerRules{Stars: []Honor{{Title: "文明市民", Threshold: 1}}}), false},
		{"empty title", with(VolunteerRules{Stars: []Honor{{Title: "", Threshold: 1}}}), false},
		{"too many stars", with(VolunteerRules{Stars: make([]Honor, MaxStars+1)}), false},
	}
	for _, tt := range tests {
		if err := tt.r.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestVolunteerAwardIdentity(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, sh)
	k1, k2 := VolunteerKey("act", "v", 1, at), VolunteerKey("act", "v", 2, at)
	if k1.EntryID() == k2.EntryID() {
		t.Error("two revisions share an identity")
	}
	report := AwardKey("act", "v", RuleReport, at)
	if report.EntryID() == k1.EntryID() || strings.HasPrefix(k1.EntryID(), report.EntryID()) {
		t.Errorf("a volunteer award's identity %q meets a report's %q", k1.EntryID(), report.EntryID())
	}
	if hours(45) != "0.75" || hours(120) != "2" || hours(90) != "1.5" {
		t.Errorf("hours: %s %s %s", hours(45), hours(120), hours(90))
	}
}
