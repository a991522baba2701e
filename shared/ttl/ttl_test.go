package ttl

import (
	"testing"
	"time"
)

func TestFresh(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"just loaded", at, true},
		{"younger than the ttl", at.Add(59 * time.Second), true},
		{"as old as the ttl", at.Add(time.Minute), false},
		{"older", at.Add(time.Hour), false},
		{"the clock went back", at.Add(-time.Second), false},
		{"the clock went back a week", at.Add(-7 * 24 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fresh(at, tt.now, time.Minute); got != tt.want {
				t.Errorf("Fresh(at, %v, 1m) = %v, want %v", tt.now.Sub(at), got, tt.want)
			}
		})
	}
}
