package demo

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Figures are what a plan (or a run) amounts to, in the KPI definitions' terms.
type Figures struct {
	Registered  int
	Received    int
	Duplicates  int
	Invalid     int
	Resolved    int
	Late        int // resolved after the deadline
	Open        int // valid reports not resolved (in the window's reports)
	Revoked     int
	Redemptions map[string]int // by kind
	Fulfilled   int
	Cancelled   int
	Sweeps      int
	Points      int64 // issued, before caps and reversals
	Spent       int64 // redeemed, net of cancellations
}

// CompletionRate is resolved ÷ (received − duplicates − invalid) for the window's reports.
func (f Figures) CompletionRate() float64 {
	valid := f.Received - f.Duplicates - f.Invalid
	if valid <= 0 {
		return 0
	}
	return float64(f.Resolved) / float64(valid)
}

// Expected returns the figures of the plan's actions (those up to the cutoff).
func (p *Plan) Expected() Figures {
	f := Figures{Redemptions: map[string]int{}}
	for _, a := range p.Actions {
		switch a.Kind {
		case Register:
			f.Registered++
		case File:
			f.Received++
			if p.Reports[a.Report].Fate == Duplicate {
				f.Duplicates++
			}
		case Act:
			switch {
			case a.To == "rejected" && a.Reason == "invalid":
				f.Invalid++
			case a.To == "resolved":
				f.Resolved++
				f.Points += int64(p.points[p.Reports[a.Report].Category])
				if p.Reports[a.Report].Late {
					f.Late++
				}
			}
		case Revoke:
			f.Revoked++
		case Redeem:
			f.Redemptions[p.Redemptions[a.Redemption].Kind]++
			f.Spent += p.Redemptions[a.Redemption].Cost
		case Fulfil:
			f.Fulfilled++
		case Cancel:
			f.Cancelled++
			f.Spent -= p.Redemptions[a.Redemption].Cost
		case Sweep:
			f.Sweeps++
		}
	}
	f.Open = f.Received - f.Duplicates - f.Invalid - f.Resolved
	return f
}

// Print writes the figures as a short table; a run's figures count citizens who signed in (a profile is
// created only for the first).
func (f Figures) Print(w io.Writer, title string, run bool) {
	kinds := slices.Sorted(func(yield func(string) bool) {
		for k := range f.Redemptions {
			if !yield(k) {
				return
			}
		}
	})
	var reds []string
	for _, k := range kinds {
		reds = append(reds, fmt.Sprintf("%s %d", k, f.Redemptions[k]))
	}
	fmt.Fprintf(w, "%s\n", title)
	if run {
		fmt.Fprintf(w, "  citizens signed in %d\n", f.Registered)
	} else {
		fmt.Fprintf(w, "  citizens registered %d\n", f.Registered)
	}
	fmt.Fprintf(w, "  reports received %d: duplicates %d, invalid %d, resolved %d (late %d), still open %d; revoked %d\n",
		f.Received, f.Duplicates, f.Invalid, f.Resolved, f.Late, f.Open, f.Revoked)
	if f.Received-f.Duplicates-f.Invalid > 0 {
		fmt.Fprintf(w, "  completion rate 办结率 %.1f %%\n", 100*f.CompletionRate())
	}
	if f.Points > 0 {
		fmt.Fprintf(w, "  points issued ≈ %d, redeemed ≈ %d (before caps and revocations)\n", f.Points, f.Spent)
	}
	fmt.Fprintf(w, "  redemptions: %s; goods handed over %d, cancelled %d\n", strings.Join(reds, ", "), f.Fulfilled, f.Cancelled)
}
