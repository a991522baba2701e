package dispatch

import (
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Engine picks the rule for a report. It is built once per configuration load and is read-only after, so
// one Engine serves concurrent requests.
type Engine struct {
	byCategory map[string][]*compiled // rules naming the category, best first
	anyCat     []*compiled            // rules for every category, best first
	areas      map[string]area
	tz         *time.Location
}

type compiled struct {
	Rule
	keywords []string
}

type area struct {
	geom  orb.Geometry
	bound orb.Bound
}

// Input is what a rule matches on.
type Input struct {
	Category    string
	Location    orb.Point // lng, lat
	Description string
	At          time.Time
}

// NewEngine compiles rules and areas. Inactive rules are dropped; a rule naming an unknown area can never
// match through that area. Invalid area geometry is an error.
func NewEngine(rules []Rule, areas []Area, tz *time.Location) (*Engine, error) {
	e := &Engine{byCategory: map[string][]*compiled{}, areas: map[string]area{}, tz: tz}
	for _, a := range areas {
		g, err := a.Polygon()
		if err != nil {
			return nil, err
		}
		e.areas[a.ID] = area{geom: g, bound: g.Bound()}
	}
	for _, r := range rules {
		if !r.Active {
			continue
		}
		c := &compiled{Rule: r}
		for _, k := range r.Keywords {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				c.keywords = append(c.keywords, k)
			}
		}
		if len(r.Categories) == 0 {
			e.anyCat = append(e.anyCat, c)
		}
		for _, cat := range r.Categories {
			e.byCategory[cat] = append(e.byCategory[cat], c)
		}
	}
	better := func(a, b *compiled) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		return strings.Compare(a.ID, b.ID)
	}
	for _, list := range e.byCategory {
		slices.SortFunc(list, better)
	}
	slices.SortFunc(e.anyCat, better)
	return e, nil
}

// Match returns the highest-priority rule that matches in, or false.
func (e *Engine) Match(in Input) (Rule, bool) {
	desc := strings.ToLower(in.Description)
	local := in.At.In(e.tz)
	inArea := map[string]bool{} // memo: a report is tested against each polygon at most once
	specific, general := e.byCategory[in.Category], e.anyCat
	// Merge the two priority-ordered lists so the first match is the best one.
	for len(specific) > 0 || len(general) > 0 {
		var c *compiled
		if len(general) == 0 || len(specific) > 0 && (specific[0].Priority > general[0].Priority ||
			specific[0].Priority == general[0].Priority && specific[0].ID < general[0].ID) {
			c, specific = specific[0], specific[1:]
		} else {
			c, general = general[0], general[1:]
		}
		if e.matches(c, in.Location, desc, local, inArea) {
			return c.Rule, true
		}
	}
	return Rule{}, false
}

func (e *Engine) matches(c *compiled, p orb.Point, desc string, local time.Time, inArea map[string]bool) bool {
	if c.Hours != nil && !c.Hours.contains(local) {
		return false
	}
	if len(c.keywords) > 0 && !slices.ContainsFunc(c.keywords, func(k string) bool { return strings.Contains(desc, k) }) {
		return false
	}
	if len(c.Areas) == 0 {
		return true
	}
	for _, id := range c.Areas {
		in, seen := inArea[id]
		if !seen {
			in = e.contains(id, p)
			inArea[id] = in
		}
		if in {
			return true
		}
	}
	return false
}

// contains reports whether p lies in area id. Points on an outer boundary are in; points on a hole's
// boundary are out (orb/planar's convention).
func (e *Engine) contains(id string, p orb.Point) bool {
	a, ok := e.areas[id]
	if !ok || !a.bound.Contains(p) {
		return false
	}
	switch g := a.geom.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}

// AreaOf returns the ids of the areas containing p, sorted (for display and KPIs).
func (e *Engine) AreaOf(p orb.Point) []string {
	var ids []string
	for id := range e.areas {
		if e.contains(id, p) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
