package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// A device's push endpoint lives in SNS (one per token, created by the notify function when it first
// pushes to the token). When the device is removed (DELETE /v1/me/devices/{id}) or registered again with
// another token, the old token's endpoint is deleted: the table's stream carries the device item's
// change to a stream consumer (accrual's FilterCriteria pass device items' REMOVE and MODIFY), which
// queues an EndpointRemoval on the outbox, and the notify function — the only one that links SNS —
// deletes the endpoint. Deleting an endpoint is idempotent in SNS, so a record or a message delivered
// twice does nothing more. A registration refused at the cap (too_many_devices) creates no endpoint: there
// is none to delete.

// EndpointRemovalType is the outbox message type of a token whose endpoint is to be deleted.
const EndpointRemovalType = "user.endpoint.remove"

// EndpointRemoval names a device token no longer registered.
type EndpointRemoval struct {
	Sub    string `json:"sub"`
	Device Device `json:"device"`
}

// Unregistered returns the device whose token is no longer registered after a change of sub's device
// item from old to new (nil: absent): old when it was removed or its token replaced; nothing when a
// registration only refreshed it (the same token) or created it.
func Unregistered(old, new *Device) (Device, bool) {
	if old == nil || old.Token == "" || new != nil && new.Token == old.Token && new.Platform == old.Platform {
		return Device{}, false
	}
	return *old, true
}

// EnqueueRemoval queues the deletion of r's endpoint. The message's id is made from the user, the device
// and its token, so the same change delivered again makes the same message.
func (o PushOutbox) EnqueueRemoval(ctx context.Context, r EndpointRemoval) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode endpoint removal: %w", err)
	}
	h := sha256.Sum256([]byte(r.Sub + "\x00" + r.Device.ID + "\x00" + string(r.Device.Platform) + "\x00" + r.Device.Token))
	return o.Outbox.Enqueue(ctx, []dispatch.Notification{{ID: "endpoint_" + hex.EncodeToString(h[:10]), Type: EndpointRemovalType, Payload: b}})
}

// DecodeRemoval reads an endpoint removal back from its outbox notification.
func DecodeRemoval(n dispatch.Notification) (EndpointRemoval, error) {
	var r EndpointRemoval
	if err := json.Unmarshal(n.Payload, &r); err != nil || r.Sub == "" || r.Device.Token == "" {
		return EndpointRemoval{}, fmt.Errorf("malformed endpoint removal %s: %v", n.ID, err)
	}
	return r, nil
}
