package points_test

import (
	"context"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/points"
)

// rulesStore serves the rules an admin saved last and counts the reads.
type rulesStore struct {
	points.Store
	rules points.Rules
	reads int
}

func (r *rulesStore) PointRules(context.Context) (points.Rules, bool, error) {
	r.reads++
	return r.rules, true, nil
}

// TestRulesCacheAfterTheClockWentBack: the cause of e2e TestHonorSupermarket's flakes. The answers test
// moves the stack's clock a week ahead; accrual, handling a resolution meanwhile, cached the rules "at"
// that week; back on wall time the age was negative, always below the TTL, so the admin's new rules (150
// points for the category) were not read for a week and the award was the category's default (8).
func TestRulesCacheAfterTheClockWentBack(t *testing.T) {
	wall := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		then      time.Duration // the clock when the rules were cached, from wall
		wantReads int           // reads after the second Rules call at wall
		wantPts   int64
	}{
		{"moved a week ahead, then back", 7 * 24 * time.Hour, 2, 150},
		{"a second back", time.Second, 2, 150},
		{"within the TTL", -time.Second, 1, 0},
		{"past the TTL", -3 * time.Second, 2, 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := wall.Add(tc.then)
			st := &rulesStore{rules: points.DefaultRules()}
			svc := points.NewService(st, nil, time.UTC, func() time.Time { return now }).WithRulesTTL(2 * time.Second)
			if _, err := svc.Rules(context.Background()); err != nil {
				t.Fatal(err)
			}
			st.rules.CategoryPoints = map[string]int64{"illegal_building": 150} // saved by another container
			now = wall
			r, err := svc.Rules(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.reads != tc.wantReads || r.CategoryPoints["illegal_building"] != tc.wantPts {
				t.Errorf("reads = %d, illegal_building = %d; want %d, %d", st.reads, r.CategoryPoints["illegal_building"], tc.wantReads, tc.wantPts)
			}
		})
	}
}
