package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// PushOutbox puts push messages on the departments' outbox queue, as messages of type PushType, so the
// notify function that already consumes it (partial batch failures, backoff, dead letters) pushes them.
type PushOutbox struct{ Outbox dispatch.Outbox }

// EnqueuePush sends one push message.
func (o PushOutbox) EnqueuePush(ctx context.Context, m PushMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode push: %w", err)
	}
	return o.Outbox.Enqueue(ctx, []dispatch.Notification{{ID: "push_" + m.Notice.ID, Type: PushType, ReportID: m.Notice.ReportID, Payload: b}})
}

// DecodePush reads a push message back from its outbox notification.
func DecodePush(n dispatch.Notification) (PushMessage, error) {
	var m PushMessage
	if err := json.Unmarshal(n.Payload, &m); err != nil || m.Sub == "" || m.Notice.ID == "" {
		return PushMessage{}, fmt.Errorf("malformed push message %s: %v", n.ID, err)
	}
	m.Notice.Sub = m.Sub
	return m, nil
}
