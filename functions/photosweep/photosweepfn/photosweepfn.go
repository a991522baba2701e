// Package photosweepfn builds the photo sweep: a daily scheduled function that deletes the uploaded photo
// versions no report points to — abandoned uploads with their location metadata, the originals of
// stripped photos, anything posted to a key after it was checked — once their day is two days old
// (report.PhotoSweeper). It is a function of its own so that the 15-minute sweeper does not link the S3
// client (issue 11, cold start).
package photosweepfn

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Function is the built photo sweep.
type Function struct {
	photos *report.PhotoSweeper
	b      *platform.Base
}

// New builds the function (TABLE_NAME, CITY_TZ, BUCKET_NAME).
func New(b *platform.Base) (*Function, error) {
	sweeper, err := photos.Sweeper(b)
	if err != nil {
		return nil, err
	}
	return &Function{photos: sweeper, b: b}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "photosweep")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle sweeps each day that is due (the last report.SweepLookback days that are two days old), oldest
// first: one listing call per 1,000 versions, the days' index Queries and BatchGetItems of their reports,
// and free DeleteObjects. A day whose sweep failed for a reason of its own (a version S3 would not delete)
// does not keep the later days from being swept; a failure that is not the day's (see serviceFailure) ends
// the run there, since every later day would fail the same way and only add calls (and, in a throttled
// table or bucket, load). The errors are returned together, so the scheduler retries, and a day not swept
// is swept by the next run. The event's content is not read.
func (f *Function) Handle(ctx context.Context, _ json.RawMessage) error {
	var errs []error
	days := f.photos.Due()
	for i, day := range days {
		res, err := f.photos.Sweep(ctx, day)
		if err != nil {
			errs = append(errs, err)
			if serviceFailure(err) {
				f.b.Log.ErrorContext(ctx, "photo sweep failed", "day", day, "err", err, "notTried", days[i+1:])
				break
			}
			f.b.Log.ErrorContext(ctx, "photo sweep failed", "day", day, "err", err)
			continue
		}
		f.b.Log.InfoContext(ctx, "photos swept", "day", day, "versions", res.Versions, "kept", res.Kept, "deleted", res.Deleted)
	}
	return errors.Join(errs...)
}

// serviceFailure tells whether a day's sweep failed for a reason that is not the day's: the table or the
// bucket answered the call with an error (throttling, access, a missing table or bucket, a refused request),
// did not answer it (a lost connection, the SDK's retries spent), or the run's deadline passed. A failure
// that is the day's own — S3 refusing to delete some of its versions (DeleteObjects answers 200 with an
// error per key, which shared/blobstore reports as a plain error) — is none of these.
func serviceFailure(err error) bool {
	var api smithy.APIError
	var op *smithy.OperationError
	var send *smithyhttp.RequestSendError
	var canceled *smithy.CanceledError
	if errors.As(err, &api) || errors.As(err, &op) || errors.As(err, &send) || errors.As(err, &canceled) {
		return true
	}
	if e := apperr.As(err); e != nil && e.Kind == apperr.Unavailable {
		return true
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
