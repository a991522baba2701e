// Package kpi computes the numbers a city publishes about its reports and its points economy, by local day:
// a roll-up turns one day's items into a snapshot and merges it into its month's, its year's and the running
// totals; a range is the sum of the fewest snapshots that cover it. Every snapshot has a size bound whatever
// the volume (sketch.go), and no read grows with the city's age. Definitions (README "KPI definitions"):
//
//   - received: reports submitted that day; duplicates: those linked to an original; invalid: those
//     rejected as invalid.
//   - resolved: resolutions that happened that day.
//   - completion rate (办结率) for a range = reports received in the range and resolved (whenever) ÷
//     (received − duplicates − invalid).
//   - on-time rate = resolutions before the lead's SLA deadline ÷ resolutions; median and p90 hours from
//     submission to resolution, over the range's resolutions.
//   - answers, satisfaction rate (满意率), average rating and reopen rate: answers.go.
//   - points issued (awards), redeemed (redemptions net of refunds), reversed (revocations); redemptions by
//     kind; registered users (profiles created); active reporters (distinct reporters with a report).
//   - volunteers: volunteer.go; builders' home: builders.go.
package kpi

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Created is a report as the roll-up of its creation day reads it.
type Created struct {
	ID          string
	Category    string
	Status      string
	DuplicateOf string
	Reason      string
	ReporterSub string
	LeadDept    string
}

// Resolution is a report's resolution as the roll-up of its day reads it.
type Resolution struct {
	ReportID    string
	Category    string
	LeadDept    string
	CreatedAt   time.Time
	ResolvedAt  time.Time
	SLADeadline time.Time
}

// LedgerLine is a ledger entry's kind and delta.
type LedgerLine struct {
	Kind  string
	Delta int64
}

// RedemptionLine is a redemption's kind, points and status.
type RedemptionLine struct {
	Kind   string
	Amount int64
	Status string
}

// Inputs are one local day's items.
type Inputs struct {
	Created     []Created
	Resolutions []Resolution
	Ledger      []LedgerLine
	Redemptions []RedemptionLine
	Registered  int
	Answers     []AnswerLine // answers given that day (answers.go)
	MeToos      int          // citizens' "me too"s added that day (citizens affected)
	Volunteers  VolunteerInputs
	Builders    BuildersInputs
}

// Count is a count and its points.
type Count struct {
	Count  int64 `json:"count"`
	Points int64 `json:"points"`
}

// CategoryStat is a category's day.
type CategoryStat struct {
	Received int `json:"received"`
	Resolved int `json:"resolved"`
}

// DeptStat is a department's day (as lead).
type DeptStat struct {
	Assigned             int        `json:"assigned"` // reports received that day with this lead
	Resolved             int        `json:"resolved"` // resolutions that day
	OnTime               int        `json:"onTime"`
	Durations            Histogram  `json:"durations"`            // submit→resolve, minutes
	ResolvedByCreatedDay DayCounts  `json:"resolvedByCreatedDay"` // for completion over a range
	Answers              AnswerStat `json:"answers"`              // to this department's resolutions

	LegacyMinutes []int `json:"minutes,omitempty"` // read from snapshots stored before Durations, then folded in
}

// Snapshot is one local day as stored — or, merged, a month ("2026-11"), a year ("2026") or every day so
// far (TotalKey): the same figures over a longer period. Its size does not depend on how many reports the
// period had (README "KPI definitions" states the bound; TestSnapshotSizeBound checks it).
type Snapshot struct {
	Date                 string                   `json:"date"`
	Received             int                      `json:"received"`
	Duplicates           int                      `json:"duplicates"`
	Invalid              int                      `json:"invalid"`
	Resolved             int                      `json:"resolved"`
	OnTime               int                      `json:"onTime"`
	Durations            Histogram                `json:"durations"` // submit→resolve, minutes
	ResolvedByCreatedDay DayCounts                `json:"resolvedByCreatedDay"`
	PointsIssued         int64                    `json:"pointsIssued"`
	PointsRedeemed       int64                    `json:"pointsRedeemed"`
	PointsReversed       int64                    `json:"pointsReversed"`
	Redemptions          map[string]Count         `json:"redemptions"`
	Registered           int                      `json:"registered"`
	MeToos               int                      `json:"meToos,omitempty"`
	Reporters            Distinct                 `json:"reporterSet"` // pseudonymous: hashes of the reporters
	ByCategory           map[string]*CategoryStat `json:"byCategory"`
	ByDept               map[string]*DeptStat     `json:"byDept"`
	Answers              AnswerStat               `json:"answers"` // reporters' answers given that day
	Volunteers           VolunteerStat            `json:"volunteers"`
	Builders             BuildersStat             `json:"builders,omitzero"` // a day without builders events stores none
	ComputedAt           time.Time                `json:"computedAt"`

	// Snapshots stored before the bounded sketches kept every resolution's minutes and every reporter's
	// hash; Normalize folds them into Durations and Reporters.
	LegacyMinutes   []int    `json:"minutes,omitempty"`
	LegacyReporters []string `json:"reporters,omitempty"`
}

// Normalize folds the fields of a snapshot stored before the bounded sketches into the current ones, so an
// old saved state reads the same figures (exactly: the minutes become the same histogram a roll-up makes).
func (s *Snapshot) Normalize() {
	for _, m := range s.LegacyMinutes {
		s.Durations.Add(m)
	}
	for _, r := range s.LegacyReporters {
		if x, err := strconv.ParseUint(r, 16, 64); err == nil {
			s.Reporters.Add(x)
		}
	}
	s.LegacyMinutes, s.LegacyReporters = nil, nil
	if s.ResolvedByCreatedDay == nil {
		s.ResolvedByCreatedDay = DayCounts{}
	}
	for _, d := range s.ByDept {
		for _, m := range d.LegacyMinutes {
			d.Durations.Add(m)
		}
		d.LegacyMinutes = nil
		if d.ResolvedByCreatedDay == nil {
			d.ResolvedByCreatedDay = DayCounts{}
		}
	}
}

// pseudonym hides a reporter's id in the snapshot while letting a range count distinct reporters (the
// first 8 bytes of a salted SHA-256, as the hex strings of earlier snapshots were).
func pseudonym(sub string) uint64 {
	h := sha256.Sum256([]byte("civicsnap-kpi:" + sub))
	return binary.BigEndian.Uint64(h[:8])
}

// Compute turns one day's inputs into its snapshot. Days are local days in tz.
func Compute(date string, in Inputs, tz *time.Location, now time.Time) Snapshot {
	s := Snapshot{Date: date, ResolvedByCreatedDay: DayCounts{}, Redemptions: map[string]Count{},
		ByCategory: map[string]*CategoryStat{}, ByDept: map[string]*DeptStat{}, Registered: in.Registered, MeToos: in.MeToos, ComputedAt: now.UTC(),
		Volunteers: computeVolunteers(in.Volunteers), Builders: computeBuilders(in.Builders)}
	cat := func(c string) *CategoryStat {
		if s.ByCategory[c] == nil {
			s.ByCategory[c] = &CategoryStat{}
		}
		return s.ByCategory[c]
	}
	dept := func(d string) *DeptStat {
		if s.ByDept[d] == nil {
			s.ByDept[d] = &DeptStat{ResolvedByCreatedDay: DayCounts{}}
		}
		return s.ByDept[d]
	}
	for _, r := range in.Created {
		s.Received++
		cat(r.Category).Received++
		s.Reporters.Add(pseudonym(r.ReporterSub))
		switch {
		case r.DuplicateOf != "" || r.Status == "duplicate":
			s.Duplicates++
		case r.Status == "rejected" && r.Reason == "invalid":
			s.Invalid++
		default:
			if r.LeadDept != "" {
				dept(r.LeadDept).Assigned++
			}
		}
	}
	for _, r := range in.Resolutions {
		s.Resolved++
		cat(r.Category).Resolved++
		minutes := int(math.Round(r.ResolvedAt.Sub(r.CreatedAt).Minutes()))
		onTime := !r.SLADeadline.IsZero() && !r.ResolvedAt.After(r.SLADeadline)
		created := r.CreatedAt.In(tz).Format(time.DateOnly)
		s.Durations.Add(minutes)
		s.ResolvedByCreatedDay.add(created, date, 1)
		d := dept(r.LeadDept)
		d.Resolved++
		d.Durations.Add(minutes)
		d.ResolvedByCreatedDay.add(created, date, 1)
		if onTime {
			s.OnTime++
			d.OnTime++
		}
	}
	for _, l := range in.Ledger {
		switch l.Kind {
		case "award", "duplicate_award", "volunteer_award", "builders_award":
			s.PointsIssued += l.Delta
		case "redemption":
			s.PointsRedeemed -= l.Delta
		case "refund":
			s.PointsRedeemed -= l.Delta
		case "reversal", "volunteer_reversal":
			s.PointsReversed -= l.Delta
		}
	}
	for _, a := range in.Answers {
		s.Answers.add(a)
		if a.LeadDept != "" {
			dept(a.LeadDept).Answers.add(a)
		}
	}
	for _, r := range in.Redemptions {
		if r.Status == "cancelled" || r.Status == "expired" {
			continue
		}
		c := s.Redemptions[r.Kind]
		c.Count++
		c.Points += r.Amount
		s.Redemptions[r.Kind] = c
	}
	return s
}

// ErrRange is returned for a bad date range.
var ErrRange = apperr.New(apperr.Invalid, "invalid_range", "from and to must be dates YYYY-MM-DD, from ≤ to, at most 366 days")

// ParseRange checks a range.
func ParseRange(from, to string) (time.Time, time.Time, error) {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || t.Before(f) || t.Sub(f) > 366*24*time.Hour {
		return time.Time{}, time.Time{}, ErrRange
	}
	return f, t, nil
}

// Days lists the dates from..to inclusive.
func Days(from, to time.Time) []string {
	var out []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// percentile returns the p-th percentile (nearest rank) of the durations, in hours to one decimal: within
// Alpha of the exact value before the rounding.
func percentile(h Histogram, p float64) *float64 {
	m, ok := h.Quantile(p)
	if !ok {
		return nil
	}
	hours := math.Round(m/60*10) / 10
	return &hours
}

func ratio(n, d int) *float64 {
	if d <= 0 {
		return nil
	}
	r := math.Round(float64(n)/float64(d)*10000) / 10000
	return &r
}

// String makes a Snapshot print as its date in logs.
func (s Snapshot) String() string { return fmt.Sprintf("kpi snapshot %s", s.Date) }
