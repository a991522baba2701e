package volunteer

import (
	"encoding/json"
	"testing"
)

func TestPlaceContains(t *testing.T) {
	// 天马路 in Mengzi: a 100 m circle, and a square of about 200 m with a hole in its middle.
	circle := Place{Lat: 23.3752, Lng: 103.3905, RadiusM: 100}
	square := Place{Lat: 23.3752, Lng: 103.3905, Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[
		[[103.3895,23.3743],[103.3915,23.3743],[103.3915,23.3761],[103.3895,23.3761],[103.3895,23.3743]],
		[[103.3903,23.3750],[103.3907,23.3750],[103.3907,23.3754],[103.3903,23.3754],[103.3903,23.3750]]]}`)}
	const degLat = 111195.0 // metres per degree of latitude
	tests := []struct {
		name  string
		place Place
		at    Point
		want  bool
	}{
		{"circle: the centre", circle, Point{23.3752, 103.3905}, true},
		{"circle: 90 m north", circle, Point{23.3752 + 90/degLat, 103.3905}, true},
		{"circle: 110 m north", circle, Point{23.3752 + 110/degLat, 103.3905}, false},
		{"circle: 1 km east", circle, Point{23.3752, 103.4003}, false},
		{"polygon: inside", square, Point{23.3745, 103.3897}, true},
		{"polygon: in the hole", square, Point{23.3752, 103.3905}, false},
		{"polygon: just outside", square, Point{23.3762, 103.3905}, false},
		{"polygon: far away", square, Point{24.0, 104.0}, false},
		{"polygon: lat and lng swapped", square, Point{103.3897, 23.3745}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.place.Contains(tt.at)
			if err != nil || got != tt.want {
				t.Errorf("Contains = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if in, err := (Place{Geometry: json.RawMessage(`{"type":"Point","coordinates":[103.39,23.37]}`)}).Contains(Point{23.37, 103.39}); in || err == nil {
		t.Errorf("a stored geometry that is not a polygon: %v, %v", in, err)
	}
}

func TestPointCheck(t *testing.T) {
	for _, pt := range []Point{{91, 0}, {0, 181}, {-91, 0}, {0, -180.5}} {
		if pt.Check() == nil {
			t.Errorf("%v accepted", pt)
		}
	}
	if err := (Point{23.37, 103.39}).Check(); err != nil {
		t.Error(err)
	}
}
