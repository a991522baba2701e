package kpi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

// memStore keeps snapshots in memory and counts the snapshots each read returns.
type memStore struct {
	snaps   map[Kind]map[string]Snapshot
	queries int
	read    int
}

func newMemStore() *memStore { return &memStore{snaps: map[Kind]map[string]Snapshot{}} }

func kindOf(date string) Kind {
	switch len(date) {
	case 10:
		return DayKind
	case 7:
		return MonthKind
	case 4:
		return YearKind
	}
	return TotalKind
}

func (m *memStore) DayInputs(context.Context, string) (Inputs, ReadStats, error) {
	return Inputs{}, ReadStats{Queries: 5}, nil
}

func (m *memStore) PutSnapshot(_ context.Context, s Snapshot) error {
	b, err := s.Encode() // stored as the store does, so a round trip is part of every read
	if err != nil {
		return err
	}
	back, err := DecodeSnapshot(b)
	if err != nil {
		return err
	}
	k := kindOf(s.Date)
	if m.snaps[k] == nil {
		m.snaps[k] = map[string]Snapshot{}
	}
	m.snaps[k][s.Date] = back
	return nil
}

func (m *memStore) Snapshots(_ context.Context, kind Kind, from, to string) ([]Snapshot, error) {
	m.queries++
	var out []Snapshot
	for k, s := range m.snaps[kind] {
		if k >= from && k <= to {
			out = append(out, s)
		}
	}
	m.read += len(out)
	return out, nil
}

func (m *memStore) Totals(context.Context) (Snapshot, error) {
	m.queries++
	return m.snaps[TotalKind][TotalKey], nil
}

func (m *memStore) OpenReports(context.Context, []string, int) ([]OpenReport, bool, error) {
	return nil, false, nil
}

func (m *memStore) TeamNames(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		out[id] = "team " + id
	}
	return out, nil
}

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

type noDir struct{}

func (noDir) DepartmentNames(context.Context) (map[string][2]string, error) { return nil, nil }

// TestRangesFromRollUps: a state whose days predate the roll-ups reads the same figures as its days (missing
// months and years are read as their days), and once merged, reads O(months + years) snapshots.
func TestRangesFromRollUps(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, sh)
	st := newMemStore()
	svc := NewService(st, noDir{}, sh, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)), 5, "2023-03-10")
	rnd := rand.New(rand.NewPCG(9, 10))
	var days []Snapshot
	for d := time.Date(2023, 3, 10, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		var in Inputs
		for i := range rnd.IntN(60) {
			created := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, sh).AddDate(0, 0, -rnd.IntN(30))
			in.Created = append(in.Created, Created{ID: fmt.Sprint(i), Category: "rubbish", ReporterSub: fmt.Sprint(rnd.IntN(4000)), LeadDept: "sanitation"})
			in.Resolutions = append(in.Resolutions, Resolution{Category: "rubbish", LeadDept: "sanitation", CreatedAt: created,
				ResolvedAt: created.Add(time.Duration(rnd.IntN(100*60)) * time.Minute), SLADeadline: created.Add(48 * time.Hour)})
		}
		in.Registered = rnd.IntN(5)
		sn := Compute(date, in, sh, now)
		days = append(days, sn)
		if err := st.PutSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	ranges := [][2]string{{"2024-12-15", "2025-12-14"}, {"2025-01-01", "2025-12-31"}, {"2023-03-10", "2024-03-09"}, {"2026-11-02", "2026-11-29"},
		{"2026-10-01", "2026-10-31"}, {"2026-11-01", "2026-11-30"}}
	same := func(when string) {
		t.Helper()
		for _, w := range ranges {
			st.queries, st.read = 0, 0
			got, err := svc.Summary(ctx, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			want := Summarize(w[0], w[1], days)
			if asJSON(got) != asJSON(want) {
				t.Errorf("%s, %v: from the store %+v, from the days %+v", when, w, got, want)
			}
			f, l, _ := ParseRange(w[0], w[1])
			series, err := svc.DailySeries(ctx, w[0], w[1])
			if err != nil || asJSON(series) != asJSON(Daily(Days(f, l), days)) {
				t.Errorf("%s, %v: daily series differs from the days' (%v)", when, w, err)
			}
			rows, _, _ := svc.Departments(ctx, w[0], w[1])
			if asJSON(rows) != asJSON(League(w[0], w[1], days, nil, 5)) {
				t.Errorf("%s, %v: league differs", when, w)
			}
			t.Logf("%s, %s..%s: summary, daily series and league: %d queries, %d snapshots", when, w[0], w[1], st.queries, st.read)
		}
	}
	same("days only")

	// The first roll-up merges its month and the missing months of its year; remerge the earlier years.
	if _, _, err := svc.RollUp(ctx, "2026-11-29"); err != nil {
		t.Fatal(err)
	}
	delete(st.snaps[DayKind], "2026-11-29") // the roll-up recomputed it from no items: put the day back
	if err := st.PutSnapshot(ctx, days[len(days)-1]); err != nil {
		t.Fatal(err)
	}
	for y := 2023; y <= 2026; y++ {
		if err := svc.Remerge(ctx, fmt.Sprintf("%d-01-01", y), fmt.Sprintf("%d-12-31", y)); err != nil {
			t.Fatal(err)
		}
	}
	same("merged")
	for _, w := range ranges {
		st.queries, st.read = 0, 0
		if _, err := svc.Summary(ctx, w[0], w[1]); err != nil {
			t.Fatal(err)
		}
		if st.queries > 10 || st.read > 2*31+2*12+4 {
			t.Errorf("%v reads %d snapshots with %d queries", w, st.read, st.queries)
		}
	}

	st.queries = 0
	p, err := svc.Public(ctx)
	all := Summarize("2023-01-01", "2026-11-30", days)
	if err != nil || st.queries != 1 || p.Received != all.Received || p.Resolved != all.Resolved || p.RegisteredUsers != all.RegisteredUsers {
		t.Errorf("public %+v (%d reads, %v), the days: %+v", p, st.queries, err, all)
	}
}
