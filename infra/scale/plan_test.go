package scale

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/demo"
)

func mengzi(t *testing.T, reports int) *demo.Plan {
	t.Helper()
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Mengzi(reports, tz, 16)
	// A fixed month, so the test does not depend on the day it runs.
	cfg.LastDay, cfg.Cutoff = "2026-11-29", time.Date(2026, 11, 30, 0, 0, 0, 0, tz)
	p, err := demo.NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The full-size month has Mengzi's proportions, and what the replay's exactness rests on holds
// (demo.Plan.Verify: only planned duplicates within 50 m and 72 h, deadlines' margins, moments).
func TestMengziMonth(t *testing.T) {
	p := mengzi(t, MonthReports)
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	f := p.Expected()
	share := func(n int) float64 { return float64(n) / float64(f.Received) }
	checks := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"reports", float64(f.Received), MonthReports, MonthReports},
		{"active reporters", float64(f.KPI.ActiveReporters), 6300 * 0.97, 6300 * 1.03},
		{"citizens registered in the month", float64(f.Registered), MonthJoiners, MonthJoiners},
		{"registered before the month", float64(len(p.Users())), MonthUsers - MonthJoiners, MonthUsers - MonthJoiners},
		{"completion rate (Mengzi 92.7 %)", f.CompletionRate(), 0.917, 0.937},
		{"duplicate share", share(f.Duplicates), 0.05, 0.1},
		{"invalid share", share(f.Invalid), 0.02, 0.05},
		{"late share of resolutions", float64(f.Late) / float64(f.Resolved), 0.05, 0.2},
		{"revocations", float64(f.Revoked), 67, 67},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want %.3f…%.3f", c.name, c.got, c.min, c.max)
		}
	}
	// Points redeemed ÷ issued is Mengzi's 688,000 ÷ 1,993,000 to within ten points (0.02 % here).
	if want := demo.MengziRedeemShare * float64(f.Points); math.Abs(float64(f.Spent)-want) > 10 {
		t.Errorf("redeemed %d of %d issued (%.3f %%), want %.0f (%.3f %%)", f.Spent, f.Points, 100*f.RedeemedShare(), want, 100*demo.MengziRedeemShare)
	}
	if f.KPI.PointsRedeemed != f.Spent || f.KPI.PointsIssued != f.Points {
		t.Errorf("KPI summary points %d/%d, plan %d/%d", f.KPI.PointsIssued, f.KPI.PointsRedeemed, f.Points, f.Spent)
	}
	for _, k := range []string{"goods", "charity", "credit"} {
		if f.Redemptions[k] < 20 {
			t.Errorf("%d redemptions of %s, want some", f.Redemptions[k], k)
		}
	}
	for _, a := range p.Actions {
		if a.At.After(p.Config.Cutoff) {
			t.Fatalf("action after the end of the month: %+v", a)
		}
	}
	if n := len(p.Actions); n < 40000 {
		t.Errorf("%d actions: fewer than a month of that size makes", n)
	}
}

// A smaller month keeps the proportions and the share of points redeemed.
func TestSmallerMonth(t *testing.T) {
	p := mengzi(t, 1000)
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	f := p.Expected()
	if f.Received != 1000 || math.Abs(float64(f.Spent)-demo.MengziRedeemShare*float64(f.Points)) > 10 {
		t.Errorf("received %d, redeemed %d of %d", f.Received, f.Spent, f.Points)
	}
	if r := f.CompletionRate(); r < 0.91 || r > 0.945 {
		t.Errorf("completion rate %.3f", r)
	}
}

// The preloaded profiles are laid out by the store's own code: one profile per citizen registered before
// the month, on a day before it, and one ledger entry for points carried over; no award identities.
func TestUserItems(t *testing.T) {
	p := mengzi(t, 200)
	items, err := userItems(context.Background(), p, "t")
	if err != nil {
		t.Fatal(err)
	}
	users := p.Users()
	profiles, ledger, withPoints := 0, 0, 0
	for _, u := range users {
		if u.Opening > 0 {
			withPoints++
		}
	}
	s := func(it map[string]types.AttributeValue, k string) string {
		v, _ := it[k].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	for _, it := range items {
		switch {
		case s(it, "sk") == "PROFILE":
			profiles++
			if day := strings.TrimPrefix(s(it, "gsi4pk"), "REGISTERED#"); day == "" || day >= p.From {
				t.Errorf("profile %s registered on %q, want a day before %s", s(it, "pk"), day, p.From)
			}
		case strings.HasPrefix(s(it, "sk"), "LEDGER#"):
			ledger++
			if day := strings.TrimPrefix(s(it, "gsi3pk"), "POINTS#"); day >= p.From {
				t.Errorf("opening entry %s on %s, inside the month", s(it, "sk"), day)
			}
		default:
			t.Errorf("unexpected item %s / %s", s(it, "pk"), s(it, "sk"))
		}
	}
	if profiles != len(users) || ledger != withPoints || withPoints == 0 {
		t.Errorf("%d profiles, %d ledger entries for %d users (%d with points)", profiles, ledger, len(users), withPoints)
	}
}

func TestTenths(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var s []sample
	for i := range 1000 {
		s = append(s, sample{t0.Add(time.Duration(i) * 10 * time.Millisecond), time.Duration(1+i/100) * time.Millisecond})
	}
	ts := Tenths(s)
	if len(ts) != 10 {
		t.Fatalf("%d tenths", len(ts))
	}
	for i, x := range ts {
		if x.N != 100 || x.P50 != time.Duration(i+1)*time.Millisecond || x.P99 != x.P50 {
			t.Errorf("tenth %d: %+v", i+1, x)
		}
		if x.Rate < 95 || x.Rate > 101 {
			t.Errorf("tenth %d: rate %.1f/s, want about 100", i+1, x.Rate)
		}
	}
}
