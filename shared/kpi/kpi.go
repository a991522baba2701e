// Package kpi computes the numbers a city publishes about its reports and its points economy, by local day:
// a roll-up turns one day's items into a snapshot; ranges are sums of snapshots. Definitions (README "KPI
// definitions"):
//
//   - received: reports submitted that day; duplicates: those linked to an original; invalid: those
//     rejected as invalid.
//   - resolved: resolutions that happened that day.
//   - completion rate (办结率) for a range = reports received in the range and resolved (whenever) ÷
//     (received − duplicates − invalid).
//   - on-time rate = resolutions before the lead's SLA deadline ÷ resolutions; median and p90 hours from
//     submission to resolution, over the range's resolutions.
//   - points issued (awards), redeemed (redemptions net of refunds), reversed (revocations); redemptions by
//     kind; registered users (profiles created); active reporters (distinct reporters with a report).
package kpi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
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
	Assigned             int            `json:"assigned"` // reports received that day with this lead
	Resolved             int            `json:"resolved"` // resolutions that day
	OnTime               int            `json:"onTime"`
	Minutes              []int          `json:"minutes"`              // submit→resolve, sorted
	ResolvedByCreatedDay map[string]int `json:"resolvedByCreatedDay"` // for completion over a range
}

// Snapshot is one local day, as stored.
type Snapshot struct {
	Date                 string                   `json:"date"`
	Received             int                      `json:"received"`
	Duplicates           int                      `json:"duplicates"`
	Invalid              int                      `json:"invalid"`
	Resolved             int                      `json:"resolved"`
	OnTime               int                      `json:"onTime"`
	Minutes              []int                    `json:"minutes"`
	ResolvedByCreatedDay map[string]int           `json:"resolvedByCreatedDay"`
	PointsIssued         int64                    `json:"pointsIssued"`
	PointsRedeemed       int64                    `json:"pointsRedeemed"`
	PointsReversed       int64                    `json:"pointsReversed"`
	Redemptions          map[string]Count         `json:"redemptions"`
	Registered           int                      `json:"registered"`
	Reporters            []string                 `json:"reporters"` // pseudonymous: a hash of each reporter
	ByCategory           map[string]*CategoryStat `json:"byCategory"`
	ByDept               map[string]*DeptStat     `json:"byDept"`
	ComputedAt           time.Time                `json:"computedAt"`
}

// pseudonym hides a reporter's id in the snapshot while letting a range count distinct reporters.
func pseudonym(sub string) string {
	h := sha256.Sum256([]byte("civicsnap-kpi:" + sub))
	return hex.EncodeToString(h[:8])
}

// Compute turns one day's inputs into its snapshot. Days are local days in tz.
func Compute(date string, in Inputs, tz *time.Location, now time.Time) Snapshot {
	s := Snapshot{Date: date, ResolvedByCreatedDay: map[string]int{}, Redemptions: map[string]Count{},
		ByCategory: map[string]*CategoryStat{}, ByDept: map[string]*DeptStat{}, Registered: in.Registered, ComputedAt: now.UTC()}
	cat := func(c string) *CategoryStat {
		if s.ByCategory[c] == nil {
			s.ByCategory[c] = &CategoryStat{}
		}
		return s.ByCategory[c]
	}
	dept := func(d string) *DeptStat {
		if s.ByDept[d] == nil {
			s.ByDept[d] = &DeptStat{ResolvedByCreatedDay: map[string]int{}, Minutes: []int{}}
		}
		return s.ByDept[d]
	}
	reporters := map[string]bool{}
	for _, r := range in.Created {
		s.Received++
		cat(r.Category).Received++
		reporters[pseudonym(r.ReporterSub)] = true
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
	s.Reporters = make([]string, 0, len(reporters))
	for p := range reporters {
		s.Reporters = append(s.Reporters, p)
	}
	slices.Sort(s.Reporters)
	s.Minutes = []int{}
	for _, r := range in.Resolutions {
		s.Resolved++
		cat(r.Category).Resolved++
		minutes := int(math.Round(r.ResolvedAt.Sub(r.CreatedAt).Minutes()))
		onTime := !r.SLADeadline.IsZero() && !r.ResolvedAt.After(r.SLADeadline)
		created := r.CreatedAt.In(tz).Format(time.DateOnly)
		s.Minutes = append(s.Minutes, minutes)
		s.ResolvedByCreatedDay[created]++
		d := dept(r.LeadDept)
		d.Resolved++
		d.Minutes = append(d.Minutes, minutes)
		d.ResolvedByCreatedDay[created]++
		if onTime {
			s.OnTime++
			d.OnTime++
		}
	}
	slices.Sort(s.Minutes)
	for _, d := range s.ByDept {
		slices.Sort(d.Minutes)
	}
	for _, l := range in.Ledger {
		switch l.Kind {
		case "award", "duplicate_award":
			s.PointsIssued += l.Delta
		case "redemption":
			s.PointsRedeemed -= l.Delta
		case "refund":
			s.PointsRedeemed -= l.Delta
		case "reversal":
			s.PointsReversed -= l.Delta
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

// percentile returns the p-th percentile (nearest rank) of sorted minutes, in hours.
func percentile(sorted []int, p float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	h := math.Round(float64(sorted[max(0, rank)])/60*10) / 10
	return &h
}

func ratio(n, d int) *float64 {
	if d <= 0 {
		return nil
	}
	r := math.Round(float64(n)/float64(d)*10000) / 10000
	return &r
}

func mergeSorted(lists ...[]int) []int {
	var all []int
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return all
}

// String makes a Snapshot print as its date in logs.
func (s Snapshot) String() string { return fmt.Sprintf("kpi snapshot %s", s.Date) }
