// Package sweeperfn builds the sweeper: a scheduled function that escalates assignments past their SLA
// deadline (督办) and expires goods not picked up in time (refund and restock).
package sweeperfn

import (
	"context"
	"encoding/json"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/market"
)

// Function is the built sweeper.
type Function struct {
	svc    *dispatch.Service
	market *market.Service
	b      *platform.Base
}

// New builds the function (TABLE_NAME, OUTBOX_QUEUE_URL, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	outbox, err := queues.Outbox(b, queues.Client(b))
	if err != nil {
		return nil, err
	}
	return &Function{svc: dispatch.NewService(b.Store, b.Dir, outbox, dispatch.Settings{}, b.Now), market: b.Market(), b: b}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "sweeper")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle runs one sweep. An error makes the scheduler retry.
func (f *Function) Handle(ctx context.Context, _ json.RawMessage) error {
	n, err := f.svc.Escalate(ctx)
	if err != nil {
		return err
	}
	expired, err := f.market.ExpireReservations(ctx)
	if err != nil {
		return err
	}
	f.b.Log.InfoContext(ctx, "sweep done", "escalated", n, "expired", expired)
	return nil
}
