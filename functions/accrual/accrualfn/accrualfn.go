// Package accrualfn builds the accrual function, the table stream's second consumer: points, merit and
// honors when a report is resolved (and the reporter's notice of it), their reversal when it is revoked;
// volunteer service records' points, stars and export (volunteer.go).
package accrualfn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// Function is the built accrual function.
type Function struct {
	svc   *points.Service
	store noticeStore
	inbox *notify.Inbox
	// outbox queues the deletion of removed devices' push endpoints (devices.go).
	outbox notify.PushOutbox
	// volunteers reads a volunteer's name for the service records' export (volunteer.go).
	volunteers volunteerNames
	log        *slog.Logger
	now        func() time.Time
}

// New builds the function (TABLE_NAME, CITY_TZ, OUTBOX_QUEUE_URL: pushes of the resolution notices).
func New(b *platform.Base) (*Function, error) {
	outbox, err := queues.Outbox(b, queues.Client(b))
	if err != nil {
		return nil, err
	}
	inbox := notify.NewInbox(b.Store, notify.PushOutbox{Outbox: outbox}, nil, b.TZ, b.Now)
	return &Function{svc: b.Points(), store: b.Store, inbox: inbox, outbox: notify.PushOutbox{Outbox: outbox}, volunteers: b.Store, log: b.Log, now: b.Now}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "accrual")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle processes a stream batch of reports entering resolved or revoked, of service records and of
// builders' records (a completed hire, a consultation) inserted (the template's FilterCriteria);
// a failing record is reported by its SequenceNumber.
func (f *Function) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return streamfn.Process(ctx, f.log, ev, func(ctx context.Context, rec events.DynamoDBEventRecord) error {
		if isDevice(rec) {
			return f.deviceChanged(ctx, rec)
		}
		if isServiceRecord(rec) {
			return f.serviceRecord(ctx, rec)
		}
		if isBuildersRecord(rec) {
			return f.buildersRecord(ctx, rec)
		}
		r, err := dynamostore.ReportFromImage(streamfn.Image(rec.Change.NewImage))
		if err != nil {
			return fmt.Errorf("record %s: %w", rec.EventID, err)
		}
		switch r.Status {
		case report.Resolved:
			at := r.UpdatedAt
			if r.ResolvedAt != nil {
				at = *r.ResolvedAt
			}
			g, err := f.svc.Resolve(ctx, points.Resolved{ID: r.ID, ReporterSub: r.ReporterSub, Category: r.Category, At: at})
			if err != nil {
				return err
			}
			f.log.InfoContext(ctx, "points awarded", "reportId", r.ID)
			if err := f.resolvedNotices(ctx, r, at, g); err != nil {
				return err
			}
		case report.Revoked:
			rev := points.Revoked{ID: r.ID, ReporterSub: r.ReporterSub, At: r.UpdatedAt}
			if r.ResolvedAt != nil {
				rev.ResolvedAt = *r.ResolvedAt
			}
			if err := f.svc.OnRevoked(ctx, rev); err != nil {
				return err
			}
			f.log.InfoContext(ctx, "points reversed", "reportId", r.ID)
		}
		return nil
	}), nil
}
