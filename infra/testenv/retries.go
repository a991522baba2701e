package testenv

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// retryLog logs every attempt of an SDK call that got no answer from the service (the retryer then tries
// again, or gives up). Errors the service answered with (a failed condition, say) are the tests' business.
// expected says the test provokes retries (Options.WrapHTTP or ExpectRetries).
type retryLog struct {
	t        testing.TB
	expected bool
}

// attach adds the log to every client built from cfg, after the retry step, so it sees each attempt.
func (l *retryLog) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("testenv-attempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				var apiErr smithy.APIError
				if err != nil && !errors.As(err, &apiErr) {
					l.t.Logf("SDK attempt failed: %s.%s: %v", awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), err)
				}
				return out, md, err
			}), middleware.After)
	})
}
