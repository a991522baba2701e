// Package notifyfn builds the notify function: it consumes the outbox queue and delivers signed webhooks
// to departments, retrying with backoff through the message's visibility timeout.
package notifyfn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/functions/platform/secrets"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/queue"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Function is the built notify function.
type Function struct {
	svc      *notify.Service
	inbox    *notify.Inbox
	pusher   *snsPusher
	sqs      *queue.Client
	queueURL string
	log      *slog.Logger
}

// New builds the function (OUTBOX_QUEUE_URL, NOTIFY_MAX_ATTEMPTS = the queue's maxReceiveCount,
// NOTIFY_BASE_DELAY_SECONDS = the first retry's backoff ceiling, ALLOW_LOOPBACK_WEBHOOKS for the local stack
// only; PUSH_FCM_APPLICATION_ARN and PUSH_APNS_APPLICATION_ARN, the SNS platform applications citizens'
// pushes go through — a platform without one pushes nothing, and its notices stay in the inbox).
func New(b *platform.Base) (*Function, error) {
	url, err := b.Env.Required("OUTBOX_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	attempts, err := b.Env.Int64("NOTIFY_MAX_ATTEMPTS", 5)
	if err != nil {
		return nil, err
	}
	if attempts < 1 {
		return nil, fmt.Errorf("NOTIFY_MAX_ATTEMPTS=%d: want at least 1", attempts)
	}
	baseDelay, err := b.Env.Int64("NOTIFY_BASE_DELAY_SECONDS", 10)
	if err != nil {
		return nil, err
	}
	if baseDelay < 1 || baseDelay > maxVisibility {
		return nil, fmt.Errorf("NOTIFY_BASE_DELAY_SECONDS=%d: want 1 to %d", baseDelay, maxVisibility)
	}
	client := b.Egress().Client(webhook.DefaultTimeout)
	send := func(ctx context.Context, url, secret, msgID string, payload []byte, now time.Time) webhook.Result {
		return webhook.Deliver(ctx, client, url, secret, msgID, payload, now)
	}
	svc := notify.NewService(b.Dir, secrets.Store(b), b.Store, send, notify.Settings{
		MaxAttempts: int(attempts), BaseDelay: time.Duration(baseDelay) * time.Second, Margin: deadlineMargin,
	}, b.Now, nil)
	pusher := &snsPusher{client: sns.NewFromConfig(b.AWS), apps: map[notify.Platform]string{
		notify.FCM: b.Env("PUSH_FCM_APPLICATION_ARN"), notify.APNs: b.Env("PUSH_APNS_APPLICATION_ARN"),
	}}
	inbox := notify.NewInbox(b.Store, nil, pusher, b.TZ, b.Now)
	return &Function{svc: svc, inbox: inbox, pusher: pusher, sqs: queues.Client(b), queueURL: url, log: b.Log}, nil
}

// ObservePushes calls fn with every push SNS accepted (the local stack's push sink). Call it before the
// function handles events.
func (f *Function) ObservePushes(fn func(Published)) { f.pusher.observe = fn }

// ObserveDeletes calls fn with every endpoint the function deleted (the local stack's push sink). Call it
// before the function handles events.
func (f *Function) ObserveDeletes(fn func(Deleted)) { f.pusher.observeDelete = fn }

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "notify")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle delivers the batch's messages concurrently (at most maxConcurrent at a time), each within the
// invocation's deadline less deadlineMargin, so one department that never answers costs its own message a
// retry and nothing else: the function returns before Lambda's timeout, and the messages it delivered are
// not among the batch item failures, so the poller deletes them. Those to retry are delayed by their
// backoff and reported as failures, so SQS delivers them again (and dead-letters them after
// maxReceiveCount).
func (f *Function) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, maxConcurrent)
	var wg sync.WaitGroup
	for i, m := range ev.Records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f.one(ctx, m); err != nil {
				f.log.ErrorContext(ctx, "notification not delivered", "messageId", m.MessageId, "err", err.Error())
				failed[i] = true
			}
		})
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, m := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

// maxConcurrent bounds the deliveries in flight: the event source's BatchSize (10), so a batch goes out at
// once, and memory stays at ten messages (≤ 256 KiB each) and ten 4 KiB response drains.
const maxConcurrent = 10

// deadlineMargin is what each delivery leaves of the invocation's time to record its attempt (1 UpdateItem)
// and reschedule its message (1 ChangeMessageVisibility).
const deadlineMargin = 2 * time.Second

// maxVisibility is SQS's longest visibility timeout (12 hours), in seconds.
const maxVisibility = 12 * 60 * 60

// errRetry marks a message kept for a later attempt.
type errRetry struct{ seconds int32 }

func (e errRetry) Error() string { return fmt.Sprintf("retry in %d s", e.seconds) }

func (f *Function) one(ctx context.Context, m events.SQSMessage) error {
	var n dispatch.Notification
	if err := json.Unmarshal([]byte(m.Body), &n); err != nil || n.ID == "" || n.Dept == "" && n.Type != notify.PushType && n.Type != notify.EndpointRemovalType {
		return fmt.Errorf("malformed notification: %v", err) // left to the dead-letter queue
	}
	attempt, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if attempt < 1 {
		attempt = 1
	}
	var d notify.Decision
	var err error
	switch n.Type {
	case notify.PushType:
		d, err = f.push(ctx, n, attempt)
	case notify.EndpointRemovalType:
		d, err = f.forget(ctx, n, attempt)
	default:
		d, err = f.svc.Deliver(ctx, n, attempt)
	}
	if err != nil {
		return err
	}
	if !d.Retry {
		f.log.InfoContext(ctx, "notification handled", "webhookId", n.ID, "dept", n.Dept, "attempt", attempt)
		return nil
	}
	// SQS hides a message for whole seconds: round the backoff up, so a retry never comes sooner than
	// planned (truncating a sub-second jitter to 0 would make the message visible again at once).
	secs := int32(min(max(math.Ceil(d.After.Seconds()), 1), maxVisibility))
	if err := queue.Delay(ctx, f.sqs, f.queueURL, m.ReceiptHandle, secs); err != nil {
		f.log.WarnContext(ctx, "could not delay retry", "webhookId", n.ID, "err", err.Error())
	}
	return errRetry{secs}
}

// push handles a citizen's push message: held until its quiet hours end (the message hidden until then;
// SQS counts the receive, so a hold is one of NotifyMaxAttempts), pushed once, and retried with backoff
// when every device failed.
func (f *Function) push(ctx context.Context, n dispatch.Notification, attempt int) (notify.Decision, error) {
	m, err := notify.DecodePush(n)
	if err != nil {
		return notify.Decision{}, err
	}
	d, err := f.inbox.Push(ctx, m)
	if err != nil && !d.Retry {
		return d, err
	}
	if err != nil {
		f.log.WarnContext(ctx, "push failed", "notificationId", m.Notice.ID, "attempt", attempt, "err", err.Error())
		d.After = webhook.Backoff(attempt-1, 10*time.Second, 15*time.Minute, nil)
	}
	return d, nil
}

// forget deletes the SNS endpoint of a device token no longer registered; a failure is retried with
// backoff (deleting twice is harmless).
func (f *Function) forget(ctx context.Context, n dispatch.Notification, attempt int) (notify.Decision, error) {
	r, err := notify.DecodeRemoval(n)
	if err != nil {
		return notify.Decision{}, err
	}
	if err := f.pusher.Forget(ctx, r); err != nil {
		f.log.WarnContext(ctx, "endpoint not deleted", "deviceId", r.Device.ID, "attempt", attempt, "err", err.Error())
		return notify.Decision{Retry: true, After: webhook.Backoff(attempt-1, 10*time.Second, 15*time.Minute, nil)}, nil
	}
	return notify.Decision{}, nil
}
