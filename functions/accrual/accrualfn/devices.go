package accrualfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// Push devices: the table's stream allows two consumers, and dispatch's FilterCriteria are at Lambda's
// five, so accrual's filters also pass push device items' REMOVE and MODIFY. A device removed, or
// registered again with another token, has its old token's SNS endpoint deleted: this queues the
// removal, the notify function (the one that links SNS) deletes it. A record delivered again queues the
// same message, and a deletion is idempotent in SNS.

// isDevice reports whether rec is a change of a push device item.
func isDevice(rec events.DynamoDBEventRecord) bool {
	t, ok := rec.Change.OldImage["type"]
	return ok && t.DataType() == events.DataTypeString && t.String() == "device"
}

// deviceChanged queues the deletion of the endpoint of a device token no longer registered.
func (f *Function) deviceChanged(ctx context.Context, rec events.DynamoDBEventRecord) error {
	sub, old, err := dynamostore.DeviceFromImage(streamfn.Image(rec.Change.OldImage))
	if err != nil {
		return fmt.Errorf("record %s: %w", rec.EventID, err)
	}
	var now *notify.Device
	if len(rec.Change.NewImage) > 0 {
		_, d, err := dynamostore.DeviceFromImage(streamfn.Image(rec.Change.NewImage))
		if err != nil {
			return fmt.Errorf("record %s: %w", rec.EventID, err)
		}
		now = &d
	}
	d, ok := notify.Unregistered(&old, now)
	if !ok {
		return nil
	}
	if err := f.outbox.EnqueueRemoval(ctx, notify.EndpointRemoval{Sub: sub, Device: d}); err != nil {
		return err
	}
	f.log.InfoContext(ctx, "push endpoint removal queued", "deviceId", d.ID)
	return nil
}
