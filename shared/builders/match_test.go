package builders

import (
	"math"
	"slices"
	"testing"
)

func TestScore(t *testing.T) {
	job := Job{Trade: "bricklayer", Wage: Wage{Min: 200, Max: 300, Unit: UnitDay}, StartDate: "2026-12-10", EndDate: "2027-01-31"}
	entry := func(radius int, want float64, from string, years int) MatchEntry {
		return MatchEntry{Trade: "bricklayer", Area: Area{RadiusKm: radius}, DailyWant: want, AvailableFrom: from, Years: years}
	}
	tests := []struct {
		name string
		job  Job
		e    MatchEntry
		km   float64
		want float64
	}{
		// 40·(1−0) + 30·min(1, 300/200−0.5) + 20 + 10·10/10
		{"at the place, 1.5× the want, on time, 10 years", job, entry(10, 200, "2026-12-01", 10), 0, 100},
		// 40·(1−5/10)=20; 30·min(1, 300/300−0.5)=15; 20; 10·3/10=3
		{"half the radius, exactly the want, 3 years", job, entry(10, 300, "2026-12-10", 3), 5, 58},
		// 40·(1−10/10)=0; 30·min(1, 300/250−0.5)=21; 20·(1−15/30)=10; 10·min(20,10)/10=10
		{"at the radius, 1.2× the want, 15 days late, 20 years", job, entry(10, 250, "2026-12-25", 20), 10, 41},
		// 40·(1−1/3)=26.67; 15; 20·max(0, 1−45/30)=0; 0
		{"45 days late scores no availability", job, entry(3, 300, "2027-01-24", 0), 1, 41.7},
		// a monthly wage: 6525/21.75 = 300 a day
		{"a monthly wage compared daily", Job{Wage: Wage{Min: 4350, Max: 6525, Unit: UnitMonth}, StartDate: "2026-12-10"}, entry(10, 300, "2026-12-10", 0), 0, 75},
		// a piece-rate job pays its daily estimate: 450/300 − 0.5 = 1 → 30
		{"a piece rate by its daily estimate", Job{Wage: Wage{Min: 2, Max: 3, Unit: UnitPiece, DailyEstimate: 450}, StartDate: "2026-12-10"}, entry(10, 300, "2026-12-10", 0), 0, 90},
		{"a worker who wants nothing scores the full wage part", job, entry(10, 0, "2026-12-10", 0), 0, 90},
		// 40·(1−1/7)=34.2857 + 15 + 20 + 1 = 70.2857 → 70.3
		{"rounded to 0.1", job, entry(7, 300, "2026-12-01", 1), 1, 70.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Score(tt.job, tt.e, tt.km); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Score = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchesHardFilters(t *testing.T) {
	job := Job{Trade: "bricklayer", Wage: Wage{Min: 200, Max: 300, Unit: UnitDay}, StartDate: "2026-12-10", EndDate: "2026-12-31"}
	base := MatchEntry{Trade: "bricklayer", Area: Area{RadiusKm: 10}, DailyWant: 300, AvailableFrom: "2026-12-31"}
	tests := []struct {
		name string
		mod  func(*MatchEntry)
		km   float64
		want bool
	}{
		{"within the radius, available on the last day, the job's most is the want", func(*MatchEntry) {}, 10, true},
		{"beyond the worker's radius", func(*MatchEntry) {}, 10.01, false},
		{"available only after the end date", func(e *MatchEntry) { e.AvailableFrom = "2027-01-01" }, 1, false},
		{"wants more than the job's most", func(e *MatchEntry) { e.DailyWant = 301 }, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			tt.mod(&e)
			if got := Matches(job, e, tt.km); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRankOrdersAndBounds(t *testing.T) {
	job := Job{Trade: "bricklayer", Place: JobPlace{Lat: 23.3962, Lng: 103.3756}, Wage: Wage{Min: 200, Max: 300, Unit: UnitDay}, StartDate: "2026-12-10", EndDate: "2026-12-31"}
	at := Area{Lat: 23.3962, Lng: 103.3756, RadiusKm: 10}
	entries := []MatchEntry{
		{Sub: "late", Trade: "bricklayer", Area: at, DailyWant: 200, AvailableFrom: "2026-12-25", Years: 10},   // 40+30+10+10 = 90
		{Sub: "b", Trade: "bricklayer", Area: at, DailyWant: 200, AvailableFrom: "2026-12-01", Years: 0},       // 90, earlier availableFrom
		{Sub: "a", Trade: "bricklayer", Area: at, DailyWant: 200, AvailableFrom: "2026-12-01", Years: 0},       // 90, same: by sub
		{Sub: "best", Trade: "bricklayer", Area: at, DailyWant: 200, AvailableFrom: "2026-12-01", Years: 10},   // 100
		{Sub: "greedy", Trade: "bricklayer", Area: at, DailyWant: 400, AvailableFrom: "2026-12-01", Years: 10}, // filtered
		{Sub: "other", Trade: "cleaner", Area: at, DailyWant: 100, AvailableFrom: "2026-12-01", Years: 10},     // another trade
	}
	got := Rank(job, entries)
	var subs []string
	for _, v := range got {
		subs = append(subs, v.Sub)
		if v.Phone != "" {
			t.Errorf("%s: a match carries a phone", v.Sub)
		}
	}
	if want := []string{"best", "a", "b", "late"}; !slices.Equal(subs, want) {
		t.Fatalf("order %v, want %v", subs, want)
	}
	var many []MatchEntry
	for i := range 3 * MaxMatches {
		many = append(many, MatchEntry{Sub: string(rune('A' + i)), Trade: "bricklayer", Area: at, DailyWant: 200, AvailableFrom: "2026-12-01"})
	}
	if n := len(Rank(job, many)); n != MaxMatches {
		t.Errorf("%d matches, want at most %d", n, MaxMatches)
	}
}
