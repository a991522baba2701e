package kpi

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/ttl"
)

// OpenReport is an open report for the map.
type OpenReport struct {
	ID       string  `json:"id"`
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
	Category string  `json:"category"`
	Status   string  `json:"status"`
	LeadDept string  `json:"leadDept"`
}

// ReadStats counts what a roll-up read: its cost.
type ReadStats struct {
	Queries   int `json:"queries"`
	BatchGets int `json:"batchGets"` // the day's redemptions' statuses, 100 a call
	Items     int `json:"items"`
}

// Store reads a day's items and keeps snapshots.
type Store interface {
	// DayInputs reads one local day's items through date-keyed index queries.
	DayInputs(ctx context.Context, date string) (Inputs, ReadStats, error)
	// PutSnapshot stores a day's, month's, year's or the totals' snapshot (its kind follows from its Date).
	PutSnapshot(ctx context.Context, s Snapshot) error
	// Snapshots returns the stored snapshots of one kind with from ≤ key ≤ to, normalized, with one Query
	// (and its pages).
	Snapshots(ctx context.Context, kind Kind, from, to string) ([]Snapshot, error)
	// Totals returns the snapshot of every day so far (empty before the first roll-up): one GetItem.
	Totals(ctx context.Context) (Snapshot, error)
	// OpenReports lists the lead assignments in the departments' open queues, at most perQueue from each
	// (the earliest SLA deadlines), and whether any queue held more.
	OpenReports(ctx context.Context, depts []string, perQueue int) ([]OpenReport, bool, error)
	// TeamNames returns the names of volunteer teams (a summary's top ones; a missing team has none).
	TeamNames(ctx context.Context, ids []string) (map[string]string, error)
}

// Directory gives department names.
type Directory interface {
	DepartmentNames(ctx context.Context) (map[string][2]string, error)
}

// Service rolls up and serves KPIs.
type Service struct {
	store    Store
	dir      Directory
	tz       *time.Location
	now      func() time.Time
	log      *slog.Logger
	minCases int
	launch   string // YYYY-MM-DD: the public totals count from its year (they are merged from years)

	mu       sync.Mutex
	public   *PublicStats
	publicAt time.Time
	open     *OpenMap
}

// NewService returns a Service. launch (YYYY-MM-DD; 2020-01-01 when empty or not a date) is the day the
// city launched: the public totals count from its year, and roll-ups fill no month before it.
func NewService(store Store, dir Directory, tz *time.Location, now func() time.Time, log *slog.Logger, minCases int, launch string) *Service {
	if minCases <= 0 {
		minCases = 5
	}
	if _, err := time.Parse(time.DateOnly, launch); err != nil {
		launch = "2020-01-01"
	}
	return &Service{store: store, dir: dir, tz: tz, now: now, log: log, minCases: minCases, launch: launch}
}

// Today is the city's current local day.
func (s *Service) Today() string { return s.now().In(s.tz).Format(time.DateOnly) }

// RollUp computes and stores the snapshot of date, brings its month's and year's roll-ups and the totals up
// to date, and logs the day's headline figures as a CloudWatch Embedded Metric Format line. Its reads are
// the day's items, the month's days, the year's months and the years: none depends on the open backlog.
func (s *Service) RollUp(ctx context.Context, date string) (Snapshot, ReadStats, error) {
	d, _, err := ParseRange(date, date)
	if err != nil {
		return Snapshot{}, ReadStats{}, err
	}
	in, stats, err := s.store.DayInputs(ctx, date)
	if err != nil {
		return Snapshot{}, stats, fmt.Errorf("read %s: %w", date, err)
	}
	snap := Compute(date, in, s.tz, s.now())
	if err := s.store.PutSnapshot(ctx, snap); err != nil {
		return Snapshot{}, stats, fmt.Errorf("store snapshot %s: %w", date, err)
	}
	// The day before's month too: the roll-up of yesterday and the first of today may run at once, and
	// then one of them may have merged the month without the other's day.
	if err := s.refresh(ctx, []time.Time{d.AddDate(0, 0, -1), d}, &stats); err != nil {
		return Snapshot{}, stats, err
	}
	s.emitEMF(ctx, snap)
	return snap, stats, nil
}

// RollUpRange recomputes every day of [from, to] (a backfill), then their months, years and the totals.
func (s *Service) RollUpRange(ctx context.Context, from, to string) (int, error) {
	f, t, err := ParseRange(from, to)
	if err != nil {
		return 0, err
	}
	var days []time.Time
	for _, d := range Days(f, t) {
		in, _, err := s.store.DayInputs(ctx, d)
		if err != nil {
			return len(days), fmt.Errorf("read %s: %w", d, err)
		}
		snap := Compute(d, in, s.tz, s.now())
		if err := s.store.PutSnapshot(ctx, snap); err != nil {
			return len(days), fmt.Errorf("store snapshot %s: %w", d, err)
		}
		s.emitEMF(ctx, snap)
		day, _ := time.Parse(time.DateOnly, d)
		days = append(days, day)
	}
	var stats ReadStats
	return len(days), s.refresh(ctx, days, &stats)
}

// Remerge rebuilds the months of [from, to], their years and the totals from the stored day snapshots,
// without reading any day's items: the migration of a state whose days were rolled up before month and
// year roll-ups existed (a backfill does the same and recomputes the days too).
func (s *Service) Remerge(ctx context.Context, from, to string) error {
	f, t, err := ParseRange(from, to)
	if err != nil {
		return err
	}
	var days []time.Time
	for _, d := range Days(f, t) {
		day, _ := time.Parse(time.DateOnly, d)
		days = append(days, day)
	}
	var stats ReadStats
	return s.refresh(ctx, days, &stats)
}

// refresh re-merges the months of days from their days, their years from their months, and the totals
// from the years.
func (s *Service) refresh(ctx context.Context, days []time.Time, stats *ReadStats) error {
	var months, years []string
	for _, d := range days {
		if m := d.Format("2006-01"); !slices.Contains(months, m) {
			months = append(months, m)
		}
		if y := d.Format("2006"); !slices.Contains(years, y) {
			years = append(years, y)
		}
	}
	for _, m := range months {
		if err := s.mergeMonth(ctx, m, stats); err != nil {
			return err
		}
	}
	thisMonth := s.now().In(s.tz).Format("2006-01")
	for _, y := range years {
		ms, err := s.store.Snapshots(ctx, MonthKind, y+"-01", y+"-12")
		stats.Queries++
		if err != nil {
			return fmt.Errorf("read months of %s: %w", y, err)
		}
		// A month with no roll-up yet (state kept from before month roll-ups existed, or a month without
		// a day's roll-up) is merged from its days once and stored, so the year is the sum of all of them.
		have := map[string]bool{}
		for _, m := range ms {
			have[m.Date] = true
		}
		merged := false
		for i := 1; i <= 12; i++ {
			m := fmt.Sprintf("%s-%02d", y, i)
			if have[m] || m > thisMonth || m < s.launch[:7] {
				continue
			}
			if err := s.mergeMonth(ctx, m, stats); err != nil {
				return err
			}
			merged = true
		}
		if merged {
			if ms, err = s.store.Snapshots(ctx, MonthKind, y+"-01", y+"-12"); err != nil {
				return fmt.Errorf("read months of %s: %w", y, err)
			}
			stats.Queries++
		}
		if err := s.store.PutSnapshot(ctx, Merge(y, ms)); err != nil {
			return fmt.Errorf("store year %s: %w", y, err)
		}
	}
	ys, err := s.store.Snapshots(ctx, YearKind, s.launch[:4], "9999")
	stats.Queries++
	if err != nil {
		return fmt.Errorf("read years: %w", err)
	}
	if err := s.store.PutSnapshot(ctx, Merge(TotalKey, ys)); err != nil {
		return fmt.Errorf("store totals: %w", err)
	}
	return nil
}

// mergeMonth stores the month m ("2006-01") merged from its days.
func (s *Service) mergeMonth(ctx context.Context, m string, stats *ReadStats) error {
	days, err := s.store.Snapshots(ctx, DayKind, m+"-01", m+"-31")
	stats.Queries++
	if err != nil {
		return fmt.Errorf("read days of %s: %w", m, err)
	}
	if err := s.store.PutSnapshot(ctx, Merge(m, days)); err != nil {
		return fmt.Errorf("store month %s: %w", m, err)
	}
	return nil
}

// emitEMF logs the day's figures in Embedded Metric Format, so CloudWatch turns them into metrics
// without an API call.
func (s *Service) emitEMF(ctx context.Context, sn Snapshot) {
	metrics := []map[string]string{
		{"Name": "Received", "Unit": "Count"}, {"Name": "Resolved", "Unit": "Count"},
		{"Name": "Duplicates", "Unit": "Count"}, {"Name": "Invalid", "Unit": "Count"},
		{"Name": "PointsIssued", "Unit": "Count"}, {"Name": "PointsRedeemed", "Unit": "Count"},
	}
	s.log.InfoContext(ctx, "kpi rollup",
		slog.Any("_aws", map[string]any{
			"Timestamp": s.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace": "civicsnap", "Dimensions": [][]string{{"Day"}}, "Metrics": metrics,
			}},
		}),
		"Day", sn.Date, "Received", sn.Received, "Resolved", sn.Resolved, "Duplicates", sn.Duplicates,
		"Invalid", sn.Invalid, "PointsIssued", sn.PointsIssued, "PointsRedeemed", sn.PointsRedeemed)
}

// window reads what a range needs: the snapshots covering [from, to] and those covering the days after
// it up to today (later days hold resolutions of the range's reports), as days, months and years (Cover):
// O(months + years) items, at most ten Queries. A month or year without a roll-up (state kept from before
// roll-ups existed) is read as its months or days instead.
func (s *Service) window(ctx context.Context, from, to string) ([]Snapshot, error) {
	return s.windowOf(ctx, from, to, false)
}

// windowOf is window; daily reads the range itself as days (a daily series shows each of them).
func (s *Service) windowOf(ctx context.Context, from, to string, daily bool) ([]Snapshot, error) {
	f, t, err := ParseRange(from, to)
	if err != nil {
		return nil, err
	}
	blocks := Cover(f, t)
	if daily {
		blocks = []Block{{Kind: DayKind, First: from, Last: to}}
	}
	today, _ := time.Parse(time.DateOnly, s.Today())
	if t.Before(today) {
		blocks = append(blocks, Cover(t.AddDate(0, 0, 1), today)...)
	}
	var out []Snapshot
	for _, b := range blocks {
		got, err := s.block(ctx, b)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// block reads one block, replacing missing months by their days and missing years by their months.
func (s *Service) block(ctx context.Context, b Block) ([]Snapshot, error) {
	got, err := s.store.Snapshots(ctx, b.Kind, b.First, b.Last)
	if err != nil || b.Kind == DayKind {
		return got, err
	}
	have := map[string]bool{}
	for _, sn := range got {
		have[sn.Date] = true
	}
	layout, step, sub := "2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }, DayKind
	if b.Kind == YearKind {
		layout, step, sub = "2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }, MonthKind
	}
	first, _ := time.Parse(layout, b.First)
	last, _ := time.Parse(layout, b.Last)
	for p := first; !p.After(last); p = step(p) {
		if have[p.Format(layout)] {
			continue
		}
		end := step(p).AddDate(0, 0, -1)
		inner := Block{Kind: sub, First: p.Format(time.DateOnly), Last: end.Format(time.DateOnly)}
		if sub == MonthKind {
			inner.First, inner.Last = p.Format("2006-01"), end.Format("2006-01")
		}
		more, err := s.block(ctx, inner)
		if err != nil {
			return nil, err
		}
		got = append(got, more...)
	}
	return got, nil
}

// Summary returns the range's figures.
func (s *Service) Summary(ctx context.Context, from, to string) (Summary, error) {
	if _, _, err := ParseRange(from, to); err != nil {
		return Summary{}, err
	}
	snaps, err := s.window(ctx, from, to)
	if err != nil {
		return Summary{}, err
	}
	sum := Summarize(from, to, snaps)
	// The volunteers' totals so far: one GetItem of the running totals, whatever the city's age.
	t, err := s.store.Totals(ctx)
	if err != nil {
		return Summary{}, err
	}
	sum.Volunteers.withTotals(t.Volunteers)
	sum.Builders.Total = t.Builders
	// The named teams' names: one BatchGetItem of at most TopVolunteerTeams keys, none without service.
	var ids []string
	for _, r := range sum.Volunteers.ByTeam {
		if r.Key != OtherTeam {
			ids = append(ids, r.Key)
		}
	}
	if len(ids) > 0 {
		names, err := s.store.TeamNames(ctx, ids)
		if err != nil {
			return Summary{}, err
		}
		for i, r := range sum.Volunteers.ByTeam {
			sum.Volunteers.ByTeam[i].Name = names[r.Key]
		}
	}
	return sum, nil
}

// DailySeries returns one row per day of the range: its days (at most 366, one Query) and the snapshots
// after it.
func (s *Service) DailySeries(ctx context.Context, from, to string) ([]DayRow, error) {
	f, t, err := ParseRange(from, to)
	if err != nil {
		return nil, err
	}
	snaps, err := s.windowOf(ctx, from, to, true)
	if err != nil {
		return nil, err
	}
	return Daily(Days(f, t), snaps), nil
}

// Departments returns the league table of the range and the minimum cases for a rank.
func (s *Service) Departments(ctx context.Context, from, to string) ([]DeptRow, int, error) {
	if _, _, err := ParseRange(from, to); err != nil {
		return nil, 0, err
	}
	snaps, err := s.window(ctx, from, to)
	if err != nil {
		return nil, 0, err
	}
	names, err := s.dir.DepartmentNames(ctx)
	if err != nil {
		return nil, 0, err
	}
	return League(from, to, snaps, names, s.minCases), s.minCases, nil
}

// MapPerQueue bounds the open-reports map: at most this many lead assignments from each department's open
// queue (every open status in one partition), the earliest SLA deadlines first: as many as 500 in each of
// the 5 open statuses were before. With the 8 seeded departments that is at most 16 Queries (two per 1 MB)
// of 20,000 items (~2.5 MB of JSON), whatever the backlog.
const MapPerQueue = 2500

// mapTTL is how long a container serves the same open-reports map.
const mapTTL = 30 * time.Second

// OpenMap is the open-reports map: what the map draws, read from the departments' queues.
type OpenMap struct {
	Items     []OpenReport
	Truncated bool // a queue held more than MapPerQueue
	At        time.Time
}

// OpenReports returns the open-reports map, read from the departments' open queues (at most MapPerQueue
// items each) and cached per container for mapTTL.
func (s *Service) OpenReports(ctx context.Context) ([]OpenReport, time.Time, error) {
	s.mu.Lock()
	if s.open != nil && ttl.Fresh(s.open.At, s.now(), mapTTL) {
		m := *s.open
		s.mu.Unlock()
		return m.Items, m.At, nil
	}
	s.mu.Unlock()
	names, err := s.dir.DepartmentNames(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	depts := slices.Sorted(maps.Keys(names))
	items, truncated, err := s.store.OpenReports(ctx, depts, MapPerQueue)
	if err != nil {
		return nil, time.Time{}, err
	}
	if items == nil {
		items = []OpenReport{}
	}
	m := OpenMap{Items: items, Truncated: truncated, At: s.now()}
	if truncated {
		s.log.InfoContext(ctx, "open-reports map truncated", "perQueue", MapPerQueue, "items", len(items))
	}
	s.mu.Lock()
	s.open = &m
	s.mu.Unlock()
	return m.Items, m.At, nil
}

// PublicStats are the totals anyone may see: nothing personal.
type PublicStats struct {
	RegisteredUsers int       `json:"registeredUsers"`
	Received        int       `json:"received"`
	Resolved        int       `json:"resolved"`
	CompletionRate  *float64  `json:"completionRate"`
	PointsIssued    int64     `json:"pointsIssued"`
	PointsRedeemed  int64     `json:"pointsRedeemed"`
	AsOf            time.Time `json:"asOf"`
}

// Public returns the totals since the launch year — one read of the running totals the roll-up keeps —
// cached per container for five minutes.
func (s *Service) Public(ctx context.Context) (PublicStats, error) {
	s.mu.Lock()
	if s.public != nil && ttl.Fresh(s.publicAt, s.now(), 5*time.Minute) {
		p := *s.public
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	t, err := s.store.Totals(ctx)
	if err != nil {
		return PublicStats{}, err
	}
	resolvedOf := 0
	for _, n := range t.ResolvedByCreatedDay {
		resolvedOf += n
	}
	p := PublicStats{RegisteredUsers: t.Registered, Received: t.Received, Resolved: t.Resolved,
		CompletionRate: ratio(resolvedOf, t.Received-t.Duplicates-t.Invalid), PointsIssued: t.PointsIssued,
		PointsRedeemed: t.PointsRedeemed, AsOf: t.ComputedAt}
	s.mu.Lock()
	s.public, s.publicAt = &p, s.now()
	s.mu.Unlock()
	return p, nil
}
