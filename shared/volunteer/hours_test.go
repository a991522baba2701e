package volunteer

import (
	"testing"
	"time"
)

func TestCreditedMinutes(t *testing.T) {
	start := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC) // 09:00 in Mengzi
	end := start.Add(3 * time.Hour)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	tests := []struct {
		name    string
		in, out time.Time
		want    int64
	}{
		{"the whole window", at(0), end, 180},
		{"early check-in counts from the start", at(-30 * time.Minute), end, 180},
		{"late check-out counts to the end", at(0), end.Add(30 * time.Minute), 180},
		{"rounded down to 15", at(0), at(74*time.Minute + 59*time.Second), 60},
		{"exactly 75", at(0), at(75 * time.Minute), 75},
		{"one second short of 15", at(10 * time.Minute), at(24*time.Minute + 59*time.Second), 0},
		{"inside the window", at(time.Hour + 7*time.Minute), at(2*time.Hour + 40*time.Minute), 90},
		{"all before the start", at(-30 * time.Minute), at(-time.Minute), 0},
		{"all after the end", end.Add(time.Minute), end.Add(20 * time.Minute), 0},
		{"out before in", at(time.Hour), at(30 * time.Minute), 0},
		{"in equals out", at(time.Hour), at(time.Hour), 0},
		{"milliseconds do not round up", at(0), at(15*time.Minute - time.Millisecond), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CreditedMinutes(tt.in, tt.out, start, end); got != tt.want {
				t.Errorf("CreditedMinutes = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWindows(t *testing.T) {
	start := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	a := Activity{Start: start, End: start.Add(2 * time.Hour)}
	in := start.Add(10 * time.Minute)
	tests := []struct {
		name      string
		at        time.Time
		checkIn   bool
		checkOutC bool // check-out after checking in at in
	}{
		{"31 min before the start", start.Add(-31 * time.Minute), false, false},
		{"30 min before the start", start.Add(-30 * time.Minute), true, false},
		{"at the check-in", in, true, true},
		{"at the end", a.End, true, true},
		{"a second after the end", a.End.Add(time.Second), false, true},
		{"30 min after the end", a.End.Add(30 * time.Minute), false, true},
		{"31 min after the end", a.End.Add(31 * time.Minute), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkInOpen(a, tt.at); got != tt.checkIn {
				t.Errorf("checkInOpen = %v, want %v", got, tt.checkIn)
			}
			if got := checkOutOpen(a, in, tt.at); got != tt.checkOutC {
				t.Errorf("checkOutOpen = %v, want %v", got, tt.checkOutC)
			}
		})
	}
}
