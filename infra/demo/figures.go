package demo

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/civicsnap/civicsnap/shared/kpi"
)

// Figures are what a plan (or a run) amounts to: the counts of what was done and, for a plan, the KPI
// summary of its window as the stack must report it.
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
	Points      int64       // issued, after the caps
	Spent       int64       // redeemed, net of cancellations
	KPI         kpi.Summary // a plan's: GET /v1/kpi/summary of its window once the month is replayed
}

// CompletionRate is resolved ÷ (received − duplicates − invalid) for the window's reports.
func (f Figures) CompletionRate() float64 {
	valid := f.Received - f.Duplicates - f.Invalid
	if valid <= 0 {
		return 0
	}
	return float64(f.Resolved) / float64(valid)
}

// RedeemedShare is points redeemed ÷ points issued.
func (f Figures) RedeemedShare() float64 {
	if f.Points == 0 {
		return 0
	}
	return float64(f.Spent) / float64(f.Points)
}

// Expected returns the figures of the plan's actions (those up to the cutoff). The KPI summary is
// computed by the KPI package's own roll-up (kpi.Compute per local day, kpi.Summarize) from the items
// the replay makes the stack write, at the plan's moments.
func (p *Plan) Expected() Figures {
	f := Figures{Redemptions: map[string]int{}}
	days := map[string]*kpi.Inputs{}
	in := func(t time.Time) *kpi.Inputs {
		d := t.In(p.tz()).Format(time.DateOnly)
		if days[d] == nil {
			days[d] = &kpi.Inputs{}
		}
		return days[d]
	}
	status := map[int]string{}
	filed := map[int]bool{}
	cancelled := map[int]bool{}
	for _, a := range p.Actions {
		switch a.Kind {
		case Register:
			f.Registered++
			in(a.At).Registered++
		case File:
			f.Received++
			filed[a.Report] = true
			if p.Reports[a.Report].Fate == Duplicate {
				f.Duplicates++
				status[a.Report] = "duplicate"
			} else {
				status[a.Report] = "dispatched"
			}
		case Act:
			r := p.Reports[a.Report]
			status[a.Report] = a.To
			if a.To == "rejected" && a.Reason == "not_ours" {
				status[a.Report] = "needs_triage"
			}
			switch {
			case a.To == "rejected" && a.Reason == "invalid":
				f.Invalid++
			case a.To == "resolved":
				f.Resolved++
				f.Points += r.Granted
				if r.Late {
					f.Late++
				}
				in(a.At).Resolutions = append(in(a.At).Resolutions, kpi.Resolution{ReportID: strconv.Itoa(r.Seq),
					Category: r.Category, LeadDept: r.FinalLead, CreatedAt: r.At, ResolvedAt: a.At, SLADeadline: r.Deadline})
				in(a.At).Ledger = append(in(a.At).Ledger, kpi.LedgerLine{Kind: "award", Delta: r.Granted})
			}
		case Revoke:
			f.Revoked++
			status[a.Report] = "revoked"
			in(a.At).Ledger = append(in(a.At).Ledger, kpi.LedgerLine{Kind: "reversal", Delta: -p.Reports[a.Report].Granted})
		case Redeem:
			red := p.Redemptions[a.Redemption]
			f.Redemptions[red.Kind]++
			f.Spent += red.Cost
			in(a.At).Ledger = append(in(a.At).Ledger, kpi.LedgerLine{Kind: "redemption", Delta: -red.Cost})
		case Fulfil:
			f.Fulfilled++
		case Cancel:
			f.Cancelled++
			cancelled[a.Redemption] = true
			red := p.Redemptions[a.Redemption]
			f.Spent -= red.Cost
			in(a.At).Ledger = append(in(a.At).Ledger, kpi.LedgerLine{Kind: "refund", Delta: red.Cost})
		case Sweep:
			f.Sweeps++
		}
	}
	f.Open = f.Received - f.Duplicates - f.Invalid - f.Resolved
	for _, a := range p.Actions {
		switch a.Kind {
		case File:
			r := p.Reports[a.Report]
			c := kpi.Created{ID: strconv.Itoa(r.Seq), Category: r.Category, Status: status[r.Seq],
				ReporterSub: p.Citizens[r.Citizen].Sub, LeadDept: r.FinalLead}
			switch {
			case r.Fate == Duplicate:
				c.DuplicateOf, c.LeadDept = strconv.Itoa(r.DupOf), ""
			case status[r.Seq] == "rejected":
				c.Reason = "invalid"
			}
			in(a.At).Created = append(in(a.At).Created, c)
		case Redeem:
			red := p.Redemptions[a.Redemption]
			st := "reserved"
			if cancelled[red.Seq] {
				st = "cancelled"
			}
			in(a.At).Redemptions = append(in(a.At).Redemptions, kpi.RedemptionLine{Kind: red.Kind, Amount: red.Cost, Status: st})
		}
	}
	var snaps []kpi.Snapshot
	for _, d := range slices.Sorted(maps.Keys(days)) {
		snaps = append(snaps, kpi.Compute(d, *days[d], p.tz(), time.Time{}))
	}
	f.KPI = kpi.Summarize(p.From, p.To, snaps)
	return f
}

// Print writes the figures as a short table; a run's figures count citizens who signed in (a profile is
// created only for the first).
func (f Figures) Print(w io.Writer, title string, run bool) {
	kinds := slices.Sorted(maps.Keys(f.Redemptions))
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
		fmt.Fprintf(w, "  points issued %d, redeemed %d (%.1f %%; Mengzi %.1f %%)\n", f.Points, f.Spent,
			100*f.RedeemedShare(), 100*MengziRedeemShare)
	}
	fmt.Fprintf(w, "  redemptions: %s; goods handed over %d, cancelled %d\n", strings.Join(reds, ", "), f.Fulfilled, f.Cancelled)
}

// KPIRow is one figure of the KPI summary, planned and reported.
type KPIRow struct {
	Name           string
	Planned, Got   string
	Equal          bool
	PlannedV, GotV any
}

// CompareKPI lines up the plan's KPI summary with the one the stack reported, figure by figure.
func CompareKPI(plan, got kpi.Summary) []KPIRow {
	pv, gv := reflect.ValueOf(plan), reflect.ValueOf(got)
	t := pv.Type()
	var rows []KPIRow
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("json")
		// The demo plans no volunteer history (README "Volunteers"): the stack's volunteer figures are the
		// seed's organiser alone, not a planned figure.
		if name == "from" || name == "to" || strings.HasPrefix(name, "volunteers") {
			continue
		}
		a, b := pv.Field(i).Interface(), gv.Field(i).Interface()
		rows = append(rows, KPIRow{Name: name, Planned: show(a), Got: show(b), Equal: reflect.DeepEqual(norm(a), norm(b)), PlannedV: a, GotV: b})
	}
	return rows
}

// norm makes empty maps and slices equal to nil ones.
func norm(v any) any {
	rv := reflect.ValueOf(v)
	if (rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.Len() == 0 {
		return nil
	}
	return v
}

func show(v any) string {
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return "—"
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case map[string]kpi.Count:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, fmt.Sprintf("%s %d/%d", k, x[k].Count, x[k].Points))
		}
		return strings.Join(parts, ", ")
	case []kpi.CategoryRow:
		var parts []string
		for _, r := range x {
			parts = append(parts, fmt.Sprintf("%s %d/%d", r.Category, r.Received, r.Resolved))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// PrintKPI writes the comparison, one figure a line, and returns how many differ.
func PrintKPI(w io.Writer, rows []KPIRow) int {
	bad := 0
	fmt.Fprintf(w, "  %-20s %-14s %-14s\n", "KPI", "planned", "reported")
	for _, r := range rows {
		mark := "="
		if !r.Equal {
			mark, bad = "≠", bad+1
		}
		if len(r.Planned) > 14 || len(r.Got) > 14 {
			fmt.Fprintf(w, "  %-20s %s\n  %-20s   planned:  %s\n  %-20s   reported: %s\n", r.Name, mark, "", r.Planned, "", r.Got)
			continue
		}
		fmt.Fprintf(w, "  %-20s %-14s %-14s %s\n", r.Name, r.Planned, r.Got, mark)
	}
	return bad
}
