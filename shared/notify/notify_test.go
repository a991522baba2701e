package notify

import (
	"context"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

type configStore struct{}

func (configStore) Departments(context.Context) ([]dispatch.Department, error) {
	return []dispatch.Department{{ID: "municipal", WebhookURL: "https://hooks.example/m", SecretRef: "ref"}}, nil
}
func (configStore) Areas(context.Context) ([]dispatch.Area, error)        { return nil, nil }
func (configStore) Rules(context.Context) ([]dispatch.Rule, error)        { return nil, nil }
func (configStore) Categories(context.Context) ([]report.Category, error) { return nil, nil }
func (secrets) Secret(context.Context, string) (string, error)            { return "whsec_x", nil }
func (r *recorder) RecordAttempt(ctx context.Context, _ dispatch.Notification, a Attempt, s Status) error {
	r.ctxErr, r.status = ctx.Err(), s
	return nil
}
func (*recorder) Deliveries(context.Context, string, int, string) ([]Delivery, string, error) {
	return nil, "", nil
}

type secrets struct{}

type recorder struct {
	ctxErr error
	status Status
}

// TestSendLeavesTheMargin: the webhook call ends at the caller's deadline less the margin (at most a
// quarter of the time left), so an endpoint that never answers leaves a live context to record the attempt.
func TestSendLeavesTheMargin(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		timeout     time.Duration // 0: no deadline
		margin      time.Duration
		wantSendFor time.Duration // the send's deadline from now; 0: none
		wantStatus  Status
	}{
		{"no deadline", 0, 2 * time.Second, 0, Retrying},
		{"deadline less margin", 30 * time.Second, 2 * time.Second, 28 * time.Second, Retrying},
		{"a quarter of a short deadline", 4 * time.Second, 2 * time.Second, 3 * time.Second, Retrying},
		{"no margin", 10 * time.Second, 0, 10 * time.Second, Retrying},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			start := time.Now()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.timeout))
				defer cancel()
			}
			var sendDeadline time.Time
			var hasDeadline bool
			send := func(ctx context.Context, _, _, _ string, _ []byte, _ time.Time) webhook.Result {
				sendDeadline, hasDeadline = ctx.Deadline()
				return webhook.Result{Outcome: webhook.Retry, Err: context.DeadlineExceeded}
			}
			rec := &recorder{}
			dir := dispatch.NewDirectory(configStore{}, time.Minute, time.UTC, func() time.Time { return now })
			svc := NewService(dir, secrets{}, rec, send, Settings{MaxAttempts: 5, Margin: tc.margin}, func() time.Time { return now }, func() float64 { return 0.5 })
			d, err := svc.Deliver(ctx, dispatch.Notification{ID: "msg_1", Dept: "municipal"}, 1)
			if err != nil || !d.Retry {
				t.Fatalf("Deliver = %+v, %v; want a retry", d, err)
			}
			if (tc.wantSendFor != 0) != hasDeadline {
				t.Fatalf("send had a deadline: %v, want %v", hasDeadline, tc.wantSendFor != 0)
			}
			if hasDeadline {
				// time.Until inside Deliver runs a little after start: a quarter of that is within 10 ms.
				if got := sendDeadline.Sub(start); got < tc.wantSendFor || got > tc.wantSendFor+10*time.Millisecond {
					t.Errorf("send's deadline is %v from the start, want %v", got, tc.wantSendFor)
				}
			}
			if tc.margin > 0 && rec.ctxErr != nil {
				t.Errorf("the attempt was recorded with a dead context: %v", rec.ctxErr)
			}
			if rec.status != tc.wantStatus {
				t.Errorf("recorded %q, want %q", rec.status, tc.wantStatus)
			}
		})
	}
}

type rotatingSecrets struct {
	cached, current string
	refreshes       int
}

func (r *rotatingSecrets) Secret(context.Context, string) (string, error) { return r.cached, nil }
func (r *rotatingSecrets) Refresh(context.Context, string) (string, bool, error) {
	r.refreshes++
	changed := r.cached != r.current
	r.cached = r.current
	return r.current, changed, nil
}

// A department answering 401/403 to our signature makes the secret be read again: if it was rotated the
// message is retried (signed with the new secret next time), otherwise it fails as before; other permanent
// answers do not touch Secrets Manager.
func TestRefusedSignatureRefreshesTheSecret(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name          string
		status        int
		rotated       bool
		wantStatus    Status
		wantRetry     bool
		wantRefreshes int
	}{
		{"401 after a rotation: retry", 401, true, Retrying, true, 1},
		{"403 after a rotation: retry", 403, true, Retrying, true, 1},
		{"401, secret unchanged: failed", 401, false, Failed, false, 1},
		{"410 gone: failed, no refresh", 410, true, Failed, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := &rotatingSecrets{cached: "whsec_old", current: "whsec_old"}
			if tc.rotated {
				sec.current = "whsec_new"
			}
			send := func(context.Context, string, string, string, []byte, time.Time) webhook.Result {
				return webhook.Result{Outcome: webhook.Permanent, Status: tc.status}
			}
			rec := &recorder{}
			dir := dispatch.NewDirectory(configStore{}, time.Minute, time.UTC, func() time.Time { return now })
			svc := NewService(dir, sec, rec, send, Settings{MaxAttempts: 5}, func() time.Time { return now }, func() float64 { return 0.5 })
			d, err := svc.Deliver(context.Background(), dispatch.Notification{ID: "msg_1", Dept: "municipal"}, 1)
			if err != nil || d.Retry != tc.wantRetry || rec.status != tc.wantStatus || sec.refreshes != tc.wantRefreshes {
				t.Errorf("Deliver = %+v, %v; recorded %v after %d refreshes; want retry %v, %v, %d refreshes",
					d, err, rec.status, sec.refreshes, tc.wantRetry, tc.wantStatus, tc.wantRefreshes)
			}
		})
	}
}
