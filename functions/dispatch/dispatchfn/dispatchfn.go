// Package dispatchfn builds the dispatch function: it consumes the table's stream (by FilterCriteria: new reports,
// which it routes to departments; credit conversions; and the status changes and goods redemptions
// citizens are notified of) and routes each report to departments.
package dispatchfn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// Function is the built dispatch function.
type Function struct {
	svc    *dispatch.Service
	outbox dispatch.Outbox
	inbox  *notify.Inbox
	log    *slog.Logger
	now    func() time.Time
}

// New builds the function from a Base (TABLE_NAME, CITY_TZ, OUTBOX_QUEUE_URL, DUPLICATE_RADIUS_M,
// DUPLICATE_WINDOW_HOURS).
func New(b *platform.Base) (*Function, error) {
	outbox, err := queues.Outbox(b, queues.Client(b))
	if err != nil {
		return nil, err
	}
	radius, err := b.Env.Int64("DUPLICATE_RADIUS_M", 50)
	if err != nil {
		return nil, err
	}
	window, err := b.Env.Int64("DUPLICATE_WINDOW_HOURS", 72)
	if err != nil {
		return nil, err
	}
	inbox := notify.NewInbox(b.Store, notify.PushOutbox{Outbox: outbox}, nil, b.TZ, b.Now)
	svc := dispatch.NewService(b.Store, b.Dir, outbox, dispatch.Settings{
		DuplicateRadius: float64(radius), DuplicateWindow: time.Duration(window) * time.Hour,
		// The reporter hears of the dispatch from the invocation that made it (no second invocation for
		// the report's change to dispatched: the stream's filter leaves that one out).
		Dispatched: func(ctx context.Context, r report.Report) error {
			n, ok := notify.ReportChanged(r, report.Submitted)
			if !ok {
				return nil
			}
			if err := inbox.Post(ctx, n); err != nil {
				return err
			}
			b.Log.InfoContext(ctx, "notice posted", "reportId", r.ID, "kind", n.Kind, "notificationId", n.ID)
			return nil
		},
	}, b.Now)
	return &Function{svc: svc, outbox: outbox, inbox: inbox, log: b.Log, now: b.Now}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "dispatch")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle processes a stream batch; a failing record is reported by its SequenceNumber.
func (f *Function) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return streamfn.Process(ctx, f.log, ev, func(ctx context.Context, rec events.DynamoDBEventRecord) error {
		if rec.EventName == string(events.DynamoDBOperationTypeModify) {
			return f.reportChanged(ctx, rec) // a status change the reporter hears of (notices.go)
		}
		img := streamfn.Image(rec.Change.NewImage)
		if t, ok := rec.Change.NewImage["type"]; ok && t.DataType() == events.DataTypeString && t.String() == "redemption" {
			red, err := dynamostore.RedemptionFromImage(img)
			if err != nil {
				return fmt.Errorf("record %s: %w", rec.EventID, err)
			}
			if red.Kind != market.Credit {
				return f.redemptionMade(ctx, red) // goods reserved for pickup (notices.go)
			}
			// A credit conversion: tell the city credit platform (signed webhook through the outbox).
			return f.outbox.Enqueue(ctx, []dispatch.Notification{market.CreditNotice(red, f.now())})
		}
		r, err := dynamostore.ReportFromImage(img)
		if err != nil {
			return fmt.Errorf("record %s: %w", rec.EventID, err)
		}
		outcome, err := f.svc.Dispatch(ctx, r)
		if err != nil {
			return err
		}
		f.log.InfoContext(ctx, "dispatched", "reportId", r.ID, "outcome", outcome)
		return nil
	}), nil
}
