package webhook

import (
	"math"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const (
		base = time.Second
		max  = 10 * time.Minute
	)
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	tests := []struct {
		name    string
		attempt int
		base    time.Duration
		max     time.Duration
		rnd     float64
		want    time.Duration
	}{
		{"first retry, top of range", 0, base, max, 0.999999, 999999 * time.Microsecond},
		{"first retry, half", 0, base, max, 0.5, 500 * time.Millisecond},
		{"second retry, half", 1, base, max, 0.5, time.Second},
		{"fourth retry, half", 3, base, max, 0.5, 4 * time.Second},
		{"ninth retry, half", 9, base, max, 0.5, 256 * time.Second},
		{"capped at max", 10, base, max, 0.5, 5 * time.Minute},
		{"full jitter can be zero", 5, base, max, 0, 0},
		{"huge attempt stays capped", 1 << 30, base, max, 0.5, 5 * time.Minute},
		{"max int attempt", math.MaxInt, base, max, 0.25, 150 * time.Second},
		{"negative attempt is the first", -3, base, max, 0.5, 500 * time.Millisecond},
		{"base above max", 0, time.Hour, max, 0.5, 5 * time.Minute},
		{"rnd of 1 clamps to ceiling", 2, base, max, 1, 4 * time.Second},
		{"rnd above 1 clamps", 2, base, max, 7, 4 * time.Second},
		{"negative rnd is zero", 2, base, max, -0.5, 0},
		{"NaN rnd is zero", 2, base, max, math.NaN(), 0},
		{"zero base", 3, 0, max, 0.5, 0},
		{"zero max", 3, base, 0, 0.5, 0},
		{"largest durations do not overflow", 200, time.Duration(math.MaxInt64 / 3), time.Duration(math.MaxInt64), 0.9999999999999999, time.Duration(math.MaxInt64) - 1023},
		{"largest durations at rnd 1", 200, time.Duration(math.MaxInt64 / 3), time.Duration(math.MaxInt64), 1, time.Duration(math.MaxInt64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Backoff(tt.attempt, tt.base, tt.max, fixed(tt.rnd))
			if got != tt.want {
				t.Fatalf("Backoff(%d, %v, %v, %v) = %v, want %v", tt.attempt, tt.base, tt.max, tt.rnd, got, tt.want)
			}
		})
	}
}

func TestBackoffDefaultRandomStaysInRange(t *testing.T) {
	for attempt := range 100 {
		ceiling := min(time.Second<<min(attempt, 20), time.Minute)
		if got := Backoff(attempt, time.Second, time.Minute, nil); got < 0 || got > ceiling {
			t.Fatalf("Backoff(%d) = %v, outside [0, %v]", attempt, got, ceiling)
		}
	}
}
