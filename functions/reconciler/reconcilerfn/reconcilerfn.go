// Package reconcilerfn builds the reconciler: a daily scheduled function that recomputes touched users'
// balances from their ledgers and repairs mismatches.
package reconcilerfn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Function is the built reconciler.
type Function struct {
	svc *points.Service
	b   *platform.Base
}

// New builds the function (TABLE_NAME, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	return &Function{svc: b.Points(), b: b}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "reconciler")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle reconciles the users with ledger entries timed on the last three local days: a run shortly after
// midnight covers the whole previous day, and an entry is written at most a day after its own time (an
// award carries its resolution's time; accrual drops stream records older than a day), so one written
// yesterday for the day before is covered too. It logs the counts as an embedded metric.
func (f *Function) Handle(ctx context.Context, _ json.RawMessage) error {
	now := f.b.Now().In(f.b.TZ)
	total, err := f.svc.Reconcile(ctx, now.AddDate(0, 0, -2).Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly))
	if err != nil {
		return err
	}
	f.b.Log.InfoContext(ctx, "reconciled", "checked", total.Checked, "repaired", total.Repaired)
	return nil
}
