package casework

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

type oneDept struct{}

func (oneDept) Departments(context.Context) ([]dispatch.Department, error) {
	return []dispatch.Department{{ID: "roads", SecretRef: "ref/roads"}}, nil
}
func (oneDept) Areas(context.Context) ([]dispatch.Area, error)        { return nil, nil }
func (oneDept) Rules(context.Context) ([]dispatch.Rule, error)        { return nil, nil }
func (oneDept) Categories(context.Context) ([]report.Category, error) { return nil, nil }

// rotating is a cached secret store: Secret answers the cached value, Refresh the current one (and says
// whether it changed), as secretstore.Store does.
type rotating struct {
	cached, current string
	refreshes       int
}

func (r *rotating) Secret(context.Context, string) (string, error) { return r.cached, nil }
func (r *rotating) Refresh(context.Context, string) (string, bool, error) {
	r.refreshes++
	changed := r.cached != r.current
	r.cached = r.current
	return r.current, changed, nil
}

// A department that rotated its secret is verified with the new one after one refresh; a signature that
// matches neither is refused, and a stale timestamp never costs a refresh.
func TestVerifyInboundRefreshesARotatedSecret(t *testing.T) {
	oldSecret, _ := webhook.NewSecret()
	newSecret, _ := webhook.NewSecret()
	forged, _ := webhook.NewSecret()
	now := time.Now()
	cases := []struct {
		name          string
		signWith      string
		at            time.Time
		cached        string
		want          error
		wantRefreshes int
	}{
		{"cached secret verifies", oldSecret, now, oldSecret, nil, 0},
		{"rotated: refreshed and verified", newSecret, now, oldSecret, nil, 1},
		{"forged: refused after one refresh", forged, now, newSecret, webhook.ErrInvalidSignature, 1},
		{"stale timestamp: refused, no refresh", oldSecret, now.Add(-10 * time.Minute), oldSecret, webhook.ErrStaleTimestamp, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			secrets := &rotating{cached: c.cached, current: c.signWith}
			if c.want != nil && c.name != "stale timestamp: refused, no refresh" {
				secrets.current = c.cached
			}
			dir := dispatch.NewDirectory(oneDept{}, time.Minute, time.UTC, time.Now)
			s := NewService(nil, nil, dir, nil, secrets, time.Now)
			body := []byte(`{"type":"report.accepted"}`)
			h, err := webhook.Sign(c.signWith, "msg_1", c.at, body)
			if err != nil {
				t.Fatal(err)
			}
			err = s.VerifyInbound(context.Background(), "roads", body, h)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("VerifyInbound = %v, want %v", err, c.want)
			}
			if secrets.refreshes != c.wantRefreshes {
				t.Errorf("%d refreshes, want %d", secrets.refreshes, c.wantRefreshes)
			}
		})
	}
}
