package secretstore

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
	"github.com/civicsnap/civicsnap/shared/apperr"
)

type fakeAPI struct {
	calls int
	err   error
	value string
}

func (f *fakeAPI) SecretString(context.Context, string) (string, error) {
	f.calls++
	if f.err != nil {
		return "", f.err
	}
	return f.value, nil
}

// A failure the caller can wait out answers a retryable 503 (with Retry-After), not a 500; a missing
// secret stays what it is, a configuration error.
func TestSecretTranslatesTransientFailures(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want *apperr.Error // nil: not a domain error
	}{
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, apperr.ErrThrottled},
		{"throttled (JSON answer)", &awsrest.Error{StatusCode: 400, Code: "ThrottlingException"}, apperr.ErrThrottled},
		{"service failure", &awsrest.Error{StatusCode: 500, Code: "InternalServiceError", Message: "boom"}, apperr.ErrUnavailable},
		{"unanswered", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, apperr.ErrUnavailable},
		{"unanswered (awsrest)", &smithyhttp.RequestSendError{Err: errors.New("connection reset by peer")}, apperr.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, apperr.ErrUnavailable},
		{"no such secret", &awsrest.Error{StatusCode: 400, Code: "ResourceNotFoundException", Message: "no"}, nil},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := New(&fakeAPI{err: tc.err}, time.Minute, time.Now)
			_, err := s.Secret(context.Background(), "city/dept/roads")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("cause lost: %v", err)
			}
			got := apperr.As(err)
			switch {
			case tc.want == nil && got != nil:
				t.Errorf("got domain error %s, want the cause alone", got.Code)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("got %v, want %s", err, tc.want.Code)
			case tc.want != nil && got.RetryAfter <= 0:
				t.Errorf("%s without Retry-After", got.Code)
			}
		})
	}
}

func TestSecretIsCachedForTTL(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	api := &fakeAPI{value: "whsec_x"}
	s := New(api, 5*time.Minute, func() time.Time { return now })
	for range 3 {
		if v, err := s.Secret(context.Background(), "r"); err != nil || v != "whsec_x" {
			t.Fatalf("Secret = %q, %v", v, err)
		}
	}
	now = now.Add(5 * time.Minute)
	if _, err := s.Secret(context.Background(), "r"); err != nil {
		t.Fatal(err)
	}
	if api.calls != 2 {
		t.Fatalf("%d calls, want 2 (one, then one after the TTL)", api.calls)
	}
}

// A secret is kept for hours; Refresh reads it again at most once a minute and says whether it changed.
func TestCacheAndRefresh(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	api := &fakeAPI{value: "v1"}
	s := New(api, TTL, func() time.Time { return now })
	ctx := context.Background()
	steps := []struct {
		name        string
		advance     time.Duration
		rotate      string
		refresh     bool
		want        string
		wantChanged bool
		wantCalls   int
	}{
		{"first read", 0, "", false, "v1", false, 1},
		{"an hour later: cached", time.Hour, "", false, "v1", false, 1},
		{"rotated, refresh reads it", 0, "v2", true, "v2", true, 2},
		{"refresh again within a minute: no call", 30 * time.Second, "", true, "v2", false, 2},
		{"refresh after a minute, unchanged", time.Minute, "", true, "v2", false, 3},
		{"past the TTL: read", TTL, "", false, "v2", false, 4},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		if st.rotate != "" {
			api.value = st.rotate
		}
		var got string
		var changed bool
		var err error
		if st.refresh {
			got, changed, err = s.Refresh(ctx, "ref")
		} else {
			got, err = s.Secret(ctx, "ref")
		}
		if err != nil || got != st.want || changed != st.wantChanged || api.calls != st.wantCalls {
			t.Errorf("%s: %q changed=%v err=%v after %d calls, want %q %v %d", st.name, got, changed, err, api.calls, st.want, st.wantChanged, st.wantCalls)
		}
	}
}
