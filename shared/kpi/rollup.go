package kpi

import (
	"maps"
	"time"
)

// TotalKey is the date of the snapshot that merges every day so far: the public totals' one read.
const TotalKey = "ALL"

// Period is the first and last local day a snapshot covers: its day, its month ("2026-11"), its year
// ("2026"); the totals (TotalKey) cover everything, so they lie in no range.
func (s Snapshot) Period() (first, last string) {
	switch len(s.Date) {
	case len("2006-01"):
		m, err := time.Parse("2006-01", s.Date)
		if err == nil {
			return m.Format(time.DateOnly), m.AddDate(0, 1, -1).Format(time.DateOnly)
		}
	case len("2006"):
		if _, err := time.Parse("2006", s.Date); err == nil {
			return s.Date + "-01-01", s.Date + "-12-31"
		}
	case len(time.DateOnly):
		return s.Date, s.Date
	}
	return "0000-01-01", "9999-12-31"
}

// Merge returns the snapshot of key (a month, a year or TotalKey) made of parts, which must not overlap. It
// is exact: every count is a sum, the histograms and reporter sets merge bucket by bucket, so a range
// summarised from months reads the same figures as from their days. The totals keep no breakdowns and
// fold the creation days into one count, which is all the public figures use.
func Merge(key string, parts []Snapshot) Snapshot {
	out := Snapshot{Date: key, ResolvedByCreatedDay: DayCounts{}, Redemptions: map[string]Count{},
		ByCategory: map[string]*CategoryStat{}, ByDept: map[string]*DeptStat{}}
	for _, p := range parts {
		out.Received += p.Received
		out.Duplicates += p.Duplicates
		out.Invalid += p.Invalid
		out.Resolved += p.Resolved
		out.OnTime += p.OnTime
		out.Durations.Merge(p.Durations)
		out.PointsIssued += p.PointsIssued
		out.PointsRedeemed += p.PointsRedeemed
		out.PointsReversed += p.PointsReversed
		out.Registered += p.Registered
		out.MeToos += p.MeToos
		out.Reporters.Merge(p.Reporters)
		out.Answers.merge(p.Answers)
		out.Volunteers.merge(p.Volunteers, key != TotalKey)
		out.Builders.merge(p.Builders)
		if p.ComputedAt.After(out.ComputedAt) {
			out.ComputedAt = p.ComputedAt
		}
		for k, c := range p.Redemptions {
			t := out.Redemptions[k]
			t.Count += c.Count
			t.Points += c.Points
			out.Redemptions[k] = t
		}
		if key == TotalKey {
			for _, n := range p.ResolvedByCreatedDay {
				out.ResolvedByCreatedDay[olderKey] += n
			}
			continue
		}
		mergeDays(out.ResolvedByCreatedDay, p.ResolvedByCreatedDay)
		for c, st := range p.ByCategory {
			t := out.ByCategory[c]
			if t == nil {
				t = &CategoryStat{}
				out.ByCategory[c] = t
			}
			t.Received += st.Received
			t.Resolved += st.Resolved
		}
		for d, st := range p.ByDept {
			t := out.ByDept[d]
			if t == nil {
				t = &DeptStat{ResolvedByCreatedDay: DayCounts{}}
				out.ByDept[d] = t
			}
			t.Assigned += st.Assigned
			t.Resolved += st.Resolved
			t.OnTime += st.OnTime
			t.Durations.Merge(st.Durations)
			mergeDays(t.ResolvedByCreatedDay, st.ResolvedByCreatedDay)
			t.Answers.merge(st.Answers)
		}
	}
	out.Volunteers.bound()
	return out
}

func mergeDays(into, from DayCounts) {
	for k, n := range maps.All(from) {
		into[k] += n
	}
}

// Block is a run of stored snapshots of one kind: days, months or years, keyed from First to Last.
type Block struct {
	Kind        Kind
	First, Last string
}

// Kind is the period a snapshot covers.
type Kind string

// The kinds of stored snapshot.
const (
	DayKind   Kind = "DAY"
	MonthKind Kind = "MONTH"
	YearKind  Kind = "YEAR"
	TotalKind Kind = "TOTAL"
)

// Cover splits the days [from, to] (UTC midnights) into at most five blocks — days up to the first whole
// month, whole months up to the first whole year, whole years, whole months, days — so a range reads
// O(months + years) snapshots, not O(days).
func Cover(from, to time.Time) []Block {
	var out []Block
	add := func(k Kind, f, l time.Time, layout string) {
		if !l.Before(f) {
			out = append(out, Block{Kind: k, First: f.Format(layout), Last: l.Format(layout)})
		}
	}
	day := 24 * time.Hour
	// The first whole month and the month after the last whole one.
	m1 := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !m1.Equal(from) {
		m1 = m1.AddDate(0, 1, 0)
	}
	m2 := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	if to.AddDate(0, 0, 1).Day() == 1 { // to is a month's last day: its month is whole
		m2 = m2.AddDate(0, 1, 0)
	}
	if !m1.Before(m2) {
		add(DayKind, from, to, time.DateOnly)
		return out
	}
	add(DayKind, from, m1.Add(-day), time.DateOnly)
	y1 := time.Date(m1.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	if !y1.Equal(m1) {
		y1 = y1.AddDate(1, 0, 0)
	}
	y2 := time.Date(m2.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	if y1.Before(y2) {
		add(MonthKind, m1, y1.AddDate(0, -1, 0), "2006-01")
		add(YearKind, y1, y2.AddDate(-1, 0, 0), "2006")
		add(MonthKind, y2, m2.AddDate(0, -1, 0), "2006-01")
	} else {
		add(MonthKind, m1, m2.AddDate(0, -1, 0), "2006-01")
	}
	add(DayKind, m2, to, time.DateOnly)
	return out
}
