package photosweepfn

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

func TestServiceFailure(t *testing.T) {
	api := &smithy.GenericAPIError{Code: "SlowDown", Message: "reduce your request rate"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"an AWS error answer", fmt.Errorf("sweep photos of 2026-11-28: list: %w", api), true},
		{"a DynamoDB call's error", fmt.Errorf("read its reports: %w", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "Query", Err: errors.New("x")}), true},
		{"no answer", fmt.Errorf("list: %w", &smithyhttp.RequestSendError{Err: errors.New("connection reset")}), true},
		{"the store throttled", apperr.ErrThrottled.Wrap(errors.New("x")), true},
		{"the outcome unknown", apperr.ErrOutcomeUnknown.Wrap(errors.New("x")), true},
		{"the deadline", fmt.Errorf("list: %w", context.DeadlineExceeded), true},
		{"canceled by the SDK", &smithy.CanceledError{Err: context.Canceled}, true},
		{"a version S3 would not delete", errors.New("sweep photos of 2026-11-28: delete photos/2026-11-28/a.jpg version 3: AccessDenied Access Denied"), false},
		{"too early", fmt.Errorf("sweep photos of 2026-11-28: %w", report.ErrSweepTooEarly), false},
		{"a client mistake of ours", apperr.New(apperr.Invalid, "x", "y"), false},
	} {
		if got := serviceFailure(tc.err); got != tc.want {
			t.Errorf("%s: serviceFailure(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
