package volunteer

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// Point is a phone's location (WGS-84).
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Check refuses a location off the globe.
func (pt Point) Check() error {
	if !validPoint(pt.Lat, pt.Lng) {
		return ErrInvalid.With("location must be {lat: -90..90, lng: -180..180}")
	}
	return nil
}

// Contains reports whether pt is inside the place (the geofence of check-in and check-out): within RadiusM
// metres of the point (geodesic distance, orb/geo), or inside the polygon (orb/planar: holes excluded, the
// boundary in) when the place has one. A stored polygon that does not parse contains nothing (the error says
// why; publishing validates it, so it is the store's fault).
func (p Place) Contains(pt Point) (bool, error) {
	at := orb.Point{pt.Lng, pt.Lat}
	if len(p.Geometry) > 0 {
		poly, err := Polygon(p.Geometry)
		if err != nil {
			return false, err
		}
		return planar.PolygonContains(poly, at), nil
	}
	return geo.Distance(orb.Point{p.Lng, p.Lat}, at) <= float64(p.RadiusM), nil
}
