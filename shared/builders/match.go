package builders

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// Matching (README "Builders' home", Matching): for an employer's job, the workers whose match entry
// (one per trade of a profile that is not hidden) is in the job's cell or its 8 neighbours, pass the hard
// filters and rank by Score.
const (
	MatchPerCell = 200 // match entries read of one cell
	MaxMatches   = 50  // workers a match answers
)

// MatchEntry is what matching reads of a worker: the match entry H1 writes for each trade of a profile
// whose visibility is not hidden (no phone).
type MatchEntry struct {
	Sub           string
	Trade         string
	DisplayName   string
	Years         int
	Area          Area
	Expected      Wage
	DailyWant     float64 // the expected wage as a daily wage
	AvailableFrom string
}

// daysBetween is the number of days from a to b (local days YYYY-MM-DD; negative when b is before a).
func daysBetween(a, b string) int {
	ta, err1 := time.Parse(time.DateOnly, a)
	tb, err2 := time.Parse(time.DateOnly, b)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(math.Round(tb.Sub(ta).Hours() / 24))
}

// Matches reports whether the worker passes the hard filters for job j at distance km: within the
// worker's radius, available by the job's end date, and the job's highest daily wage at least what the
// worker wants.
func Matches(j Job, e MatchEntry, km float64) bool {
	_, dailyMax := Daily(j.Wage)
	return km <= float64(e.Area.RadiusKm) && e.AvailableFrom <= j.EndDate && dailyMax >= e.DailyWant
}

// Score is the match score of worker e for job j at distance km, 0-100, rounded to 0.1:
//
//	distance     40 · (1 − d/radiusKm)
//	wage         30 · min(1, J.dailyMax/dailyWant − 0.5)   (15 at exactly the want, 30 at 1.5× it)
//	availability 20 when available by the start date, else 20 · max(0, 1 − daysLate/30)
//	experience   10 · min(years, 10)/10
//
// It assumes Matches (d ≤ radius, dailyMax ≥ dailyWant); a worker who wants nothing scores the full wage
// part, and one with radius 0 at the very place the full distance part.
func Score(j Job, e MatchEntry, km float64) float64 {
	dist := 40.0
	if e.Area.RadiusKm > 0 {
		dist = 40 * (1 - km/float64(e.Area.RadiusKm))
	}
	_, dailyMax := Daily(j.Wage)
	wage := 30.0
	if e.DailyWant > 0 {
		wage = 30 * math.Min(1, dailyMax/e.DailyWant-0.5)
	}
	avail := 20.0
	if e.AvailableFrom > j.StartDate {
		avail = 20 * math.Max(0, 1-float64(daysBetween(j.StartDate, e.AvailableFrom))/30)
	}
	exp := 10 * float64(min(max(e.Years, 0), 10)) / 10
	return math.Round((dist+wage+avail+exp)*10) / 10
}

// matchCells is j's cell and its 8 neighbours.
func matchCells(j Job) []string {
	c := geohash.EncodeWithPrecision(j.Place.Lat, j.Place.Lng, CellPrecision)
	cells := append([]string{c}, geohash.Neighbors(c)...)
	slices.Sort(cells)
	return slices.Compact(cells)
}

// Rank filters the entries by Matches and orders them by Score descending, then availableFrom, then sub;
// at most MaxMatches WorkerViews, without phone.
func Rank(j Job, entries []MatchEntry) []WorkerView {
	out := make([]WorkerView, 0, min(len(entries), MaxMatches))
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Sub] || e.Trade != j.Trade {
			continue
		}
		km := DistanceKm(Point{Lat: j.Place.Lat, Lng: j.Place.Lng}, Point{Lat: e.Area.Lat, Lng: e.Area.Lng})
		if !Matches(j, e, km) {
			continue
		}
		seen[e.Sub] = true
		score := Score(j, e, km)
		d := math.Round(km*10) / 10
		out = append(out, WorkerView{
			Sub: e.Sub, DisplayName: e.DisplayName, Trades: []string{e.Trade}, Years: e.Years, Area: e.Area,
			Expected: e.Expected, AvailableFrom: e.AvailableFrom, DistanceKm: &d, Score: &score,
		})
	}
	slices.SortFunc(out, func(a, b WorkerView) int {
		if *a.Score != *b.Score {
			if *a.Score > *b.Score {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.AvailableFrom, b.AvailableFrom); c != 0 {
			return c
		}
		return strings.Compare(a.Sub, b.Sub)
	})
	return out[:min(len(out), MaxMatches)]
}

// JobMatches ranks the workers who match a job: its employer (while verified) or an admin.
func (s *Service) JobMatches(ctx context.Context, p auth.Principal, jobID string) ([]WorkerView, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	j, err := s.store.Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if !p.Has(auth.Admin) {
		if j.EmployerSub != p.Sub {
			return nil, ErrNotYourJob
		}
		if _, err := s.actingEmployer(ctx, p); err != nil {
			return nil, err
		}
	}
	entries, err := s.store.MatchEntries(ctx, j.Trade, matchCells(j), MatchPerCell)
	if err != nil {
		return nil, err
	}
	return Rank(j, entries), nil
}
