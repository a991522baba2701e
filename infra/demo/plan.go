package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// openingMean is the points a citizen registered before the window holds on average: Mengzi's points
// issued less redeemed, over its users ((1,993,000 − 688,000) ÷ 76,000).
const openingMean = (1993000.0 - 688000.0) / 76000

// MengziRedeemShare is the share of issued points Mengzi's citizens had redeemed: 688,000 of 1,993,000.
const MengziRedeemShare = 688000.0 / 1993000.0

// Config sizes the month. The defaults are Mengzi's published proportions (161,000 reports a year from
// 76,000 users, 92.7 % handled) scaled down to a small city's month.
type Config struct {
	Name     string         // prefix of the month's user ids and idempotency keys ("demo")
	Seed     uint64         // (16)
	Days     int            // length of the window, ending with LastDay (30)
	LastDay  string         // YYYY-MM-DD, the window's last local day (the cutoff's)
	Cutoff   time.Time      // the wall clock: events planned after it have not happened yet (now)
	TZ       *time.Location // the city's time zone (UTC)
	Citizens int            // citizens who register in the window, through the app (150)
	Users    int            // citizens registered before the window (0); their profiles are the caller's to load
	Reports  int            // reports filed over the window (600)
	Idle     float64        // share of citizens who file nothing in the window (0.12)
	Skew     float64        // Zipf exponent of reporting activity: the k-th keenest files ∝ 1/k^Skew (0.85)
	Campaign float64        // share of the window's new citizens who join in its first three days (0.4; < 0: none)
	// Slot is the replay's step on the month's clock (1 h, at most 12 h, dividing a day). Every moment of
	// the plan is one of two per slot: its start, for registrations, reports and sweeps, and its middle,
	// for what departments, admins and citizens do next. The replay sets the stack's clock once per
	// moment and runs that moment's actions concurrently; see Plan.
	Slot time.Duration
	// RedeemShare is the share of issued points the month's redemptions aim at (MengziRedeemShare).
	RedeemShare float64
	Revocations int // resolutions an admin revokes (3, or one in 200 reports if more)
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

// Citizen is a user of the month.
type Citizen struct {
	Sub        string
	RegisterAt time.Time
	Preloaded  bool  // registered before the window: the caller loads the profile, the replay does not
	Opening    int64 // a preloaded citizen's points carried over from before the window
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
	At          time.Time // filed (a slot's start)
	Fate        Fate
	DupOf       int    // Seq of the original, or -1
	Lead        string // the lead the seeded rules give it (dispatch.CommandCenter when none matches)
	SLAHours    int
	ToDept      string    // the command center's choice (triage, not ours)
	Late        bool      // resolved after its deadline
	ResolveAt   time.Time // zero if never (within the plan)
	Deadline    time.Time // the resolving lead's SLA deadline
	FinalLead   string    // the lead when it is resolved (or at the end)
	Revoked     bool
	Granted     int64 // points its award grants after the caps
	capped      bool  // a cap cut its reporter's awards at its moment: how they split depends on order
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
	CancelAt time.Time // zero if not cancelled (within the plan)
	FulfilAt time.Time // zero if not handed over (within the plan)
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

// Chain names the sequence an action belongs to: actions of one chain run in plan order, chains of one
// moment run concurrently. A citizen's registration and reports form a chain, as do a report's
// department actions and revocation, and a redemption with its pickup or cancellation.
func (a Action) Chain() string {
	switch a.Kind {
	case Register, File:
		return "c" + strconv.Itoa(a.Citizen)
	case Act, Revoke:
		return "r" + strconv.Itoa(a.Report)
	case Redeem, Fulfil, Cancel:
		return "d" + strconv.Itoa(a.Redemption)
	}
	return "s"
}

// Plan is a month: who, what, where and when.
//
// Every moment is the start or the middle of a slot of the month's clock, so the replay can set the
// stack's clock once per moment and run everything of that moment at once. What depends on an earlier
// effect of the stream consumers is planned at a later moment: a department acts at the middle of the
// slot a report was filed in, or later (dispatch has run at the start); a redemption comes a slot after
// the award that pays for it. Outcomes that hang on a comparison of times are decided on the moments
// with room to spare: a resolution is half a slot (or more) before or after its deadline, so the
// seconds a moment takes to replay cannot turn an on-time case late; a report's hours from filing to
// resolution are whole half-slots, so the KPI's medians come out as planned.
type Plan struct {
	From, To    string
	Config      Config // with its defaults
	Citizens    []Citizen
	Reports     []Report
	Redemptions []Redemption
	Actions     []Action // in time order; only those at or before the cutoff
	points      map[string]int
	first, end  time.Time // the window: [first, end)
}

func (p *Plan) tz() *time.Location { return p.Config.TZ }

// Key returns the plan's idempotency key or message id for a name (distinct per month and config name).
func (p *Plan) Key(name string) string { return p.Config.Name + "-" + p.From + "-" + name }

// Defaults fills in the zero fields of c.
func (c Config) Defaults() Config {
	if c.Name == "" {
		c.Name = "demo"
	}
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
	if c.Idle == 0 {
		c.Idle = 0.12
	}
	if c.Skew == 0 {
		c.Skew = 0.85
	}
	if c.Campaign == 0 {
		c.Campaign = 0.4
	}
	if c.Slot == 0 {
		c.Slot = time.Hour
	}
	if c.RedeemShare == 0 {
		c.RedeemShare = MengziRedeemShare
	}
	if c.Revocations == 0 {
		c.Revocations = max(3, c.Reports/200)
	}
	return c
}

// planner carries what a plan is built from.
type planner struct {
	cfg       Config
	rng       *rand.Rand
	engine    *dispatch.Engine
	cats      map[string]report.Category
	geo       *geography
	plan      *Plan
	acts      []Action
	reporters sampler
}

// NewPlan plans a month. The same Config always gives the same plan, and a later cutoff only adds actions.
func NewPlan(cfg Config) (*Plan, error) {
	cfg = cfg.Defaults()
	if cfg.Slot < time.Minute || cfg.Slot > 12*time.Hour || (24*time.Hour)%cfg.Slot != 0 {
		return nil, fmt.Errorf("slot %s: want at least a minute, at most 12 h, dividing a day", cfg.Slot)
	}
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
		plan: &Plan{From: first.Format(time.DateOnly), To: last.Format(time.DateOnly), Config: cfg,
			first: first, end: last.AddDate(0, 0, 1), points: map[string]int{}},
	}
	for _, c := range cats {
		p.cats[c.Code] = c
		p.plan.points[c.Code] = c.Points
	}
	p.citizens(first)
	p.reports(first)
	p.awards()
	p.revocations()
	p.redemptions()
	p.sweeps(first, p.plan.end)
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

// hours returns a duration between lo and hi hours.
func (p *planner) hours(lo, hi float64) time.Duration {
	return time.Duration((lo + (hi-lo)*p.rng.Float64()) * float64(time.Hour))
}

// slot returns the start of t's slot (slots are aligned to local midnight).
func (p *planner) slot(t time.Time) time.Time {
	l := t.In(p.cfg.TZ)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, p.cfg.TZ)
	return midnight.Add(l.Sub(midnight) / p.cfg.Slot * p.cfg.Slot)
}

// opening is the moment of t's slot for registrations, reports and sweeps: its start.
func (p *planner) opening(t time.Time) time.Time { return p.slot(t) }

// middle is the moment of t's slot for everything that follows a report: its middle.
func (p *planner) middle(t time.Time) time.Time { return p.slot(t).Add(p.cfg.Slot / 2) }

// Users returns the citizens registered before the window, whose profiles the caller loads.
func (p *Plan) Users() []Citizen {
	var out []Citizen
	for _, c := range p.Citizens {
		if c.Preloaded {
			out = append(out, c)
		}
	}
	return out
}

// citizens: Users registered before the window, four in ten with points carried over; the window's new
// citizens join through it (a launch campaign brings a share in its first three days). Activity is skewed (a few keen reporters file many
// reports); many file nothing.
func (p *planner) citizens(first time.Time) {
	total := p.cfg.Users + p.cfg.Citizens
	width := max(3, len(strconv.Itoa(total)))
	before := make([]time.Time, p.cfg.Users)
	for i := range before {
		before[i] = first.Add(-time.Duration(1+p.rng.IntN(2*365*24)) * time.Hour)
	}
	slices.SortFunc(before, func(a, b time.Time) int { return a.Compare(b) })
	joins := make([]time.Time, p.cfg.Citizens)
	for i := range joins {
		day := p.rng.IntN(3)
		if p.rng.Float64() >= p.cfg.Campaign {
			day = p.rng.IntN(p.cfg.Days)
		}
		joins[i] = p.opening(first.AddDate(0, 0, day).Add(p.hours(7.5, 22)))
	}
	slices.SortFunc(joins, func(a, b time.Time) int { return a.Compare(b) })
	ranks := p.rng.Perm(total)
	for i, t := range append(before, joins...) {
		w := 1 / math.Pow(float64(ranks[i]+1), p.cfg.Skew)
		if p.rng.Float64() < p.cfg.Idle {
			w = 0 // registered, reports nothing this month
		}
		c := Citizen{Sub: fmt.Sprintf("%s-citizen-%0*d", p.cfg.Name, width, i+1), RegisterAt: t, Preloaded: i < p.cfg.Users, weight: w}
		if c.Preloaded && p.rng.Float64() < 0.4 { // four in ten hold points: openingMean on average over all
			c.Opening = int64(math.Round(p.rng.ExpFloat64() * openingMean / 0.4))
		}
		p.plan.Citizens = append(p.plan.Citizens, c)
		if !c.Preloaded {
			p.add(Action{At: t, Kind: Register, Citizen: i})
		}
		if w > 0 {
			p.reporters.add(i, t, w)
		}
	}
}

// sampler picks a reporter by activity among those registered before a moment. Citizens are added in
// registration order.
type sampler struct {
	idx []int
	reg []time.Time
	cum []float64
}

func (s *sampler) add(i int, at time.Time, w float64) {
	total := w
	if n := len(s.cum); n > 0 {
		total += s.cum[n-1]
	}
	s.idx, s.reg, s.cum = append(s.idx, i), append(s.reg, at), append(s.cum, total)
}

// reporter picks a citizen registered before at, by activity, other than not (-1 if there is none).
func (p *planner) reporter(at time.Time, not int) int {
	s := &p.reporters
	k := sort.Search(len(s.reg), func(i int) bool { return !s.reg[i].Before(at) })
	if k == 0 {
		return -1
	}
	for range 20 {
		x := p.rng.Float64() * s.cum[k-1]
		j := min(sort.Search(k, func(i int) bool { return s.cum[i] > x }), k-1)
		if s.idx[j] != not {
			return s.idx[j]
		}
	}
	return -1
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

// reportTimes spreads exactly Reports reports over the month's days (weekends busier, some noise) and
// hours, at slot starts.
func (p *planner) reportTimes(first time.Time) []time.Time {
	weights := make([]float64, p.cfg.Days)
	total := 0.0
	for d := range weights {
		f := 1.0
		switch first.AddDate(0, 0, d).Weekday() {
		case time.Saturday, time.Sunday:
			f = 1.15
		case time.Monday:
			f = 1.08
		case time.Friday:
			f = 0.92
		}
		weights[d] = f * (0.8 + 0.4*p.rng.Float64())
		total += weights[d]
	}
	// Largest remainders: the days' counts add up to Reports.
	counts := make([]int, p.cfg.Days)
	rest := make([]int, p.cfg.Days)
	left := p.cfg.Reports
	for d, w := range weights {
		counts[d] = int(float64(p.cfg.Reports) * w / total)
		left -= counts[d]
		rest[d] = d
	}
	slices.SortStableFunc(rest, func(a, b int) int {
		fa := float64(p.cfg.Reports)*weights[a]/total - float64(counts[a])
		fb := float64(p.cfg.Reports)*weights[b]/total - float64(counts[b])
		return cmp.Compare(fb, fa)
	})
	for i := range left {
		counts[rest[i%len(rest)]]++
	}
	hours := make([]int, 24)
	for h := range hours {
		hours[h] = h
	}
	var times []time.Time
	for d, n := range counts {
		day := first.AddDate(0, 0, d)
		for range n {
			h := pick(p.rng, hours, func(h int) float64 { return hourWeights[h] })
			times = append(times, p.opening(day.Add(time.Duration(h)*time.Hour+time.Duration(p.rng.IntN(3600))*time.Second)))
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

// duplicateOf makes r a second report of an open one filed nearby in the last 60 hours (at least a slot
// earlier, so it has been dispatched), by someone else.
func (p *planner) duplicateOf(r *Report) bool {
	var cands []*Report
	for i := len(p.plan.Reports) - 1; i >= 0; i-- {
		o := &p.plan.Reports[i]
		age := r.At.Sub(o.At)
		if age >= 60*time.Hour {
			break
		}
		open := o.ResolveAt.IsZero() || o.ResolveAt.After(r.At.Add(2*time.Hour))
		if o.DupOf < 0 && (o.Fate == Resolved || o.Fate == Stuck) && age > time.Hour && age >= p.cfg.Slot && open {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		return false
	}
	slices.SortFunc(cands, func(a, b *Report) int { return cmp.Compare(a.Seq, b.Seq) })
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

var categoryCodes = slices.Sorted(func(yield func(string) bool) {
	for c := range categoryWeights {
		if !yield(c) {
			return
		}
	}
})

func (p *planner) category(at time.Time) string {
	night := at.Hour() >= 22 || at.Hour() < 6
	return pick(p.rng, categoryCodes, func(c string) float64 {
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

// work plans what departments do with a report that is not a duplicate. Department actions happen at
// slot middles, each at or after the one before.
func (p *planner) work(r *Report) {
	t, lead, sla := r.At, r.Lead, r.SLAHours
	base := r.At // the lead's deadline runs from here: dispatch (during the filing moment) or a reassignment
	last := r.At
	step := 0
	act := func(want time.Time, to, reason, toDept, note string) time.Time {
		at := p.middle(want)
		if at.Before(last) {
			at = last
		}
		last = at
		step++
		p.add(Action{At: at, Kind: Act, Report: r.Seq, Step: step, To: to, Reason: reason, ToDept: toDept, Note: note})
		return at
	}
	reassign := func(want time.Time, not string) {
		target := pick(p.rng, triageTargets, func(x struct {
			dept string
			w    float64
		}) float64 {
			if x.dept == not {
				return 0
			}
			return x.w
		}).dept
		at := act(want, "dispatched", "", target, pickNote(p.rng, reassignNotes))
		r.ToDept, lead, sla, t, base = target, target, p.cats[r.Category].SLAHours, at, at
	}
	r.FinalLead = lead
	if r.Fate == Invalid {
		act(t.Add(p.hours(0.5, 8)), "rejected", report.ReasonInvalid, "", pickNote(p.rng, invalidNotes))
		return
	}
	if lead == dispatch.CommandCenter { // no rule matched: the command center assigns it
		reassign(t.Add(p.hours(0.3, 3)), "")
	}
	if r.Fate == NotOurs {
		back := act(t.Add(p.hours(0.5, 4)), "rejected", report.ReasonNotOurs, "", pickNote(p.rng, notOursNotes))
		reassign(back.Add(p.hours(0.5, 3)), lead)
	}
	r.FinalLead = lead
	slaD := time.Duration(sla) * time.Hour
	accept := act(t.Add(min(p.hours(0.1, 2), slaD/6)), "accepted", "", "", "")
	if r.Fate == Stuck {
		act(accept.Add(slaD/3), "in_progress", "", "", pickNote(p.rng, progressNotes))
		return
	}
	frac := 0.12 + 0.78*p.rng.Float64()
	if p.rng.Float64() > onTimeShare[lead] {
		frac = 1.1 + 1.2*p.rng.Float64()
	}
	resolve := p.middle(t.Add(time.Duration(frac * float64(slaD))))
	if resolve.Before(accept) {
		resolve = accept
	}
	deadline := base.Add(slaD)
	// Keep the resolution a clear margin from the deadline: the replay's seconds must not decide it.
	if d := resolve.Sub(deadline).Abs(); d < min(p.cfg.Slot/4, 15*time.Minute) {
		resolve = resolve.Add(p.cfg.Slot)
	}
	if sla >= 48 {
		act(accept.Add(resolve.Sub(accept)/2), "in_progress", "", "", pickNote(p.rng, progressNotes))
	}
	act(resolve, "resolved", "", "", pickNote(p.rng, resolvedNotes))
	r.ResolveAt, r.Deadline, r.Late = resolve, deadline, resolve.After(deadline)
}

// sweeps: the escalation sweep every three hours of the month (every 15 minutes in the template; three
// hours flags a late case on the day it falls due and keeps the load short).
func (p *planner) sweeps(from, to time.Time) {
	seen := map[time.Time]bool{}
	for t := from.Add(3 * time.Hour); t.Before(to); t = t.Add(3 * time.Hour) {
		at := p.opening(t)
		if !seen[at] {
			seen[at] = true
			p.add(Action{At: at, Kind: Sweep})
		}
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
