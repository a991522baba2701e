package kpi

import "testing"

// TestLedgerKinds pins which ledger kinds count as points issued and reversed: a volunteer award is
// issued like a report's, a volunteer reversal reversed like a report's (issue 15); a builders' award
// (issue 16) is issued too.
func TestLedgerKinds(t *testing.T) {
	tests := []struct {
		kind             string
		delta            int64
		issued, reversed int64
	}{
		{"award", 10, 10, 0},
		{"duplicate_award", 2, 2, 0},
		{"volunteer_award", 15, 15, 0},
		{"builders_award", 20, 20, 0},
		{"reversal", -10, 0, 10},
		{"volunteer_reversal", -15, 0, 15},
		{"reconcile", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			s := Compute("2026-11-01", Inputs{Ledger: []LedgerLine{{Kind: tt.kind, Delta: tt.delta}}}, sh, at(2, 0, 15))
			if s.PointsIssued != tt.issued || s.PointsReversed != tt.reversed {
				t.Errorf("issued %d reversed %d, want %d and %d", s.PointsIssued, s.PointsReversed, tt.issued, tt.reversed)
			}
		})
	}
}
