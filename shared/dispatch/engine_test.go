package dispatch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

var shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

// square returns a GeoJSON polygon [minLng,minLat]-[maxLng,maxLat], with optional holes.
func square(minLng, minLat, maxLng, maxLat float64, holes ...[4]float64) json.RawMessage {
	ring := func(a, b, c, d float64) [][2]float64 {
		return [][2]float64{{a, b}, {c, b}, {c, d}, {a, d}, {a, b}}
	}
	rings := [][][2]float64{ring(minLng, minLat, maxLng, maxLat)}
	for _, h := range holes {
		rings = append(rings, ring(h[0], h[1], h[2], h[3]))
	}
	b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": rings})
	return b
}

func testEngine(t testing.TB) *Engine {
	t.Helper()
	areas := []Area{
		// Old town with a park (hole) in the middle.
		{ID: "old_town", Geometry: square(103.30, 23.30, 103.40, 23.40, [4]float64{103.34, 23.34, 103.36, 23.36})},
		{ID: "new_district", Geometry: json.RawMessage(`{"type":"MultiPolygon","coordinates":[[[[103.40,23.30],[103.50,23.30],[103.50,23.40],[103.40,23.40],[103.40,23.30]]],[[[103.60,23.30],[103.70,23.30],[103.70,23.40],[103.60,23.40],[103.60,23.30]]]]}`)},
	}
	rules := []Rule{
		{ID: "rubbish-anywhere", Priority: 10, Categories: []string{"rubbish"}, Lead: "sanitation", Active: true},
		{ID: "rubbish-old-town", Priority: 20, Categories: []string{"rubbish"}, Areas: []string{"old_town"}, Lead: "city_mgmt", Assists: []string{"sanitation"}, Active: true},
		{ID: "rubbish-retired", Priority: 99, Categories: []string{"rubbish"}, Lead: "police", Active: false},
		{ID: "manhole-urgent", Priority: 50, Categories: []string{"manhole_cover"}, Keywords: []string{"Missing", "丢失"}, Lead: "municipal", Assists: []string{"traffic_police"}, SLAHours: 4, Active: true},
		{ID: "manhole", Priority: 40, Categories: []string{"manhole_cover"}, Lead: "municipal", Active: true},
		{ID: "noise-night", Priority: 30, Categories: []string{"noise"}, Hours: &Hours{From: "22:00", To: "06:00"}, Lead: "police", Active: true},
		{ID: "noise-day", Priority: 10, Categories: []string{"noise"}, Lead: "environment", Active: true},
		{ID: "new-district-all", Priority: 25, Areas: []string{"new_district"}, Lead: "housing", Active: true},
		{ID: "tie-b", Priority: 5, Categories: []string{"street_light"}, Lead: "b", Active: true},
		{ID: "tie-a", Priority: 5, Categories: []string{"street_light"}, Lead: "a", Active: true},
	}
	e, err := NewEngine(rules, areas, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMatch(t *testing.T) {
	e := testEngine(t)
	day := time.Date(2026, 11, 27, 14, 0, 0, 0, shanghai)
	night := time.Date(2026, 11, 27, 23, 30, 0, 0, shanghai)
	tests := []struct {
		name string
		in   Input
		want string // rule id, "" for no match
	}{
		{"rubbish inside old town", Input{"rubbish", orb.Point{103.32, 23.32}, "", day}, "rubbish-old-town"},
		{"rubbish on old town's outer edge is inside", Input{"rubbish", orb.Point{103.30, 23.35}, "", day}, "rubbish-old-town"},
		{"rubbish on old town's corner is inside", Input{"rubbish", orb.Point{103.30, 23.30}, "", day}, "rubbish-old-town"},
		{"rubbish in the park hole is outside", Input{"rubbish", orb.Point{103.35, 23.35}, "", day}, "rubbish-anywhere"},
		{"rubbish on the hole's edge is outside", Input{"rubbish", orb.Point{103.34, 23.35}, "", day}, "rubbish-anywhere"},
		{"rubbish elsewhere", Input{"rubbish", orb.Point{103.20, 23.20}, "", day}, "rubbish-anywhere"},
		{"new district beats rubbish-anywhere by priority", Input{"rubbish", orb.Point{103.45, 23.35}, "", day}, "new-district-all"},
		{"second polygon of a multipolygon", Input{"other", orb.Point{103.65, 23.35}, "", day}, "new-district-all"},
		{"keyword, case-insensitive", Input{"manhole_cover", orb.Point{103.2, 23.2}, "cover MISSING on road", day}, "manhole-urgent"},
		{"chinese keyword", Input{"manhole_cover", orb.Point{103.2, 23.2}, "井盖丢失了", day}, "manhole-urgent"},
		{"no keyword falls to the general rule", Input{"manhole_cover", orb.Point{103.2, 23.2}, "cover is loose", day}, "manhole"},
		{"noise at night", Input{"noise", orb.Point{103.2, 23.2}, "", night}, "noise-night"},
		{"noise in the day", Input{"noise", orb.Point{103.2, 23.2}, "", day}, "noise-day"},
		{"noise at 05:59 (window wraps midnight)", Input{"noise", orb.Point{103.2, 23.2}, "", time.Date(2026, 11, 27, 5, 59, 0, 0, shanghai)}, "noise-night"},
		{"noise at 06:00 is day", Input{"noise", orb.Point{103.2, 23.2}, "", time.Date(2026, 11, 27, 6, 0, 0, 0, shanghai)}, "noise-day"},
		{"hours use the city's clock, not UTC", Input{"noise", orb.Point{103.2, 23.2}, "", time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)}, "noise-night"},
		{"equal priority: smaller id wins", Input{"street_light", orb.Point{103.2, 23.2}, "", day}, "tie-a"},
		{"no rule matches", Input{"illegal_building", orb.Point{103.2, 23.2}, "", day}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := e.Match(tt.in)
			if got := map[bool]string{true: r.ID, false: ""}[ok]; got != tt.want {
				t.Errorf("Match = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAreaValidation(t *testing.T) {
	tests := []struct {
		name string
		geom string
		ok   bool
	}{
		{"polygon", string(square(1, 1, 2, 2)), true},
		{"open ring", `{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,2]]]}`, false},
		{"point", `{"type":"Point","coordinates":[1,1]}`, false},
		{"lat-lng swapped off the globe", `{"type":"Polygon","coordinates":[[[1,100],[2,100],[2,101],[1,100]]]}`, false},
		{"not json", `nope`, false},
	}
	for _, tt := range tests {
		if err := (Area{ID: "a", Geometry: json.RawMessage(tt.geom)}).Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestRuleValidation(t *testing.T) {
	known := func(d string) bool { return d == "a" || d == "b" }
	tests := []struct {
		name string
		r    Rule
		ok   bool
	}{
		{"good", Rule{ID: "r1", Lead: "a", Assists: []string{"b"}, Escalation: "b"}, true},
		{"unknown lead", Rule{ID: "r1", Lead: "x"}, false},
		{"unknown assist", Rule{ID: "r1", Lead: "a", Assists: []string{"x"}}, false},
		{"bad id", Rule{ID: "R 1", Lead: "a"}, false},
		{"bad hours", Rule{ID: "r1", Lead: "a", Hours: &Hours{From: "25:00", To: "01:00"}}, false},
		{"negative sla", Rule{ID: "r1", Lead: "a", SLAHours: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.r.Validate(known); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// BenchmarkMatch evaluates reports against 500 rules and 100 area polygons (the target size).
func BenchmarkMatch(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	cats := []string{"rubbish", "street_vending", "illegal_parking", "street_light", "damaged_road", "manhole_cover", "uncivil_dog", "illegal_building", "noise", "other"}
	var areas []Area
	for i := range 100 { // a 10×10 grid of districts over the city, each a 24-vertex polygon
		x, y := 103.15+float64(i%10)*0.045, 23.20+float64(i/10)*0.04
		var ring [][2]float64
		for k := range 24 {
			a := float64(k) / 24 * 2 * 3.14159
			ring = append(ring, [2]float64{x + 0.0225 + 0.022*cos(a), y + 0.02 + 0.019*sin(a)})
		}
		ring = append(ring, ring[0])
		g, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}})
		areas = append(areas, Area{ID: fmt.Sprint("a", i), Geometry: g})
	}
	var rules []Rule
	for i := range 500 {
		rules = append(rules, Rule{ID: fmt.Sprint("r", i), Priority: rnd.IntN(100), Categories: []string{cats[rnd.IntN(len(cats))]},
			Areas: []string{fmt.Sprint("a", rnd.IntN(100)), fmt.Sprint("a", rnd.IntN(100))}, Keywords: map[bool][]string{true: {"urgent"}}[i%7 == 0],
			Lead: "d", Active: true})
	}
	e, err := NewEngine(rules, areas, shanghai)
	if err != nil {
		b.Fatal(err)
	}
	inputs := make([]Input, 1024)
	for i := range inputs {
		inputs[i] = Input{Category: cats[rnd.IntN(len(cats))], Location: orb.Point{103.15 + rnd.Float64()*0.45, 23.20 + rnd.Float64()*0.40}, Description: "something is broken", At: time.Now()}
	}
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	for i := range b.N {
		if _, ok := e.Match(inputs[i%len(inputs)]); ok {
			matched++
		}
	}
	b.ReportMetric(float64(matched)/float64(b.N), "matched/op")
}
