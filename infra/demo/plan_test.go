package demo

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
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
		{"reports", float64(f.Received), 540, 660},
		{"registered citizens", float64(f.Registered), 130, 150},
		{"duplicate share", share(f.Duplicates), 0.04, 0.11},
		{"invalid share", share(f.Invalid), 0.015, 0.05},
		{"completion rate", f.CompletionRate(), 0.90, 0.96},
		{"late share of resolutions", float64(f.Late) / float64(f.Resolved), 0.05, 0.2},
		{"points redeemed ÷ issued", float64(f.Spent) / float64(f.Points), 0.2, 0.5},
		{"revocations", float64(f.Revoked), 3, 3},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want %.3f…%.3f", c.name, c.got, c.min, c.max)
		}
	}
	if f.Redemptions["goods"] == 0 || f.Redemptions["charity"] == 0 || f.Redemptions["credit"] == 0 {
		t.Errorf("redemptions by kind %v: want goods, charity and credit", f.Redemptions)
	}
}

// Actions come in time order, none after the cutoff; a report is filed before departments touch it, and
// by a citizen who registered before.
func TestPlanTimeline(t *testing.T) {
	cfg := testConfig(t)
	p, err := NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	filed := map[int]time.Time{}
	registered := map[int]bool{}
	for i, a := range p.Actions {
		if i > 0 && a.At.Before(p.Actions[i-1].At) {
			t.Fatalf("action %d (%s) at %s is before the one before it", i, a.Kind, a.At)
		}
		if a.At.After(cfg.Cutoff) {
			t.Fatalf("action %d (%s) at %s is after the cutoff", i, a.Kind, a.At)
		}
		switch a.Kind {
		case Register:
			registered[a.Citizen] = true
		case File:
			if !registered[a.Citizen] {
				t.Errorf("report %d filed by %s before they registered", a.Report, p.Citizens[a.Citizen].Sub)
			}
			filed[a.Report] = a.At
		case Act, Revoke:
			if _, ok := filed[a.Report]; !ok {
				t.Errorf("%s of report %d before it was filed", a.Kind, a.Report)
			}
		}
	}
	first, _ := time.ParseInLocation(time.DateOnly, p.From, cfg.TZ)
	if p.To != cfg.LastDay || first.AddDate(0, 0, 29).Format(time.DateOnly) != p.To {
		t.Errorf("window %s … %s, want 30 days to %s", p.From, p.To, cfg.LastDay)
	}
}

// Only the planned duplicates are near an earlier report of their category: dispatch must find exactly
// those (50 m, 72 h), and every report lies in the city's bounding box.
func TestPlanPlaces(t *testing.T) {
	p, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	bbox, err := report.ParseBBox("23.20,103.15,23.60,103.60")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Reports {
		if r.Lat < bbox.MinLat || r.Lat > bbox.MaxLat || r.Lng < bbox.MinLng || r.Lng > bbox.MaxLng {
			t.Errorf("report %d at %.5f,%.5f is outside the city", r.Seq, r.Lat, r.Lng)
		}
		near := -1
		for _, o := range p.Reports[:r.Seq] {
			if o.Category == r.Category && r.At.Sub(o.At) < 72*time.Hour &&
				dispatch.Distance(orb.Point{r.Lng, r.Lat}, orb.Point{o.Lng, o.Lat}) <= 50 && o.Fate != Duplicate {
				near = o.Seq
				break
			}
		}
		switch {
		case r.Fate == Duplicate && near < 0:
			t.Errorf("duplicate %d has no open original within 50 m", r.Seq)
		case r.Fate != Duplicate && near >= 0:
			t.Errorf("report %d is within 50 m of report %d of its category", r.Seq, near)
		}
	}
}
