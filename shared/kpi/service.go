package kpi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
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
	Queries int `json:"queries"`
	Items   int `json:"items"`
}

// Store reads a day's items and keeps snapshots.
type Store interface {
	// DayInputs reads one local day's items through date-keyed index queries.
	DayInputs(ctx context.Context, date string) (Inputs, ReadStats, error)
	PutSnapshot(ctx context.Context, s Snapshot) error
	// Snapshots returns the stored snapshots with from ≤ date ≤ to.
	Snapshots(ctx context.Context, from, to string) ([]Snapshot, error)
	// OpenReports lists the open reports in the departments' queues.
	OpenReports(ctx context.Context, depts []string) ([]OpenReport, error)
	PutOpenReports(ctx context.Context, rs []OpenReport, at time.Time) error
	StoredOpenReports(ctx context.Context) ([]OpenReport, time.Time, error)
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
	launch   string // the first day public totals count from

	mu       sync.Mutex
	public   *PublicStats
	publicAt time.Time
}

// NewService returns a Service. launch is the first day of the public totals (YYYY-MM-DD).
func NewService(store Store, dir Directory, tz *time.Location, now func() time.Time, log *slog.Logger, minCases int, launch string) *Service {
	if minCases <= 0 {
		minCases = 5
	}
	if launch == "" {
		launch = "2020-01-01"
	}
	return &Service{store: store, dir: dir, tz: tz, now: now, log: log, minCases: minCases, launch: launch}
}

// Today is the city's current local day.
func (s *Service) Today() string { return s.now().In(s.tz).Format(time.DateOnly) }

// RollUp computes and stores the snapshot of date, and logs its headline figures as a CloudWatch Embedded
// Metric Format line. Its work is proportional to the day's items.
func (s *Service) RollUp(ctx context.Context, date string) (Snapshot, ReadStats, error) {
	if _, _, err := ParseRange(date, date); err != nil {
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
	s.emitEMF(ctx, snap)
	return snap, stats, nil
}

// RollUpRange recomputes every day of [from, to] (a backfill).
func (s *Service) RollUpRange(ctx context.Context, from, to string) (int, error) {
	f, t, err := ParseRange(from, to)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range Days(f, t) {
		if _, _, err := s.RollUp(ctx, d); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
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

// window reads the snapshots from `from` to today (later days hold resolutions of the range's reports).
func (s *Service) window(ctx context.Context, from, to string) ([]Snapshot, error) {
	end := max(to, s.Today())
	return s.store.Snapshots(ctx, from, end)
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
	return Summarize(from, to, snaps), nil
}

// DailySeries returns one row per day of the range.
func (s *Service) DailySeries(ctx context.Context, from, to string) ([]DayRow, error) {
	f, t, err := ParseRange(from, to)
	if err != nil {
		return nil, err
	}
	snaps, err := s.window(ctx, from, to)
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

// RefreshOpenReports recomputes the open-reports map (one Query per department and open status).
func (s *Service) RefreshOpenReports(ctx context.Context) (int, error) {
	names, err := s.dir.DepartmentNames(ctx)
	if err != nil {
		return 0, err
	}
	depts := make([]string, 0, len(names))
	for d := range names {
		depts = append(depts, d)
	}
	rs, err := s.store.OpenReports(ctx, depts)
	if err != nil {
		return 0, err
	}
	return len(rs), s.store.PutOpenReports(ctx, rs, s.now())
}

// OpenReports returns the latest open-reports map.
func (s *Service) OpenReports(ctx context.Context) ([]OpenReport, time.Time, error) {
	return s.store.StoredOpenReports(ctx)
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

// Public returns the totals since launch, cached per container for five minutes.
func (s *Service) Public(ctx context.Context) (PublicStats, error) {
	s.mu.Lock()
	if s.public != nil && s.now().Sub(s.publicAt) < 5*time.Minute {
		p := *s.public
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	today := s.Today()
	snaps, err := s.store.Snapshots(ctx, s.launch, today)
	if err != nil {
		return PublicStats{}, err
	}
	sum := Summarize(s.launch, today, snaps)
	asOf := time.Time{}
	for _, sn := range snaps {
		if sn.ComputedAt.After(asOf) {
			asOf = sn.ComputedAt
		}
	}
	p := PublicStats{RegisteredUsers: sum.RegisteredUsers, Received: sum.Received, Resolved: sum.Resolved,
		CompletionRate: sum.CompletionRate, PointsIssued: sum.PointsIssued, PointsRedeemed: sum.PointsRedeemed, AsOf: asOf}
	s.mu.Lock()
	s.public, s.publicAt = &p, s.now()
	s.mu.Unlock()
	return p, nil
}
