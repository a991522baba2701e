package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Config sizes the month. The defaults are Mengzi's published proportions (161,000 reports a year from
// 76,000 users, 92.7 % handled) scaled down to a small city's month.
type Config struct {
	Seed     uint64
	Days     int            // length of the window, ending with LastDay (30)
	LastDay  string         // YYYY-MM-DD, the window's last local day (today)
	Cutoff   time.Time      // the wall clock: events planned after it have not happened yet
	TZ       *time.Location // the city's time zone
	Citizens int            // registered citizens (150)
	Reports  int            // reports filed over the window (600)
}

// Fate is what becomes of a report after it is filed.
type Fate int

// Fates of planned reports.
const (
	Resolved  Fate = iota // accepted, worked on, resolved with a proof photo (on time or late)
	Duplicate             // filed near an open report of the same category: dispatch links it
	Invalid               // the lead department rejects it as invalid
	NotOurs               // the lead sends it back; the command center reassigns it; then resolved
	Stuck                 // accepted but not resolved within the month
)

func (f Fate) String() string {
	return [...]string{"resolved", "duplicate", "invalid", "not_ours", "stuck"}[f]
}

// Citizen is a demo user.
type Citizen struct {
	Sub        string
	RegisterAt time.Time
	weight     float64
}

// Report is a planned report.
type Report struct {
	Seq         int
	Citizen     int // index into Plan.Citizens
	Category    string
	Description string
	Address     string
	Lat, Lng    float64
	At          time.Time
	Fate        Fate
	DupOf       int    // Seq of the original, or -1
	Lead        string // the lead the seeded rules give it (dispatch.CommandCenter when none matches)
	SLAHours    int
	ToDept      string    // the command center's choice (triage, not ours)
	Late        bool      // resolved after its deadline
	ResolveAt   time.Time // zero if never (within the plan)
	Revoked     bool
}

// Redemption is a planned redemption.
type Redemption struct {
	Seq      int
	Citizen  int
	ItemID   string
	Kind     string
	Quantity int64
	Amount   int64 // charity and credit: points
	Cost     int64
	At       time.Time
}

// ActionKind is what an Action does.
type ActionKind int

// Kinds of actions.
const (
	Register ActionKind = iota // the citizen opens the app for the first time (profile)
	File                       // the citizen files the report
	Act                        // a department changes the report
	Sweep                      // the SLA sweeper runs
	Redeem                     // the citizen redeems
	Fulfil                     // a clerk hands goods over
	Cancel                     // the citizen cancels a reservation
	Revoke                     // an admin revokes a resolution
)

func (k ActionKind) String() string {
	return [...]string{"register", "file", "act", "sweep", "redeem", "fulfil", "cancel", "revoke"}[k]
}

// Action is one event of the month, at its moment.
type Action struct {
	At         time.Time
	Kind       ActionKind
	Citizen    int
	Report     int // Seq
	Redemption int // Seq
	Step       int // the report's n-th department action (webhook message ids)
	To         string
	Reason     string
	ToDept     string
	Note       string
	order      int
}

// Plan is a month: who, what, where and when, and the figures it implies.
type Plan struct {
	From, To    string
	Citizens    []Citizen
	Reports     []Report
	Redemptions []Redemption
	Actions     []Action // in time order; only those at or before the cutoff
	points      map[string]int
	loc         *time.Location
	seed        uint64
}

func (p *Plan) tz() *time.Location { return p.loc }

// Defaults fills in the zero fields of c.
func (c Config) Defaults() Config {
	if c.Seed == 0 {
		c.Seed = 16
	}
	if c.Days == 0 {
		c.Days = 30
	}
	if c.TZ == nil {
		c.TZ = time.UTC
	}
	if c.Cutoff.IsZero() {
		c.Cutoff = time.Now()
	}
	if c.LastDay == "" {
		c.LastDay = c.Cutoff.In(c.TZ).Format(time.DateOnly)
	}
	if c.Citizens == 0 {
		c.Citizens = 150
	}
	if c.Reports == 0 {
		c.Reports = 600
	}
	return c
}

// planner carries what a plan is built from.
type planner struct {
	cfg    Config
	rng    *rand.Rand
	engine *dispatch.Engine
	cats   map[string]report.Category
	geo    *geography
	plan   *Plan
	acts   []Action
}

// NewPlan plans a month. The same Config always gives the same plan.
func NewPlan(cfg Config) (*Plan, error) {
	cfg = cfg.Defaults()
	last, err := time.ParseInLocation(time.DateOnly, cfg.LastDay, cfg.TZ)
	if err != nil {
		return nil, fmt.Errorf("last day %q: %w", cfg.LastDay, err)
	}
	first := last.AddDate(0, 0, -(cfg.Days - 1))
	rules, err := seed.Rules()
	if err != nil {
		return nil, err
	}
	areas, err := seed.Areas()
	if err != nil {
		return nil, err
	}
	cats, err := seed.Categories()
	if err != nil {
		return nil, err
	}
	engine, err := dispatch.NewEngine(rules, areas, cfg.TZ)
	if err != nil {
		return nil, err
	}
	geo, err := newGeography(areas, engine)
	if err != nil {
		return nil, err
	}
	p := &planner{
		cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x636976696373)), engine: engine, geo: geo,
		cats: map[string]report.Category{},
		plan: &Plan{From: first.Format(time.DateOnly), To: last.Format(time.DateOnly), loc: cfg.TZ, seed: cfg.Seed},
	}
	for _, c := range cats {
		p.cats[c.Code] = c
	}
	p.plan.points = map[string]int{}
	for _, c := range cats {
		p.plan.points[c.Code] = c.Points
	}
	p.citizens(first)
	p.reports(first)
	p.revocations()
	p.redemptions()
	p.sweeps(first, last.AddDate(0, 0, 1))
	slices.SortStableFunc(p.acts, func(a, b Action) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	for _, a := range p.acts {
		if !a.At.After(cfg.Cutoff) {
			p.plan.Actions = append(p.plan.Actions, a)
		}
	}
	return p.plan, nil
}

func (p *planner) add(a Action) {
	a.order = len(p.acts)
	p.acts = append(p.acts, a)
}

// uniform returns a duration between lo and hi hours.
func (p *planner) hours(lo, hi float64) time.Duration {
	return time.Duration((lo + (hi-lo)*p.rng.Float64()) * float64(time.Hour))
}

// citizens: a launch campaign registers two in five in the first three days, the rest join through the
// month. Activity is skewed (a few keen reporters file many reports); some never report.
func (p *planner) citizens(first time.Time) {
	n := p.cfg.Citizens
	times := make([]time.Time, n)
	for i := range times {
		day := p.rng.IntN(3)
		if p.rng.Float64() >= 0.4 {
			day = p.rng.IntN(p.cfg.Days)
		}
		times[i] = first.AddDate(0, 0, day).Add(p.hours(7.5, 22))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	ranks := p.rng.Perm(n)
	for i, t := range times {
		w := 1 / math.Pow(float64(ranks[i]+1), 0.85)
		if p.rng.Float64() < 0.12 {
			w = 0 // registered, never reports
		}
		c := Citizen{Sub: fmt.Sprintf("demo-citizen-%03d", i+1), RegisterAt: t, weight: w}
		p.plan.Citizens = append(p.plan.Citizens, c)
		p.add(Action{At: t, Kind: Register, Citizen: i})
	}
}

// reporter picks a registered citizen by activity, other than not.
func (p *planner) reporter(at time.Time, not int) int {
	total := 0.0
	for i, c := range p.plan.Citizens {
		if c.RegisterAt.Before(at) && i != not {
			total += c.weight
		}
	}
	x := p.rng.Float64() * total
	pick := -1
	for i, c := range p.plan.Citizens {
		if !c.RegisterAt.Before(at) || i == not || c.weight == 0 {
			continue
		}
		pick = i
		if x -= c.weight; x < 0 {
			break
		}
	}
	return pick
}

// hourWeights: few reports at night, peaks mid-morning and early evening.
var hourWeights = [24]float64{0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 2.1, 2.2, 2.0, 1.6, 1.3, 1.6, 1.7, 1.8, 2.0, 2.2, 2.0, 1.6, 1.2, 0.8, 0.5}

func pick[T any](rng *rand.Rand, items []T, weight func(T) float64) T {
	total := 0.0
	for _, it := range items {
		total += weight(it)
	}
	x := rng.Float64() * total
	for _, it := range items {
		if x -= weight(it); x < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// reportTimes spreads the month's reports over its days (weekends busier) and hours.
func (p *planner) reportTimes(first time.Time) []time.Time {
	var times []time.Time
	base := float64(p.cfg.Reports) / float64(p.cfg.Days) / (7.3 / 7) // 7.3: the weekday factors' sum
	for d := range p.cfg.Days {
		day := first.AddDate(0, 0, d)
		f := 1.0
		switch day.Weekday() {
		case time.Saturday, time.Sunday:
			f = 1.15
		case time.Monday:
			f = 1.08
		case time.Friday:
			f = 0.92
		}
		n := int(math.Round(base * f * (0.8 + 0.4*p.rng.Float64())))
		hours := make([]int, 24)
		for h := range hours {
			hours[h] = h
		}
		for range n {
			h := pick(p.rng, hours, func(h int) float64 { return hourWeights[h] })
			times = append(times, day.Add(time.Duration(h)*time.Hour+time.Duration(p.rng.IntN(3600))*time.Second))
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	return times
}

// Department performance: the share of cases each lead resolves within its deadline.
var onTimeShare = map[string]float64{
	"sanitation": 0.95, "traffic_police": 0.92, "police": 0.9, "municipal": 0.86, "environment": 0.85,
	"city_mgmt": 0.8, "housing": 0.7, dispatch.CommandCenter: 0.9,
}

// Where the command center sends what no rule matched, and what a department sent back.
var triageTargets = []struct {
	dept string
	w    float64
}{{"city_mgmt", 4}, {"municipal", 2.5}, {"sanitation", 1.5}, {"environment", 1}}

func (p *planner) reports(first time.Time) {
	times := p.reportTimes(first)
	// Illegal building is rare: three a month, whatever the month's size. Housing, its lead, gets nothing
	// else, so it shows in the league table below the minimum number of cases (listed, not ranked).
	rare := map[int]bool{}
	for _, f := range []float64{0.2, 0.5, 0.8} {
		rare[int(f*float64(len(times)))] = true
	}
	for i, at := range times {
		seq := len(p.plan.Reports)
		r := Report{Seq: seq, At: at, DupOf: -1}
		if !rare[i] && p.rng.Float64() < 0.075 && p.duplicateOf(&r) {
			p.plan.Reports = append(p.plan.Reports, r)
			p.add(Action{At: r.At, Kind: File, Report: seq, Citizen: r.Citizen})
			continue
		}
		r.Citizen = p.reporter(at, -1)
		if r.Citizen < 0 {
			continue
		}
		r.Category = p.category(at)
		if rare[i] {
			r.Category = "illegal_building"
		}
		r.Description, r.Address = p.describe(r.Category)
		r.Lat, r.Lng = p.place(r.Category, at)
		rule, ok := p.engine.Match(dispatch.Input{Category: r.Category, Location: orb.Point{r.Lng, r.Lat}, Description: r.Description, At: at})
		r.Lead, r.SLAHours = dispatch.CommandCenter, p.cats[r.Category].SLAHours
		if ok {
			r.Lead = rule.Lead
			if rule.SLAHours > 0 {
				r.SLAHours = rule.SLAHours
			}
		}
		switch x := p.rng.Float64(); {
		case x < 0.038:
			r.Fate = Invalid
		case x < 0.053 && r.Lead != dispatch.CommandCenter:
			r.Fate = NotOurs
		case x < 0.078:
			r.Fate = Stuck
		default:
			r.Fate = Resolved
		}
		p.work(&r)
		p.plan.Reports = append(p.plan.Reports, r)
		p.add(Action{At: r.At, Kind: File, Report: seq, Citizen: r.Citizen})
	}
}

// duplicateOf makes r a second report of an open one filed in the last 60 hours nearby, by someone else.
func (p *planner) duplicateOf(r *Report) bool {
	var cands []*Report
	for i := range p.plan.Reports {
		o := &p.plan.Reports[i]
		age := r.At.Sub(o.At)
		open := o.ResolveAt.IsZero() || o.ResolveAt.After(r.At.Add(2*time.Hour))
		if o.DupOf < 0 && (o.Fate == Resolved || o.Fate == Stuck) && age > time.Hour && age < 60*time.Hour && open {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return false
	}
	o := cands[p.rng.IntN(len(cands))]
	c := p.reporter(r.At, o.Citizen)
	if c < 0 {
		return false
	}
	r.Citizen, r.Category, r.Fate, r.DupOf = c, o.Category, Duplicate, o.Seq
	r.Description, r.Address = p.describe(o.Category)
	r.Lat, r.Lng = offset(o.Lat, o.Lng, 5+25*p.rng.Float64(), 2*math.Pi*p.rng.Float64())
	return true
}

// categoryWeights: shares of Mengzi's categories; noise peaks at night. Illegal building is planned apart
// (see reports).
var categoryWeights = map[string]float64{
	"rubbish": 22, "illegal_parking": 15, "street_vending": 12, "street_light": 10, "damaged_road": 9,
	"noise": 7, "uncivil_dog": 6, "manhole_cover": 5, "other": 9,
}

func (p *planner) category(at time.Time) string {
	codes := slices.Sorted(func(yield func(string) bool) {
		for c := range categoryWeights {
			if !yield(c) {
				return
			}
		}
	})
	night := at.Hour() >= 22 || at.Hour() < 6
	return pick(p.rng, codes, func(c string) float64 {
		if night && c == "noise" {
			return categoryWeights[c] * 5
		}
		return categoryWeights[c]
	})
}

// place picks a spot for a new report at least 90 m from every report of its category in the last 80
// hours, so that only the planned duplicates are duplicates.
func (p *planner) place(category string, at time.Time) (float64, float64) {
	for {
		lat, lng := p.geo.sample(p.rng)
		clear := true
		for i := len(p.plan.Reports) - 1; i >= 0; i-- {
			o := p.plan.Reports[i]
			if at.Sub(o.At) > 80*time.Hour {
				break
			}
			if o.Category == category && dispatch.Distance(orb.Point{lng, lat}, orb.Point{o.Lng, o.Lat}) < 90 {
				clear = false
				break
			}
		}
		if clear {
			return lat, lng
		}
	}
}

// work plans what departments do with a report that is not a duplicate.
func (p *planner) work(r *Report) {
	t, lead, sla := r.At.Add(2*time.Second), r.Lead, r.SLAHours
	step := 0
	act := func(at time.Time, to, reason, toDept, note string) {
		step++
		p.add(Action{At: at, Kind: Act, Report: r.Seq, Step: step, To: to, Reason: reason, ToDept: toDept, Note: note})
	}
	reassign := func(at time.Time, not string) {
		target := pick(p.rng, triageTargets, func(x struct {
			dept string
			w    float64
		}) float64 {
			if x.dept == not {
				return 0
			}
			return x.w
		}).dept
		act(at, "dispatched", "", target, pickNote(p.rng, reassignNotes))
		r.ToDept, lead, sla, t = target, target, p.cats[r.Category].SLAHours, at
	}
	if r.Fate == Invalid {
		act(t.Add(p.hours(0.5, 8)), "rejected", report.ReasonInvalid, "", pickNote(p.rng, invalidNotes))
		return
	}
	if lead == dispatch.CommandCenter { // no rule matched: the command center assigns it
		reassign(t.Add(p.hours(0.3, 3)), "")
	}
	if r.Fate == NotOurs {
		back := t.Add(p.hours(0.5, 4))
		act(back, "rejected", report.ReasonNotOurs, "", pickNote(p.rng, notOursNotes))
		reassign(back.Add(p.hours(0.5, 3)), lead)
	}
	slaD := time.Duration(sla) * time.Hour
	accept := t.Add(min(p.hours(0.1, 2), slaD/6))
	act(accept, "accepted", "", "", "")
	if r.Fate == Stuck {
		act(accept.Add(slaD/3), "in_progress", "", "", pickNote(p.rng, progressNotes))
		return
	}
	frac := 0.12 + 0.78*p.rng.Float64()
	if p.rng.Float64() > onTimeShare[lead] {
		frac, r.Late = 1.1+1.2*p.rng.Float64(), true
	}
	resolve := t.Add(time.Duration(frac * float64(slaD)))
	if resolve.Before(accept.Add(10 * time.Minute)) {
		resolve = accept.Add(10 * time.Minute)
	}
	if sla >= 48 {
		act(accept.Add(resolve.Sub(accept)/2), "in_progress", "", "", pickNote(p.rng, progressNotes))
	}
	act(resolve, "resolved", "", "", pickNote(p.rng, resolvedNotes))
	r.ResolveAt = resolve
}

// revocations: an admin's review finds three resolved reports were not genuine.
func (p *planner) revocations() {
	var cands []int
	limit := p.cfg.Cutoff.Add(-96 * time.Hour)
	for i, r := range p.plan.Reports {
		if r.Fate == Resolved && !r.ResolveAt.IsZero() && r.ResolveAt.Before(limit) {
			cands = append(cands, i)
		}
	}
	for n := 0; n < 3 && len(cands) > 0; n++ {
		k := p.rng.IntN(len(cands))
		r := &p.plan.Reports[cands[k]]
		cands = slices.Delete(cands, k, k+1)
		r.Revoked = true
		p.add(Action{At: r.ResolveAt.Add(p.hours(24, 90)), Kind: Revoke, Report: r.Seq, Note: revocationNote})
	}
}

// redemptions: citizens spend some of what they earn, about a third overall (Mengzi: 688,000 of
// 1,993,000 points). Awards are replayed in time order under the default caps (50 a day, 500 a month).
func (p *planner) redemptions() {
	type award struct {
		at      time.Time
		citizen int
		points  int64
		revoked bool
	}
	var awards []award
	for _, r := range p.plan.Reports {
		if !r.ResolveAt.IsZero() {
			awards = append(awards, award{r.ResolveAt, r.Citizen, int64(p.cats[r.Category].Points), r.Revoked})
		}
	}
	slices.SortFunc(awards, func(a, b award) int { return a.at.Compare(b.at) })
	type wallet struct {
		balance  int64
		day      string
		dayPts   int64
		month    map[string]int64 // goods bought this month
		honor    bool
		redeemAt time.Time
	}
	wallets := make([]wallet, len(p.plan.Citizens))
	for _, a := range awards {
		w := &wallets[a.citizen]
		day := a.at.In(p.cfg.TZ).Format(time.DateOnly)
		if w.day != day {
			w.day, w.dayPts = day, 0
		}
		pts := min(a.points, 50-w.dayPts)
		w.dayPts += pts
		if !a.revoked {
			w.balance += pts
		}
		if w.balance < 30 || p.rng.Float64() > 0.3 || a.at.Before(w.redeemAt) {
			continue
		}
		at := a.at.Add(p.hours(2, 60))
		month := at.In(p.cfg.TZ).Format("2006-01")
		if w.month == nil {
			w.month = map[string]int64{}
		}
		type option struct {
			item   string
			kind   string
			cost   int64
			weight float64
		}
		opts := []option{{"library-fund", "charity", 10, 1.5}}
		if w.balance >= 20 {
			opts = append(opts, option{"library-fund", "charity", 20, 1})
		}
		if w.balance >= 30 && w.month["umbrella"+month] == 0 {
			opts = append(opts, option{"umbrella", "goods", 30, 3})
		}
		if w.balance >= 50 {
			opts = append(opts, option{"credit-units", "credit", 50, 2})
		}
		if w.balance >= 60 && w.month["rice-5kg"+month] < 2 {
			opts = append(opts, option{"rice-5kg", "goods", 60, 3})
		}
		if w.balance >= 100 && w.month["bus-card-20"+month] == 0 {
			opts = append(opts, option{"bus-card-20", "goods", 100, 1.5})
		}
		if w.balance >= 200 && !w.honor {
			opts = append(opts, option{"civic-volunteer", "honor", 200, 2})
		}
		o := pick(p.rng, opts, func(o option) float64 { return o.weight })
		red := Redemption{Seq: len(p.plan.Redemptions), Citizen: a.citizen, ItemID: o.item, Kind: o.kind, Cost: o.cost, At: at}
		switch o.kind {
		case "goods":
			red.Quantity = 1
			w.month[o.item+month]++
		case "charity", "credit":
			red.Amount = o.cost
		case "honor":
			w.honor = true
		}
		w.balance -= o.cost
		w.redeemAt = at
		p.plan.Redemptions = append(p.plan.Redemptions, red)
		p.add(Action{At: at, Kind: Redeem, Citizen: a.citizen, Redemption: red.Seq})
		if o.kind == "goods" {
			switch x := p.rng.Float64(); {
			case x < 0.08:
				p.add(Action{At: at.Add(p.hours(1, 20)), Kind: Cancel, Citizen: a.citizen, Redemption: red.Seq})
				w.balance += o.cost
			case x < 0.92:
				p.add(Action{At: at.Add(p.hours(3, 96)), Kind: Fulfil, Citizen: a.citizen, Redemption: red.Seq})
			}
		}
	}
}

// sweeps: the escalation sweep every three hours of the month (every 15 minutes in the template; three
// hours flags a late case on the day it falls due and keeps the load short).
func (p *planner) sweeps(from, to time.Time) {
	for t := from.Add(3 * time.Hour); t.Before(to); t = t.Add(3 * time.Hour) {
		p.add(Action{At: t, Kind: Sweep})
	}
}

// offset moves a point by metres in a direction.
func offset(lat, lng, metres, angle float64) (float64, float64) {
	const earth = 6371000.0
	dLat := metres * math.Cos(angle) / earth
	dLng := metres * math.Sin(angle) / (earth * math.Cos(lat*math.Pi/180))
	return round6(lat + dLat*180/math.Pi), round6(lng + dLng*180/math.Pi)
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
