package pump

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// ErrUnknownFunction is returned for a function that has no event of the kind asked for.
var ErrUnknownFunction = errors.New("unknown function")

// ErrStopped is returned by Drain and Ready when the pump's Run has returned.
var ErrStopped = errors.New("pump stopped")

// invoke calls h the way the Lambda runtime would: with a request id and function ARN in the context,
// the function's timeout, and a panic turned into an error.
func invoke[E, R any](ctx context.Context, functionARN string, timeout time.Duration, h func(context.Context, E) (R, error), ev E) (resp R, requestID string, err error) {
	requestID = uuid.NewString()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: functionARN})
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	resp, err = h(ctx, ev)
	return resp, requestID, err
}

// functionARN is the ARN Lambda would give the function, built from an event source ARN's region and
// account (arn:aws:service:region:account:...).
func functionARN(sourceARN, function string) string {
	region, account := arnRegionAccount(sourceARN)
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, function)
}

// arnRegionAccount returns the region and account fields of an ARN, or "" for each when it has none.
func arnRegionAccount(arn string) (region, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return "", ""
	}
	return parts[3], parts[4]
}

// sleep waits for d or until ctx is done; it reports whether the full duration passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
