package dispatch

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func cos(x float64) float64 { return math.Cos(x) }
func sin(x float64) float64 { return math.Sin(x) }

// offset moves p by dNorth, dEast metres.
func offset(p orb.Point, dNorth, dEast float64) orb.Point {
	return orb.Point{p.Lon() + dEast/(111_320*math.Cos(p.Lat()*math.Pi/180)), p.Lat() + dNorth/111_320}
}

func TestCellsCoverTheCircle(t *testing.T) {
	centres := []orb.Point{{103.38, 23.37}, {103.3799, 23.3699}, {103.3516, 23.3716}}
	for _, c := range centres {
		cells := Cells(c, 50)
		if len(cells) < 1 || len(cells) > 4 {
			t.Errorf("Cells(%v, 50) = %d cells, want 1–4", c, len(cells))
		}
		covered := map[string]bool{}
		for _, x := range cells {
			covered[x] = true
		}
		for a := 0.0; a < 2*math.Pi; a += math.Pi / 16 {
			for _, r := range []float64{0, 25, 49.9} {
				p := offset(c, r*math.Sin(a), r*math.Cos(a))
				if !covered[Cell(p)] {
					t.Errorf("point %.0f m from %v in cell %s not covered by %v", r, c, Cell(p), cells)
				}
			}
		}
	}
}

func TestDistance(t *testing.T) {
	p := orb.Point{103.38, 23.37}
	for _, m := range []float64{10, 49, 51, 500} {
		if d := Distance(p, offset(p, m, 0)); math.Abs(d-m) > 0.5 {
			t.Errorf("distance of %v m = %v", m, d)
		}
	}
}
