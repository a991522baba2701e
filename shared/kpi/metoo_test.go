package kpi

import (
	"encoding/json"
	"testing"
)

// Citizens affected = reports received + me toos added, over days and over the months merged from them.
func TestCitizensAffected(t *testing.T) {
	day1 := Compute("2026-11-01", Inputs{Created: []Created{
		{ID: "a", Category: "rubbish", Status: "dispatched", ReporterSub: "u1"},
		{ID: "b", Category: "rubbish", Status: "dispatched", ReporterSub: "u2"},
	}, MeToos: 3}, sh, at(2, 0, 15))
	day2 := Compute("2026-11-02", Inputs{Created: []Created{{ID: "c", Category: "noise", Status: "dispatched", ReporterSub: "u1"}}, MeToos: 1}, sh, at(3, 0, 15))
	day3 := Compute("2026-11-03", Inputs{}, sh, at(4, 0, 15))
	tests := []struct {
		name         string
		from, to     string
		snaps        []Snapshot
		meToos, want int
	}{
		{"one day", "2026-11-01", "2026-11-01", []Snapshot{day1}, 3, 5},
		{"two days", "2026-11-01", "2026-11-02", []Snapshot{day1, day2}, 4, 7},
		{"a day without any", "2026-11-03", "2026-11-03", []Snapshot{day3}, 0, 0},
		{"the month, merged", "2026-11-01", "2026-11-30", []Snapshot{Merge("2026-11", []Snapshot{day1, day2, day3})}, 4, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize(tt.from, tt.to, tt.snaps)
			if s.MeToos != tt.meToos || s.CitizensAffected != tt.want {
				t.Errorf("meToos %d, citizens affected %d; want %d, %d", s.MeToos, s.CitizensAffected, tt.meToos, tt.want)
			}
		})
	}
	// The count survives the snapshot's encoding.
	b, _ := json.Marshal(day1)
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil || back.MeToos != 3 {
		t.Errorf("decoded meToos %d, %v", back.MeToos, err)
	}
}
