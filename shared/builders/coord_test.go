package builders

import (
	"testing"
	"time"
)

// TestCoordinatesDynamoDBCannotStoreAreRefused: the fuzzer's 500 (a 4.9e-324 longitude passed the range
// checks and DynamoDB refused the write) is a 400 at every place a coordinate comes in.
func TestCoordinatesDynamoDBCannotStoreAreRefused(t *testing.T) {
	for _, tc := range []struct {
		lat, lng float64
		ok       bool
	}{
		{23.37, 103.38, true},
		{0, 103.38, true},
		{23.37, 4.9e-324, false},
		{-1e-131, 103.38, false},
		{23.37, 1e-7, true},
		{23.37, -9.99e-8, false},
	} {
		if got := validPoint(tc.lat, tc.lng); got != tc.ok {
			t.Errorf("job place (%g, %g) valid = %v, want %v", tc.lat, tc.lng, got, tc.ok)
		}
		if got := validLatLng(tc.lat, tc.lng); got != tc.ok {
			t.Errorf("fair place (%g, %g) valid = %v, want %v", tc.lat, tc.lng, got, tc.ok)
		}
		w := WorkerInput{Name: "张三", Phone: "13800138000", Trades: []string{"bricklayer"}, Years: 5,
			Area: Area{Lat: tc.lat, Lng: tc.lng, RadiusKm: 10}, Expected: Wage{Min: 200, Unit: UnitDay}, AvailableFrom: "2026-12-01"}
		if _, err := w.Check(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); (err == nil) != tc.ok {
			t.Errorf("worker area (%g, %g) error = %v, want ok %v", tc.lat, tc.lng, err, tc.ok)
		}
	}
}
