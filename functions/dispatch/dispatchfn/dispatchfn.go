// Package dispatchfn builds the dispatch function: it consumes the table's stream (new reports only, by
// FilterCriteria) and routes each report to departments.
package dispatchfn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// Function is the built dispatch function.
type Function struct {
	svc *dispatch.Service
	log *slog.Logger
}

// New builds the function from a Base (TABLE_NAME, CITY_TZ, OUTBOX_QUEUE_URL, DUPLICATE_RADIUS_M,
// DUPLICATE_WINDOW_HOURS).
func New(b *platform.Base) (*Function, error) {
	outbox, err := b.Outbox(b.SQS())
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
	svc := dispatch.NewService(b.Store, b.Dir, outbox, dispatch.Settings{
		DuplicateRadius: float64(radius), DuplicateWindow: time.Duration(window) * time.Hour,
	}, b.Now)
	return &Function{svc: svc, log: b.Log}, nil
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
		r, err := dynamostore.ReportFromImage(streamfn.Image(rec.Change.NewImage))
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
