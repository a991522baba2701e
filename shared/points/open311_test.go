package points_test

import (
	"context"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

func TestApplicationOwnersEarnNothing(t *testing.T) {
	if points.ApplicationOwnerPrefix != report.ApplicationOwnerPrefix {
		t.Fatalf("points pays by prefix %q, report names application owners %q", points.ApplicationOwnerPrefix, report.ApplicationOwnerPrefix)
	}
	cases := []struct {
		sub  string
		want bool
	}{
		{report.ApplicationOwner("0123456789abcdef"), false},
		{"open311-", false},
		{"u1", true},
		{"6f1c0e4a-1b2c-4d5e-8f90-0123456789ab", true},
		{"open311", true},
		{"x-open311-y", true},
	}
	for _, tc := range cases {
		if got := points.EarnsPoints(tc.sub); got != tc.want {
			t.Errorf("EarnsPoints(%q) = %v, want %v", tc.sub, got, tc.want)
		}
	}
}

// awardsStore is flakyStore with no duplicates' reporters and no placeholders: what OnResolved reads for a
// report whose award was not applied.
type awardsStore struct {
	*flakyStore
	awardReads int
}

func (a *awardsStore) Awards(context.Context, []points.Award) ([]points.Award, error) {
	a.awardReads++
	return nil, nil
}

func TestOpen311ReportsEarnNothingWhenResolved(t *testing.T) {
	f, _ := newFlaky()
	store := &awardsStore{flakyStore: f}
	tz, _ := time.LoadLocation("Asia/Shanghai")
	svc := points.NewService(store, func(context.Context, string) (int64, error) { return 5, nil }, tz, time.Now)
	for _, tc := range []struct {
		sub     string
		applies int
		granted int64
	}{
		{report.ApplicationOwner("0123456789abcdef"), 0, 0}, // the client application's own report
		{"u-42", 1, 5}, // a trusted client's report for a signed-in user
	} {
		f.applies, f.granted = 0, 0
		err := svc.OnResolved(context.Background(), points.Resolved{ID: "r-" + tc.sub, ReporterSub: tc.sub, Category: "rubbish", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if f.applies != tc.applies || f.granted != tc.granted {
			t.Errorf("%s: %d awards written, %d points, want %d and %d", tc.sub, f.applies, f.granted, tc.applies, tc.granted)
		}
	}
}
