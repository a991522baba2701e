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

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
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

// Handle sweeps each day that is due (the last report.SweepLookback days that are two days old): one
// listing call per 1,000 versions, the days' index Queries and BatchGetItems of their reports, and free
// DeleteObjects. Every due day is tried; the errors are returned together, so the scheduler retries, and a
// day that failed is swept by the next run. The event's content is not read.
func (f *Function) Handle(ctx context.Context, _ json.RawMessage) error {
	var errs []error
	for _, day := range f.photos.Due() {
		res, err := f.photos.Sweep(ctx, day)
		if err != nil {
			f.b.Log.ErrorContext(ctx, "photo sweep failed", "day", day, "err", err)
			errs = append(errs, err)
			continue
		}
		f.b.Log.InfoContext(ctx, "photos swept", "day", day, "versions", res.Versions, "kept", res.Kept, "deleted", res.Deleted)
	}
	return errors.Join(errs...)
}
