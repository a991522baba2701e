package demo

import (
	"cmp"
	"slices"
	"time"

	"github.com/civicsnap/civicsnap/shared/points"
)

// award is a resolution's points for its reporter.
type award struct {
	at      time.Time
	citizen int
	report  int
	points  int64
}

// resolutions returns the awards of the plan's resolved reports in the order accrual applies them.
func (p *planner) resolutions() []award {
	var out []award
	for _, r := range p.plan.Reports {
		if !r.ResolveAt.IsZero() {
			out = append(out, award{r.ResolveAt, r.Citizen, r.Seq, int64(p.cats[r.Category].Points)})
		}
	}
	slices.SortFunc(out, func(a, b award) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.report, b.report)) })
	return out
}

// awards computes what each award grants under the default caps (points.DefaultRules: 50 a local day,
// 500 a local month), as points.Grant does. A citizen's awards of one moment are applied in some order
// by the stream consumer; their total does not depend on it, how a cap splits them does — such awards
// are marked capped and never revoked (a reversal takes back one award's grant).
func (p *planner) awards() {
	rules := points.DefaultRules()
	type counters struct {
		day, month             string
		dayEarned, monthEarned int64
	}
	ctr := make([]counters, len(p.plan.Citizens))
	all := p.resolutions()
	for i := 0; i < len(all); {
		// One citizen's awards of one moment.
		j := i
		for j < len(all) && all[j].at.Equal(all[i].at) {
			j++
		}
		byCitizen := map[int][]award{}
		for _, a := range all[i:j] {
			byCitizen[a.citizen] = append(byCitizen[a.citizen], a)
		}
		for c, as := range byCitizen {
			local := as[0].at.In(p.cfg.TZ)
			day, month := local.Format(time.DateOnly), local.Format("2006-01")
			k := &ctr[c]
			if day > k.day {
				k.day, k.dayEarned = day, 0
			}
			if month > k.month {
				k.month, k.monthEarned = month, 0
			}
			var want int64
			for _, a := range as {
				want += a.points
			}
			budget := max(0, min(rules.DailyCap-k.dayEarned, rules.MonthlyCap-k.monthEarned))
			capped := want > budget && len(as) > 1
			left := budget
			for _, a := range as {
				g := min(a.points, left)
				left -= g
				r := &p.plan.Reports[a.report]
				r.Granted, r.capped = g, capped || g < a.points
			}
			k.dayEarned += min(want, budget)
			k.monthEarned += min(want, budget)
		}
		i = j
	}
}

// revocations: an admin's review finds some resolved reports were not genuine, one to four days after
// their resolution. Only uncapped awards are revoked (see awards), early enough to fall in the window.
func (p *planner) revocations() {
	var cands []int
	limit := p.plan.end.Add(-96 * time.Hour)
	for i, r := range p.plan.Reports {
		if r.Fate == Resolved && !r.ResolveAt.IsZero() && r.ResolveAt.Before(limit) && !r.capped && r.Granted > 0 {
			cands = append(cands, i)
		}
	}
	for n := 0; n < p.cfg.Revocations && len(cands) > 0; n++ {
		k := p.rng.IntN(len(cands))
		r := &p.plan.Reports[cands[k]]
		cands = slices.Delete(cands, k, k+1)
		r.Revoked = true
		p.add(Action{At: p.middle(r.ResolveAt.Add(p.hours(24, 90))), Kind: Revoke, Report: r.Seq, Note: revocationNote})
	}
}

// wallet is what the planner knows a citizen can spend. It is a lower bound of the stack's balance at
// the redemption's moment: it counts awards of earlier moments only, never a revoked award (so a
// reversal always finds its points and leaves no debt), and a refund only once it has happened.
type wallet struct {
	balance int64
	refunds []refund
	bought  map[string]int64 // goods by item and local month
	honor   bool
	last    time.Time // the latest redemption: a citizen redeems one thing at a time
}

// option is something to redeem: the seeded catalog's items, their cost and monthly limit per citizen,
// and how often citizens choose them.
type option struct {
	item   string
	kind   string
	cost   int64
	limit  int64
	weight float64
}

var goals = []option{
	{"library-fund", "charity", 10, 0, 1.5}, {"library-fund", "charity", 20, 0, 1}, {"umbrella", "goods", 30, 1, 3},
	{"credit-units", "credit", 50, 0, 2}, {"rice-5kg", "goods", 60, 2, 3}, {"bus-card-20", "goods", 100, 1, 1.5},
	{"civic-volunteer", "honor", 200, 0, 2},
}

type refund struct {
	at     time.Time
	amount int64
}

// redemptions: citizens spend what they earn so that, over the month, points redeemed (net of
// cancellations) come to RedeemShare of points issued (Mengzi: 688,000 of 1,993,000). Walking the awards
// in time order, the further the month's redemptions lag behind that share, the likelier the citizen
// just awarded redeems — a slot or more later, something they can afford that does not overshoot the
// share by much. What is still missing at the end, citizens with points left donate at the last moment,
// ten or twenty points each, so the share is met to within ten points.
func (p *planner) redemptions() {
	// The window's end, not the cutoff: the plan must not depend on when it is replayed (a second run of
	// the day replays the first one's month). A month replayed before its end has not had all of them.
	horizon := p.plan.end
	// The last middle moment at or before the horizon: no redemption comes later.
	lastMoment := p.middle(horizon)
	if lastMoment.After(horizon) {
		lastMoment = lastMoment.Add(-p.cfg.Slot)
	}
	wallets := make([]wallet, len(p.plan.Citizens))
	for i, c := range p.plan.Citizens {
		wallets[i].balance = c.Opening
	}
	var issued, spent float64
	add := func(red Redemption) {
		red.Seq = len(p.plan.Redemptions)
		w := &wallets[red.Citizen]
		w.balance -= red.Cost
		w.last = red.At
		spent += float64(red.Cost)
		p.add(Action{At: red.At, Kind: Redeem, Citizen: red.Citizen, Redemption: red.Seq})
		if red.Kind == "goods" {
			switch x := p.rng.Float64(); {
			case x < 0.08:
				red.CancelAt = p.middle(red.At.Add(p.hours(1, 20)))
				p.add(Action{At: red.CancelAt, Kind: Cancel, Citizen: red.Citizen, Redemption: red.Seq})
				if !red.CancelAt.After(horizon) {
					w.refunds = append(w.refunds, refund{red.CancelAt, red.Cost})
					spent -= float64(red.Cost)
				}
			case x < 0.92:
				red.FulfilAt = p.middle(red.At.Add(p.hours(3, 96)))
				p.add(Action{At: red.FulfilAt, Kind: Fulfil, Citizen: red.Citizen, Redemption: red.Seq})
			}
		}
		p.plan.Redemptions = append(p.plan.Redemptions, red)
	}
	settle := func(w *wallet, now time.Time) {
		w.refunds = slices.DeleteFunc(w.refunds, func(f refund) bool {
			if f.at.Before(now) {
				w.balance += f.amount
				return true
			}
			return false
		})
	}
	for _, a := range p.resolutions() {
		r := p.plan.Reports[a.report]
		if a.at.After(horizon) {
			break
		}
		issued += float64(r.Granted)
		w := &wallets[a.citizen]
		if !r.Revoked && a.at.Before(lastMoment) {
			w.balance += r.Granted
		}
		settle(w, a.at)
		deficit := p.cfg.RedeemShare*issued - spent
		if w.balance < 30 || deficit < 10 || a.at.Before(w.last) || p.rng.Float64() > deficit/100 {
			continue
		}
		at := p.middle(a.at.Add(p.hours(2, 60)))
		if at.After(lastMoment) {
			at = lastMoment
		}
		if at.Before(a.at.Add(p.cfg.Slot)) { // the award must have been applied (drained) before
			continue
		}
		month := at.In(p.cfg.TZ).Format("2006-01")
		if w.bought == nil {
			w.bought = map[string]int64{}
		}
		// Overshooting the share a little lets dearer things be chosen; not near the end, where it would stay.
		slack := max(30, issued/100)
		if at.After(lastMoment.Add(-48 * time.Hour)) {
			slack = 30
		}
		var opts []option
		for _, o := range goals {
			if o.cost <= w.balance && float64(o.cost) <= deficit+slack && (o.limit == 0 || w.bought[o.item+month] < o.limit) &&
				(o.kind != "honor" || !w.honor) {
				opts = append(opts, o)
			}
		}
		if len(opts) == 0 {
			continue
		}
		o := pick(p.rng, opts, func(o option) float64 { return o.weight })
		red := Redemption{Citizen: a.citizen, ItemID: o.item, Kind: o.kind, Cost: o.cost, At: at}
		switch o.kind {
		case "goods":
			red.Quantity = 1
			w.bought[o.item+month]++
		case "charity", "credit":
			red.Amount = o.cost
		case "honor":
			w.honor = true
		}
		add(red)
	}
	// The last moment's donations close the gap.
	for i := range wallets {
		settle(&wallets[i], lastMoment)
	}
	for i := 0; p.cfg.RedeemShare*issued-spent >= 10 && i < len(wallets); i++ {
		for p.cfg.RedeemShare*issued-spent >= 10 && wallets[i].balance >= 10 && lastMoment.After(p.plan.first) {
			amount := int64(10)
			if p.cfg.RedeemShare*issued-spent >= 20 && wallets[i].balance >= 20 {
				amount = 20
			}
			add(Redemption{Citizen: i, ItemID: "library-fund", Kind: "charity", Cost: amount, Amount: amount, At: lastMoment})
		}
	}
}
