package blobstore

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// S3's transient failures reach the edge as 503s with Retry-After (issue 10, finding 4), not 500s.
func TestTranslate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error // nil: no kind
	}{
		{"connection reset", &smithyhttp.RequestSendError{Err: errors.New("read tcp: connection reset by peer")}, apperr.ErrOutcomeUnknown},
		{"deadline", &smithy.CanceledError{Err: context.DeadlineExceeded}, apperr.ErrOutcomeUnknown},
		{"slow down", &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}, apperr.ErrThrottled},
		{"S3 failing", &smithy.GenericAPIError{Code: "InternalError"}, apperr.ErrThrottled},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDenied"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate("put object k", tt.err)
			if tt.want == nil {
				if apperr.As(got) != nil || !errors.Is(got, tt.err) {
					t.Errorf("%v: want the cause, without a kind", got)
				}
				return
			}
			if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) || apperr.As(got).RetryAfter <= 0 {
				t.Errorf("%v: want %v with Retry-After, keeping the cause", got, tt.want)
			}
		})
	}
}
