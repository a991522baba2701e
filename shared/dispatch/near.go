package dispatch

import (
	"math"
	"slices"

	"github.com/mmcloughlin/geohash"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// CellPrecision is the geohash precision of the duplicate-detection key: about 1.2 km × 0.6 km, so a
// radius up to a few hundred metres is covered by at most four cells (four Queries).
const CellPrecision = 6

// Cell is the geohash cell a point is filed under.
func Cell(p orb.Point) string { return geohash.EncodeWithPrecision(p.Lat(), p.Lon(), CellPrecision) }

// Cells returns the cells that together cover the circle of radius metres around p.
func Cells(p orb.Point, radius float64) []string {
	const metresPerDegLat = 111_320.0
	dLat := radius / metresPerDegLat
	dLng := radius / (metresPerDegLat * math.Max(math.Cos(p.Lat()*math.Pi/180), 0.01))
	box := geohash.BoundingBox(Cell(p))
	stepLat, stepLng := (box.MaxLat-box.MinLat)/2, (box.MaxLng-box.MinLng)/2
	var cells []string
	for lat := p.Lat() - dLat; ; lat = math.Min(lat+stepLat, p.Lat()+dLat) {
		for lng := p.Lon() - dLng; ; lng = math.Min(lng+stepLng, p.Lon()+dLng) {
			c := geohash.EncodeWithPrecision(lat, lng, CellPrecision)
			if !slices.Contains(cells, c) {
				cells = append(cells, c)
			}
			if lng >= p.Lon()+dLng {
				break
			}
		}
		if lat >= p.Lat()+dLat {
			break
		}
	}
	slices.Sort(cells)
	return cells
}

// Distance is the great-circle distance in metres.
func Distance(a, b orb.Point) float64 { return geo.DistanceHaversine(a, b) }
