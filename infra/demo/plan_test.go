package demo

import (
	"math"
	"os"
	"reflect"
	"testing"
	"time"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return Config{TZ: tz, LastDay: "2026-11-27", Cutoff: time.Date(2026, 11, 27, 15, 30, 0, 0, tz)}
}

func TestPlanIsDeterministic(t *testing.T) {
	a, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of one config differ")
	}
	if os.Getenv("DEMO_PRINT") != "" {
		a.Expected().Print(os.Stdout, "plan", false)
	}
}

// A later cutoff only adds actions: a second run of the same day replays the first one's month.
func TestPlanGrowsWithTheCutoff(t *testing.T) {
	early := testConfig(t)
	early.Cutoff = early.Cutoff.Add(-9 * time.Hour)
	a, err := NewPlan(early)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Actions) >= len(b.Actions) {
		t.Fatalf("%d actions by the earlier cutoff, %d by the later", len(a.Actions), len(b.Actions))
	}
	for i := range a.Actions {
		if !reflect.DeepEqual(a.Actions[i], b.Actions[i]) {
			t.Fatalf("action %d differs: %+v, then %+v", i, a.Actions[i], b.Actions[i])
		}
	}
}

// The month has Mengzi's proportions, scaled down.
func TestPlanProportions(t *testing.T) {
	p, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	f := p.Expected()
	share := func(n int) float64 { return float64(n) / float64(f.Received) }
	checks := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"reports", float64(f.Received), 560, 600}, // 600 over the month, the last days' not all filed yet
		{"registered citizens", float64(f.Registered), 130, 150},
		{"duplicate share", share(f.Duplicates), 0.04, 0.11},
		{"invalid share", share(f.Invalid), 0.015, 0.05},
		{"completion rate", f.CompletionRate(), 0.90, 0.96},
		{"late share of resolutions", float64(f.Late) / float64(f.Resolved), 0.05, 0.2},
		{"revocations", float64(f.Revoked), 3, 3},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want %.3f…%.3f", c.name, c.got, c.min, c.max)
		}
	}
	// Up to a cutoff on the window's last day: the redemptions of the last days' awards are still to come.
	checkRedeemShare(t, f, 0.025*float64(f.Points))
	if f.Redemptions["goods"] == 0 || f.Redemptions["charity"] == 0 || f.Redemptions["credit"] == 0 {
		t.Errorf("redemptions by kind %v: want goods, charity and credit", f.Redemptions)
	}
	if f.KPI.Received != f.Received || f.KPI.PointsIssued != f.Points || f.KPI.PointsRedeemed != f.Spent ||
		f.KPI.Resolved != f.Resolved || f.KPI.OnTime != f.Resolved-f.Late || f.KPI.RegisteredUsers != f.Registered {
		t.Errorf("the planned KPI summary %+v disagrees with the plan's counts %+v", f.KPI, f)
	}
}

// checkRedeemShare: points redeemed are Mengzi's share of points issued, to within slack points.
// A month planned to its end meets the share to within ten points (see redemptions).
func checkRedeemShare(t *testing.T, f Figures, slack float64) {
	t.Helper()
	want := MengziRedeemShare * float64(f.Points)
	if d := math.Abs(float64(f.Spent) - want); d > slack {
		t.Errorf("points redeemed %d, issued %d: %.2f %%, want %.2f %% (%.0f points) to within %.0f points",
			f.Spent, f.Points, 100*f.RedeemedShare(), 100*MengziRedeemShare, want, slack)
	}
}

// Verify's rules hold: order, moments, places (only planned duplicates within 50 m and 72 h), deadlines'
// margins, redemptions after their awards.
func TestPlanVerifies(t *testing.T) {
	for _, slot := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour} {
		cfg := testConfig(t)
		cfg.Slot = slot
		p, err := NewPlan(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(); err != nil {
			t.Errorf("slot %s: %v", slot, err)
		}
	}
}

// Verify finds what it is there to find.
func TestVerifyCatches(t *testing.T) {
	p, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	var orig, other int = -1, -1
	for _, r := range p.Reports {
		if r.Fate == Resolved && !r.ResolveAt.IsZero() && orig < 0 {
			orig = r.Seq
		} else if orig >= 0 && r.Fate == Resolved && r.Category == p.Reports[orig].Category && r.At.Sub(p.Reports[orig].At) < 24*time.Hour && r.At.After(p.Reports[orig].At) {
			other = r.Seq
			break
		}
	}
	if other < 0 {
		t.Fatal("no pair of reports to move together")
	}
	p.Reports[other].Lat, p.Reports[other].Lng = offset(p.Reports[orig].Lat, p.Reports[orig].Lng, 20, 1)
	p.Reports[orig].Deadline = p.Reports[orig].ResolveAt.Add(time.Minute)
	err = p.Verify()
	if err == nil {
		t.Fatal("Verify found nothing")
	}
	for _, want := range []string{"within 50 m", "from its deadline"} {
		if !contains(err.Error(), want) {
			t.Errorf("Verify: %v; want %q", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestPlanWindow(t *testing.T) {
	cfg := testConfig(t)
	p, err := NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := time.ParseInLocation(time.DateOnly, p.From, cfg.TZ)
	if p.To != cfg.LastDay || first.AddDate(0, 0, 29).Format(time.DateOnly) != p.To {
		t.Errorf("window %s … %s, want 30 days to %s", p.From, p.To, cfg.LastDay)
	}
}

// The browser test's fortnight (tests/browser/run.sh: -days 14 -reports 40 -citizens 15) holds together.
func TestBrowserTestFortnight(t *testing.T) {
	cfg := testConfig(t)
	cfg.Days, cfg.Reports, cfg.Citizens = 14, 40, 15
	p, err := NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	if f := p.Expected(); f.Received < 35 || f.Resolved == 0 || f.Registered == 0 {
		t.Errorf("fortnight: %+v", f)
	}
}

// A month planned to its end meets Mengzi's share of points redeemed to within ten points.
func TestPlanToItsEndMeetsTheShare(t *testing.T) {
	cfg := testConfig(t)
	cfg.Cutoff = time.Date(2026, 11, 28, 0, 0, 0, 0, cfg.TZ)
	p, err := NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkRedeemShare(t, p.Expected(), 10)
}
