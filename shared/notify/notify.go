// Package notify delivers the outbox's notifications to department webhooks: look up the department and
// its signing secret, send through the egress guard, record every attempt, and decide on a retry with
// exponential backoff and jitter. Dead-lettering after the last attempt is the queue's redrive policy.
package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Status of a delivery.
type Status string

// Delivery statuses.
const (
	Delivered    Status = "delivered"
	Retrying     Status = "retrying"
	Failed       Status = "failed"        // permanent: 4xx (but 408/429), refused target, no secret
	DeadLettered Status = "dead_lettered" // retries exhausted: the message moves to the dead-letter queue
	NoEndpoint   Status = "no_endpoint"   // the department works from the staff API
)

// Attempt is one try, as recorded.
type Attempt struct {
	At         time.Time `json:"at"`
	Number     int       `json:"number"`
	HTTPStatus int       `json:"httpStatus,omitempty"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error,omitempty"`
	Ms         int64     `json:"ms"`
}

// Delivery is a notification's record, as admins see it.
type Delivery struct {
	ID        string    `json:"id"`
	Dept      string    `json:"dept"`
	Type      string    `json:"type"`
	ReportID  string    `json:"reportId"`
	Status    Status    `json:"status"`
	Attempts  []Attempt `json:"attempts"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Store records deliveries.
type Store interface {
	RecordAttempt(ctx context.Context, n dispatch.Notification, a Attempt, s Status) error
	Deliveries(ctx context.Context, dept string, limit int, cursor string) ([]Delivery, string, error)
}

// Secrets returns a signing secret by reference.
type Secrets interface {
	Secret(ctx context.Context, ref string) (string, error)
}

// Sender sends one signed message (webhook.Deliver through an egress-guarded client).
type Sender func(ctx context.Context, url, secret, msgID string, payload []byte, now time.Time) webhook.Result

// Settings of delivery.
type Settings struct {
	MaxAttempts int           // equals the queue's maxReceiveCount
	BaseDelay   time.Duration // first backoff ceiling
	MaxDelay    time.Duration // backoff cap (SQS visibility ≤ 12 h)
	// Margin is kept back from the context's deadline (at most a quarter of the time left): the webhook
	// gets the rest, so an endpoint that never answers still leaves time to record the attempt and
	// reschedule the message before the invocation ends. Zero keeps the whole deadline for the webhook.
	Margin time.Duration
}

// Service delivers notifications.
type Service struct {
	dir      *dispatch.Directory
	secrets  Secrets
	store    Store
	send     Sender
	settings Settings
	now      func() time.Time
	rnd      func() float64
}

// NewService returns a Service. rnd (0 ≤ x < 1) drives jitter; nil uses math/rand/v2.
func NewService(dir *dispatch.Directory, secrets Secrets, store Store, send Sender, s Settings, now func() time.Time, rnd func() float64) *Service {
	if rnd == nil {
		rnd = rand.Float64
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = 5
	}
	if s.BaseDelay == 0 {
		s.BaseDelay = 10 * time.Second
	}
	if s.MaxDelay == 0 {
		s.MaxDelay = 15 * time.Minute
	}
	return &Service{dir: dir, secrets: secrets, store: store, send: send, settings: s, now: now, rnd: rnd}
}

// Decision is what the queue should do with the message.
type Decision struct {
	Retry bool          // keep the message (report it as a batch item failure)
	After time.Duration // hide it this long first
}

// Deliver makes attempt number attempt (1-based: SQS's ApproximateReceiveCount) of n.
func (s *Service) Deliver(ctx context.Context, n dispatch.Notification, attempt int) (Decision, error) {
	cfg, err := s.dir.Get(ctx)
	if err != nil {
		return Decision{}, err
	}
	now := s.now().UTC()
	rec := Attempt{At: now, Number: attempt}
	dept, ok := cfg.Departments[n.Dept]
	if !ok {
		rec.Outcome, rec.Error = "failed", "unknown department"
		return Decision{}, s.store.RecordAttempt(ctx, n, rec, Failed)
	}
	if dept.WebhookURL == "" {
		rec.Outcome = "no_endpoint"
		return Decision{}, s.store.RecordAttempt(ctx, n, rec, NoEndpoint)
	}
	secret, err := s.secrets.Secret(ctx, dept.SecretRef)
	if err != nil {
		// A missing secret is a configuration error that retries will not fix quickly, but a transient
		// Secrets Manager error would: retry, and let the dead-letter queue catch the rest.
		rec.Outcome = "retry"
		rec.Error = fmt.Sprintf("signing secret unavailable: %v", err)
		return s.retry(ctx, n, rec, attempt)
	}
	sendCtx, cancel := s.sendContext(ctx)
	res := s.send(sendCtx, dept.WebhookURL, secret, n.ID, n.Payload, now)
	cancel()
	rec.HTTPStatus, rec.Ms, rec.Outcome = res.Status, res.Duration.Milliseconds(), res.Outcome.String()
	if res.Err != nil {
		rec.Error = res.Err.Error()
	}
	switch res.Outcome {
	case webhook.Delivered:
		return Decision{}, s.store.RecordAttempt(ctx, n, rec, Delivered)
	case webhook.Permanent:
		if s.rotated(ctx, dept.SecretRef, res.Status) {
			// The department refused our signature and its secret has changed since we cached it: the
			// next attempt signs with the new one.
			rec.Outcome = "retry"
			return s.retry(ctx, n, rec, attempt)
		}
		return Decision{}, s.store.RecordAttempt(ctx, n, rec, Failed)
	}
	return s.retry(ctx, n, rec, attempt)
}

// rotated says whether a 401 or 403 answer may be our stale copy of a rotated secret: the secret store
// reads it again (at most once a minute, secretstore.MinRefresh) and it differs from the cached one.
func (s *Service) rotated(ctx context.Context, ref string, status int) bool {
	r, ok := s.secrets.(interface {
		Refresh(ctx context.Context, ref string) (string, bool, error)
	})
	if !ok || status != http.StatusUnauthorized && status != http.StatusForbidden {
		return false
	}
	_, changed, err := r.Refresh(ctx, ref)
	return err == nil && changed
}

// sendContext bounds the webhook call by the caller's deadline less the margin, or less a quarter of the
// time left when that is shorter (a short invocation still gives the webhook most of its time).
func (s *Service) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || s.settings.Margin <= 0 {
		return ctx, func() {}
	}
	margin := min(s.settings.Margin, time.Until(dl)/4)
	return context.WithDeadline(ctx, dl.Add(-max(margin, 0)))
}

func (s *Service) retry(ctx context.Context, n dispatch.Notification, rec Attempt, attempt int) (Decision, error) {
	status := Retrying
	if attempt >= s.settings.MaxAttempts {
		status = DeadLettered
	}
	if err := s.store.RecordAttempt(ctx, n, rec, status); err != nil {
		return Decision{}, err
	}
	// Backoff counts retries from 0; attempt counts deliveries from 1, so the retry after attempt 1 is
	// retry 0, whose ceiling is BaseDelay.
	return Decision{Retry: true, After: webhook.Backoff(attempt-1, s.settings.BaseDelay, s.settings.MaxDelay, s.rnd)}, nil
}
