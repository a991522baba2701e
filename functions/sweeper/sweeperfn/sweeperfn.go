// Package sweeperfn builds the sweeper: a scheduled function that escalates assignments past their SLA
// deadline (督办), expires goods not picked up in time (refund and restock) and confirms the resolutions whose
// reporters did not answer within the window (report.AutoConfirmDue); and tells redeemers whose goods are
// about to expire unclaimed (market.WarnExpiring: one inbox notice, and a push, per redemption).
package sweeperfn

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Function is the built sweeper.
type Function struct {
	svc    *dispatch.Service
	market *market.Service
	b      *platform.Base
	window time.Duration // how long a reporter may answer a resolution
	inbox  *notify.Inbox
	lead   time.Duration // how long before goods expire unclaimed their redeemer is told
}

// New builds the function (TABLE_NAME, OUTBOX_QUEUE_URL, CITY_TZ, ANSWER_WINDOW_HOURS as intake's,
// PICKUP_EXPIRY_NOTICE_HOURS: how long before goods expire unclaimed their redeemer is told, default 24).
func New(b *platform.Base) (*Function, error) {
	outbox, err := queues.Outbox(b, queues.Client(b))
	if err != nil {
		return nil, err
	}
	hours, err := b.Env.Int64("ANSWER_WINDOW_HOURS", int64(report.DefaultAnswerWindow/time.Hour))
	if err != nil {
		return nil, err
	}
	lead, err := b.Env.Int64("PICKUP_EXPIRY_NOTICE_HOURS", int64(notify.DefaultExpiryNoticeLead/time.Hour))
	if err != nil {
		return nil, err
	}
	if lead < 1 || lead >= 30*24 {
		return nil, fmt.Errorf("PICKUP_EXPIRY_NOTICE_HOURS=%d: want 1 to 719 (less than the 30-day pickup window)", lead)
	}
	return &Function{svc: dispatch.NewService(b.Store, b.Dir, outbox, dispatch.Settings{}, b.Now), market: b.Market(), b: b,
		window: time.Duration(hours) * time.Hour, inbox: notify.NewInbox(b.Store, notify.PushOutbox{Outbox: outbox}, nil, b.TZ, b.Now),
		lead: time.Duration(lead) * time.Hour}, nil
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
	confirmed, err := report.AutoConfirmDue(ctx, f.b.Store, f.window, f.b.Now())
	if err != nil {
		return err
	}
	warned, err := f.market.WarnExpiring(ctx, f.b.Store, f.lead, f.warnExpiring)
	if err != nil {
		return err
	}
	f.b.Log.InfoContext(ctx, "sweep done", "escalated", n, "expired", expired, "autoConfirmed", confirmed, "expiryNotices", warned)
	return nil
}

// warnExpiring posts a redemption's "about to expire" notice (once: the inbox's put is conditional on its
// id, which the redemption and its end make).
func (f *Function) warnExpiring(ctx context.Context, r market.Redemption) error {
	n, ok := notify.RedemptionExpiring(r, f.lead)
	if !ok {
		return nil
	}
	return f.inbox.Post(ctx, n)
}
