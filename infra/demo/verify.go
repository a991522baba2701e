package demo

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Dispatch's duplicate rule (DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_HOURS defaults) and the city's box
// (CITY_BBOX default).
const (
	duplicateRadius = 50.0
	duplicateWindow = 72 * time.Hour
	cityBBox        = "23.20,103.15,23.60,103.60"
)

// Verify checks what the replay's exactness rests on, and returns every violation found (at most a few
// of each kind):
//   - actions are in time order, none after the cutoff, each at its kind's moment of a slot (start or
//     middle); a report is filed after its citizen registered, and acted on only after it was filed;
//   - every report lies in the city, and only the planned duplicates lie within dispatch's 50 m and 72 h
//     of an earlier report of their category, whose original is still open and was filed a slot before;
//   - a resolution is clearly before or after its deadline (a margin the replay's seconds cannot cross),
//     and Late says which;
//   - a redemption comes at least a slot after every award it may spend, and a revoked award was not cut
//     by a cap.
//
// It takes well under a second for a full-size month (places are bucketed in a grid of ~55 m cells).
func (p *Plan) Verify() error {
	var errs []error
	seen := map[string]int{}
	fail := func(kind, format string, args ...any) {
		if seen[kind]++; seen[kind] <= 5 {
			errs = append(errs, fmt.Errorf(kind+": "+format, args...))
		}
	}
	slot := p.Config.Slot
	isOpening := func(t time.Time) bool {
		l := t.In(p.tz())
		return l.Sub(time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, p.tz()))%slot == 0
	}
	registered := map[int]time.Time{}
	for i, c := range p.Citizens {
		if c.Preloaded {
			registered[i] = c.RegisterAt
		}
	}
	filed := map[int]time.Time{}
	for i, a := range p.Actions {
		if i > 0 && a.At.Before(p.Actions[i-1].At) {
			fail("order", "action %d (%s) at %s is before the one before it", i, a.Kind, a.At)
		}
		if a.At.After(p.Config.Cutoff) {
			fail("cutoff", "action %d (%s) at %s is after the cutoff", i, a.Kind, a.At)
		}
		opening := a.Kind == Register || a.Kind == File || a.Kind == Sweep
		if isOpening(a.At) != opening {
			fail("moment", "%s at %s is not at its slot's %s", a.Kind, a.At, map[bool]string{true: "start", false: "middle"}[opening])
		}
		switch a.Kind {
		case Register:
			registered[a.Citizen] = a.At
		case File:
			reg, ok := registered[a.Citizen]
			if !ok || !reg.Before(a.At) {
				fail("registration", "report %d filed by %s before they registered", a.Report, p.Citizens[a.Citizen].Sub)
			}
			filed[a.Report] = a.At
		case Act, Revoke:
			if f, ok := filed[a.Report]; !ok || !f.Before(a.At) {
				fail("filing", "%s of report %d before it was filed", a.Kind, a.Report)
			}
		}
	}
	errs = append(errs, p.verifyPlaces(fail)...)
	margin := min(slot/4, 15*time.Minute)
	awardsOf := map[int][]time.Time{}
	for _, r := range p.Reports {
		if r.ResolveAt.IsZero() {
			continue
		}
		awardsOf[r.Citizen] = append(awardsOf[r.Citizen], r.ResolveAt)
		if d := r.ResolveAt.Sub(r.Deadline).Abs(); d < margin {
			fail("deadline", "report %d is resolved %s from its deadline", r.Seq, d)
		}
		if r.Late != r.ResolveAt.After(r.Deadline) {
			fail("deadline", "report %d: late %v, resolved %s, deadline %s", r.Seq, r.Late, r.ResolveAt, r.Deadline)
		}
		if r.Revoked && r.capped {
			fail("revocation", "report %d: a capped award is revoked", r.Seq)
		}
	}
	for _, red := range p.Redemptions {
		for _, at := range awardsOf[red.Citizen] {
			if at.Before(red.At) && red.At.Sub(at) < slot {
				fail("redemption", "redemption %d at %s follows an award of %s by less than a slot", red.Seq, red.At, at)
			}
		}
	}
	return errors.Join(errs...)
}

// verifyPlaces checks the duplicate rule and the city's box.
func (p *Plan) verifyPlaces(fail func(kind, format string, args ...any)) []error {
	bbox, err := report.ParseBBox(cityBBox)
	if err != nil {
		return []error{err}
	}
	const cell = 0.0005 // degrees: ~55 m of latitude, ~51 m of longitude here
	type key struct {
		cat      string
		lat, lng int
	}
	grid := map[key][]int{}
	cellOf := func(lat, lng float64) (int, int) { return int(math.Floor(lat / cell)), int(math.Floor(lng / cell)) }
	for _, r := range p.Reports {
		if r.Lat < bbox.MinLat || r.Lat > bbox.MaxLat || r.Lng < bbox.MinLng || r.Lng > bbox.MaxLng {
			fail("city", "report %d at %.5f,%.5f is outside the city", r.Seq, r.Lat, r.Lng)
		}
		la, ln := cellOf(r.Lat, r.Lng)
		near := -1
		for dla := -1; dla <= 1 && near < 0; dla++ {
			for dln := -1; dln <= 1 && near < 0; dln++ {
				for _, s := range grid[key{r.Category, la + dla, ln + dln}] {
					o := p.Reports[s]
					if o.Fate != Duplicate && r.At.Sub(o.At) < duplicateWindow &&
						dispatch.Distance(orb.Point{r.Lng, r.Lat}, orb.Point{o.Lng, o.Lat}) <= duplicateRadius {
						near = o.Seq
						break
					}
				}
			}
		}
		switch {
		case r.Fate == Duplicate && near < 0:
			fail("duplicate", "duplicate %d has no original within 50 m", r.Seq)
		case r.Fate == Duplicate && near != r.DupOf:
			fail("duplicate", "duplicate %d is near report %d, planned as a duplicate of %d", r.Seq, near, r.DupOf)
		case r.Fate == Duplicate:
			o := p.Reports[near]
			if !o.ResolveAt.IsZero() && !o.ResolveAt.After(r.At) || o.Fate != Resolved && o.Fate != Stuck {
				fail("duplicate", "duplicate %d: its original %d is not open when it is filed", r.Seq, o.Seq)
			}
			if r.At.Sub(o.At) < p.Config.Slot {
				fail("duplicate", "duplicate %d is filed less than a slot after its original %d", r.Seq, o.Seq)
			}
		case near >= 0:
			fail("duplicate", "report %d is within 50 m of report %d of its category", r.Seq, near)
		}
		k := key{r.Category, la, ln}
		grid[k] = append(grid[k], r.Seq)
	}
	return nil
}
