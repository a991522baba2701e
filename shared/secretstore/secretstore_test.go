package secretstore

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

type fakeAPI struct {
	calls int
	err   error
	value string
}

func (f *fakeAPI) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
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
		{"service failure", &smtypes.InternalServiceError{Message: aws.String("boom")}, apperr.ErrUnavailable},
		{"unanswered", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, apperr.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, apperr.ErrUnavailable},
		{"no such secret", &smtypes.ResourceNotFoundException{Message: aws.String("no")}, nil},
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
