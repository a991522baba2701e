package builders

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

func TestCheckWage(t *testing.T) {
	min := MinimumWage{Month: 1990, Day: 92}
	tests := []struct {
		name string
		w    Wage
		want error
	}{
		{"a day at the minimum", Wage{Min: 92, Max: 120, Unit: UnitDay}, nil},
		{"a day below the minimum", Wage{Min: 91, Max: 120, Unit: UnitDay}, ErrWageBelowMinimum},
		{"a month at the minimum", Wage{Min: 1990, Max: 3000, Unit: UnitMonth}, nil},
		{"a month below the monthly minimum (above the daily one)", Wage{Min: 1989, Max: 3000, Unit: UnitMonth}, ErrWageBelowMinimum},
		{"a piece rate by its daily estimate", Wage{Min: 1, Max: 2, Unit: UnitPiece, DailyEstimate: 92}, nil},
		{"a piece rate whose daily estimate is below the minimum", Wage{Min: 500, Max: 600, Unit: UnitPiece, DailyEstimate: 91}, ErrWageBelowMinimum},
		{"a piece rate without its daily estimate", Wage{Min: 1, Max: 2, Unit: UnitPiece}, ErrInvalid},
		{"a daily estimate on a day wage", Wage{Min: 100, Max: 120, Unit: UnitDay, DailyEstimate: 100}, ErrInvalid},
		{"max below min", Wage{Min: 200, Max: 100, Unit: UnitDay}, ErrInvalid},
		{"an unknown unit", Wage{Min: 200, Max: 300, Unit: "hour"}, ErrInvalid},
		{"absurdly high", Wage{Min: 200, Max: 2_000_000, Unit: UnitDay}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWage(tt.w, min)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("CheckWage = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDaily(t *testing.T) {
	lo, hi := Daily(Wage{Min: 4350, Max: 6525, Unit: UnitMonth})
	if math.Abs(lo-200) > 1e-9 || math.Abs(hi-300) > 1e-9 {
		t.Errorf("a month's daily = %v..%v, want 200..300", lo, hi)
	}
	if lo, hi := Daily(Wage{Min: 3, Max: 5, Unit: UnitPiece, DailyEstimate: 180}); lo != 180 || hi != 180 {
		t.Errorf("a piece rate's daily = %v..%v, want its estimate 180", lo, hi)
	}
}

func TestJobInputCheck(t *testing.T) {
	tz := time.FixedZone("CST", 8*3600)
	today := "2026-12-01"
	good := JobInput{Title: "砌墙", Trade: "bricklayer", Place: JobPlace{Lat: 23.4, Lng: 103.4}, Wage: Wage{Min: 200, Max: 300, Unit: UnitDay},
		Headcount: 3, StartDate: "2026-12-05", EndDate: "2026-12-31"}
	tests := []struct {
		name string
		mod  func(*JobInput)
		want error
	}{
		{"valid", func(*JobInput) {}, nil},
		{"ends today", func(in *JobInput) { in.StartDate, in.EndDate = "2026-11-20", today }, nil},
		{"no title", func(in *JobInput) { in.Title = "  " }, ErrInvalid},
		{"an unknown trade", func(in *JobInput) { in.Trade = "astronaut" }, ErrUnknownTrade},
		{"no place", func(in *JobInput) { in.Place = JobPlace{} }, ErrInvalid},
		{"a latitude off the map", func(in *JobInput) { in.Place.Lat = 91 }, ErrInvalid},
		{"no headcount", func(in *JobInput) { in.Headcount = 0 }, ErrInvalid},
		{"headcount above the bound", func(in *JobInput) { in.Headcount = MaxHeadcount + 1 }, ErrInvalid},
		{"headcount at the bound", func(in *JobInput) { in.Headcount = MaxHeadcount }, nil},
		{"end before start", func(in *JobInput) { in.StartDate, in.EndDate = "2026-12-10", "2026-12-09" }, ErrInvalid},
		{"ended yesterday", func(in *JobInput) { in.StartDate, in.EndDate = "2026-11-01", "2026-11-30" }, ErrInvalid},
		{"not a day", func(in *JobInput) { in.StartDate = "2026-12-5" }, ErrInvalid},
		{"an impossible day", func(in *JobInput) { in.EndDate = "2026-02-30" }, ErrInvalid},
		{"spans MaxJobDays", func(in *JobInput) { in.StartDate, in.EndDate = "2026-12-01", "2027-12-01" }, nil},
		{"spans a day more", func(in *JobInput) { in.StartDate, in.EndDate = "2026-12-01", "2027-12-02" }, ErrInvalid},
		{"starts too far ahead", func(in *JobInput) { in.StartDate, in.EndDate = "2028-01-01", "2028-01-02" }, ErrInvalid},
		{"requirements too long", func(in *JobInput) { in.Requirements = string(make([]rune, MaxText+1)) }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.mod(&in)
			_, err := in.Check(today, tz)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSearchOrderAndCursor(t *testing.T) {
	c := []listed{
		{key: JobKey{ID: "old-near"}, day: "2026-11-30", km: 0.5},
		{key: JobKey{ID: "new-far"}, day: "2026-12-01", km: 9},
		{key: JobKey{ID: "new-near"}, day: "2026-12-01", km: 1},
		{key: JobKey{ID: "new-near-b"}, day: "2026-12-01", km: 1},
	}
	sortListed(c)
	var ids []string
	for _, l := range c {
		ids = append(ids, l.key.ID)
	}
	if want := []string{"new-near", "new-near-b", "new-far", "old-near"}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
	cur := searchCursor{Day: "2026-12-01", Km: 1, ID: "new-near"}
	got, err := decodeSearchCursor(cur.encode())
	if err != nil || got != cur {
		t.Errorf("cursor round trip: %v %v", got, err)
	}
	for _, bad := range []string{"x", "e30", "!!"} {
		if _, err := decodeSearchCursor(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("cursor %q: %v, want invalid", bad, err)
		}
	}
}

func TestParseSearchQuery(t *testing.T) {
	tests := []struct {
		near, radius, trade, minWage string
		ok                           bool
	}{
		{"23.39,103.37", "", "", "", true},
		{"", "", "", "", true}, // the worker's area is used
		{"23.39,103.37", "50", "electrician", "150.5", true},
		{"23.39,103.37", "51", "", "", false},
		{"23.39,103.37", "0", "", "", false},
		{"23.39", "", "", "", false},
		{"91,103", "", "", "", false},
		{"23.39,103.37", "", "astronaut", "", false},
		{"23.39,103.37", "", "", "-1", false},
		{"23.39,103.37", "", "", "NaN", false},
	}
	for _, tt := range tests {
		_, err := ParseSearchQuery(tt.near, tt.radius, tt.trade, tt.minWage, "")
		if (err == nil) != tt.ok {
			t.Errorf("%+v: %v", tt, err)
		}
	}
}

func TestCoverHoldsTheCircle(t *testing.T) {
	pt := Point{Lat: 23.3962, Lng: 103.3756}
	for _, r := range []float64{1, 10, 50} {
		cells := Cover(pt, r)
		if len(cells) == 0 || len(cells) > maxCoverCells {
			t.Fatalf("radius %v: %d cells", r, len(cells))
		}
		// points at the radius in 8 directions lie in a covered cell
		for _, d := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {0.7, 0.7}, {-0.7, 0.7}, {0.7, -0.7}, {-0.7, -0.7}} {
			dlat := d[0] * r * 0.999 / 111.32
			dlng := d[1] * r * 0.999 / (111.32 * math.Cos(pt.Lat*math.Pi/180))
			p := Point{Lat: pt.Lat + dlat, Lng: pt.Lng + dlng}
			if !slices.Contains(cells, cellOf(p)) {
				t.Errorf("radius %v: %v (%.2f km) not covered by %v", r, p, DistanceKm(pt, p), cells)
			}
		}
	}
}
