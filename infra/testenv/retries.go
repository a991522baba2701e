package testenv

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// retryCheck watches every attempt of every SDK call made with a configuration. An attempt that failed in
// a way the SDK retries — no answer from the service (a transport error: the request may or may not have
// been applied) or a retryable service error (throttling, a 5xx) — is a retry the test did not ask for
// unless it said it expects them (Options.WrapHTTP, Options.ExpectRetries): such a retry can apply a
// write twice, so it fails the test instead of passing as noise. Errors the service answered with and
// the SDK does not retry (a failed condition, say) are the tests' business.
type retryCheck struct {
	t        testing.TB
	expected bool
	what     string // which configuration: "function" (Counted) or "setup" (AWS)
	isRetry  func(error) bool

	mu     sync.Mutex
	done   bool // the test's cleanup ran: later attempts (a straggling goroutine) are not reported
	failed []string
}

// newRetryCheck builds the check for cfg and reports what it saw when the test ends.
func newRetryCheck(t testing.TB, cfg aws.Config, what string, expected bool) *retryCheck {
	var r aws.Retryer = retry.NewStandard()
	if cfg.Retryer != nil {
		r = cfg.Retryer()
	}
	c := &retryCheck{t: t, expected: expected, what: what, isRetry: r.IsErrorRetryable}
	t.Cleanup(c.report)
	return c
}

// attach adds the check to every client built from cfg, after the retry step, so it sees each attempt.
func (c *retryCheck) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("testenv-retries",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil && c.isRetry(err) {
					c.saw(fmt.Sprintf("%s.%s: %v", awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), err))
				}
				return out, md, err
			}), middleware.After)
	})
}

func (c *retryCheck) saw(attempt string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.failed = append(c.failed, attempt)
	if c.expected {
		c.t.Logf("SDK attempt failed (%s, retries expected): %s", c.what, attempt)
	}
}

// report fails the test with every unexpected failed attempt. It runs as a cleanup, on the test's
// goroutine, because an SDK call may run on any goroutine and testing.TB must not be used after the test.
func (c *retryCheck) report() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	if c.expected {
		return
	}
	for _, a := range c.failed {
		c.t.Errorf("unexpected SDK retry (%s): an attempt failed in a way the SDK retries, so a write may have been applied twice: %s", c.what, a)
	}
}
