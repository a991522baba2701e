package dispatchfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// The citizens' notices dispatch hears of on its stream (template FilterCriteria): a report entering
// dispatched (from another status than submitted: dispatch's own routing posts that notice itself, through
// dispatch.Settings.Dispatched, with the same id), accepted or reopened, and a goods redemption reserved for
// pickup. Resolutions are accrual's, which knows the points they earned.

// reportChanged posts the reporter's notice of a report's status change, if it has one.
func (f *Function) reportChanged(ctx context.Context, rec events.DynamoDBEventRecord) error {
	r, err := dynamostore.ReportFromImage(streamfn.Image(rec.Change.NewImage))
	if err != nil {
		return fmt.Errorf("record %s: %w", rec.EventID, err)
	}
	var from report.Status
	if v, ok := rec.Change.OldImage["status"]; ok && v.DataType() == events.DataTypeString {
		from = report.Status(v.String())
	}
	if r.Status == report.Reopened && from == report.Resolved {
		// The reporter contested the resolution: the lead department hears of it as of a dispatch.
		if err := f.svc.NotifyReopened(ctx, r.ID); err != nil {
			return err
		}
	}
	n, ok := notify.ReportChanged(r, from)
	if !ok {
		return nil
	}
	if err := f.inbox.Post(ctx, n); err != nil {
		return err
	}
	f.log.InfoContext(ctx, "notice posted", "reportId", r.ID, "kind", n.Kind, "notificationId", n.ID)
	return nil
}

// redemptionMade posts the redeemer's notice of goods reserved for pickup.
func (f *Function) redemptionMade(ctx context.Context, red market.Redemption) error {
	n, ok := notify.RedemptionMade(red)
	if !ok {
		return nil
	}
	if err := f.inbox.Post(ctx, n); err != nil {
		return err
	}
	f.log.InfoContext(ctx, "notice posted", "redemptionId", red.ID, "kind", n.Kind, "notificationId", n.ID)
	return nil
}
