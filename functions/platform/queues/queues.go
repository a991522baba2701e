// Package queues builds a function's SQS side: the client and the notification outbox. Only the functions
// that send or move messages import it, so the others do not link the SQS adapter (issue 11, cold start).
package queues

import (
	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/queue"
)

// Client returns an SQS client over the function's AWS configuration.
func Client(b *platform.Base) *queue.Client { return queue.NewClient(b.AWS) }

// Outbox returns the notification outbox named by OUTBOX_QUEUE_URL.
func Outbox(b *platform.Base, client *queue.Client) (*queue.Outbox, error) {
	url, err := b.Env.Required("OUTBOX_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	return queue.NewOutbox(client, url), nil
}
