package kpi

import (
	"cmp"
	"maps"
	"math"
	"slices"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Volunteer service (志愿圈, issue 15) by local day. Definitions (README "KPI definitions"):
//
//   - registered: volunteer profiles created that day; verified: profiles verified that day (an organiser's
//     or an admin's mark, once per profile). The running totals (TotalKey) count every one so far.
//   - service minutes: the sum of the day's service records' deltas (a confirmation adds its minutes less
//     the revision before it, a revocation takes back what was confirmed), by the record's day — so a range
//     holds the minutes confirmed in it, net of later changes made in it. By team and by activity type.
//   - confirmations and revocations: the day's service records of each kind.
//   - active volunteers: distinct volunteers with a confirmation (a `confirmed` record) in the range, in the
//     same bounded distinct-count sketch as active reporters, so ranges merge.
//
// Bounds: the types are volunteer.Types() (anything else counts as "other"); the teams are at most
// MaxVolunteerTeams per snapshot, the rest summed under OtherTeam.

// MaxVolunteerTeams is how many teams a snapshot tells apart: those with the most minutes; the others' minutes
// are summed under OtherTeam. Mengzi has about 680 teams (191 service teams, 267 registered groups, 15 service
// kiosks and 207 service posts), so at 1,000 every one of its teams is its own line in every day, month,
// year and range and the figures are exact; a city with more teams sees its smallest ones' minutes under
// OtherTeam in a snapshot where they do not make the cut. The total is exact either way. 1,000 lines of
// 64-character ids keep a snapshot well under the item limit (TestSnapshotSizeBound).
const MaxVolunteerTeams = 1000

// OtherTeam is the line of the teams a snapshot or a summary does not name.
const OtherTeam = "other"

// TopVolunteerTeams is how many teams a summary names (the most hours); the rest are one line, OtherTeam.
const TopVolunteerTeams = 10

// VolunteerRecord is a service record as the roll-up of its day reads it.
type VolunteerRecord struct {
	Sub    string
	Kind   string // volunteer.RecordConfirmed or volunteer.RecordRevoked
	Delta  int64  // minutes after the record less those before it
	TeamID string
	Type   string // the activity's type
}

// VolunteerInputs are one local day's volunteer items.
type VolunteerInputs struct {
	Registered int // profiles created (gsi3 VOLREG#<day>)
	Verified   int // profiles verified (gsi4 VOLVER#<day>)
	Records    []VolunteerRecord
}

// VolunteerStat is a snapshot's volunteer figures. Its size is bounded: a fixed set of types, at most
// MaxVolunteerTeams teams and a Distinct (at most 16 KiB).
type VolunteerStat struct {
	Registered    int              `json:"registered"`
	Verified      int              `json:"verified"`
	Minutes       int64            `json:"minutes"`
	Confirmations int              `json:"confirmations"`
	Revocations   int              `json:"revocations"`
	Active        Distinct         `json:"activeSet"` // pseudonymous: hashes of the confirmed volunteers
	ByTeam        map[string]int64 `json:"byTeam,omitempty"`
	ByType        map[string]int64 `json:"byType,omitempty"`
}

// knownType is t when it is one of volunteer.Types(), else volunteer.TypeOther.
func knownType(t string) string {
	if slices.Contains(volunteer.Types(), t) {
		return t
	}
	return volunteer.TypeOther
}

// computeVolunteers turns a day's volunteer items into its figures.
func computeVolunteers(in VolunteerInputs) VolunteerStat {
	v := VolunteerStat{Registered: in.Registered, Verified: in.Verified, ByTeam: map[string]int64{}, ByType: map[string]int64{}}
	for _, r := range in.Records {
		v.Minutes += r.Delta
		team := r.TeamID
		if team == "" {
			team = OtherTeam
		}
		v.ByTeam[team] += r.Delta
		v.ByType[knownType(r.Type)] += r.Delta
		switch r.Kind {
		case volunteer.RecordConfirmed:
			v.Confirmations++
			v.Active.Add(pseudonym(r.Sub))
		case volunteer.RecordRevoked:
			v.Revocations++
		}
	}
	v.ByTeam = boundTeams(v.ByTeam, MaxVolunteerTeams)
	return v
}

// merge adds o's figures; breakdowns says whether to keep the by-team and by-type lines (the running
// totals keep none).
func (v *VolunteerStat) merge(o VolunteerStat, breakdowns bool) {
	v.Registered += o.Registered
	v.Verified += o.Verified
	v.Minutes += o.Minutes
	v.Confirmations += o.Confirmations
	v.Revocations += o.Revocations
	v.Active.Merge(o.Active)
	if !breakdowns {
		return
	}
	if v.ByTeam == nil {
		v.ByTeam = map[string]int64{}
	}
	if v.ByType == nil {
		v.ByType = map[string]int64{}
	}
	for k, m := range o.ByTeam {
		v.ByTeam[k] += m
	}
	for k, m := range o.ByType {
		v.ByType[knownType(k)] += m
	}
}

// bound keeps at most MaxVolunteerTeams teams (after a merge of many days' teams).
func (v *VolunteerStat) bound() { v.ByTeam = boundTeams(v.ByTeam, MaxVolunteerTeams) }

// boundTeams keeps the n teams with the most minutes (ties by id) and sums the rest, with any OtherTeam
// line already there, under OtherTeam. Which teams are kept depends only on the minutes, so a snapshot
// re-merged from the same parts is the same.
func boundTeams(teams map[string]int64, n int) map[string]int64 {
	named := len(teams)
	if _, ok := teams[OtherTeam]; ok {
		named--
	}
	if named <= n {
		return teams
	}
	ids := slices.Collect(maps.Keys(teams))
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == OtherTeam })
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(teams[b], teams[a]), cmp.Compare(a, b)) })
	out := make(map[string]int64, n+1)
	for _, id := range ids[:n] {
		out[id] = teams[id]
	}
	other := teams[OtherTeam]
	for _, id := range ids[n:] {
		other += teams[id]
	}
	out[OtherTeam] = other
	return out
}

// VolunteerSummary is a range's volunteer figures (the KPI summary's "volunteers").
type VolunteerSummary struct {
	Registered      int     `json:"registered"`      // profiles created in the range
	RegisteredTotal int     `json:"registeredTotal"` // every profile so far (the running totals)
	Verified        int     `json:"verified"`        // profiles verified in the range
	VerifiedTotal   int     `json:"verifiedTotal"`
	Active          int     `json:"active"` // distinct volunteers with a confirmation in the range
	Confirmations   int     `json:"confirmations"`
	Revocations     int     `json:"revocations"`
	Minutes         int64   `json:"minutes"`    // service minutes confirmed in the range (net of revocations)
	Hours           float64 `json:"hours"`      // Minutes / 60, to one decimal
	HoursTotal      float64 `json:"hoursTotal"` // every confirmed minute so far / 60, to one decimal
	// ByTeam: the TopVolunteerTeams teams with the most minutes, then OtherTeam (every other team, when
	// there is any); ByType: every activity type with minutes, most first.
	ByTeam []HoursRow `json:"byTeam"`
	ByType []HoursRow `json:"byType"`
}

// HoursRow is a team's or an activity type's service in a range.
type HoursRow struct {
	Key     string  `json:"key"`
	Name    string  `json:"name,omitempty"` // a team's name (the KPI API reads it; types are named by the console)
	Minutes int64   `json:"minutes"`
	Hours   float64 `json:"hours"`
}

// hours is minutes in hours to one decimal.
func hours(minutes int64) float64 { return math.Round(float64(minutes)/60*10) / 10 }

// summarizeVolunteers turns a range's merged figures into its summary (without the running totals, which
// Service.Summary adds from the totals snapshot).
func summarizeVolunteers(v VolunteerStat) VolunteerSummary {
	s := VolunteerSummary{Registered: v.Registered, Verified: v.Verified, Active: v.Active.Count(), Confirmations: v.Confirmations,
		Revocations: v.Revocations, Minutes: v.Minutes, Hours: hours(v.Minutes), ByTeam: []HoursRow{}, ByType: []HoursRow{}}
	for k, m := range boundTeams(v.ByTeam, TopVolunteerTeams) {
		if m == 0 {
			continue
		}
		s.ByTeam = append(s.ByTeam, HoursRow{Key: k, Minutes: m, Hours: hours(m)})
	}
	// The named teams by minutes, then the rest.
	slices.SortFunc(s.ByTeam, func(a, b HoursRow) int {
		return cmp.Or(cmp.Compare(boolInt(a.Key == OtherTeam), boolInt(b.Key == OtherTeam)), cmp.Compare(b.Minutes, a.Minutes), cmp.Compare(a.Key, b.Key))
	})
	for k, m := range v.ByType {
		if m != 0 {
			s.ByType = append(s.ByType, HoursRow{Key: k, Minutes: m, Hours: hours(m)})
		}
	}
	slices.SortFunc(s.ByType, func(a, b HoursRow) int { return cmp.Or(cmp.Compare(b.Minutes, a.Minutes), cmp.Compare(a.Key, b.Key)) })
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withTotals adds the running totals' figures.
func (s *VolunteerSummary) withTotals(t VolunteerStat) {
	s.RegisteredTotal, s.VerifiedTotal, s.HoursTotal = t.Registered, t.Verified, hours(t.Minutes)
}
