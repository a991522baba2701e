package sweeperfn

import (
	"context"
	"errors"
)

// sweepPhotos deletes the photo versions no report points to, of each day that is due (the last
// report.SweepLookback days that are two days old): one listing call per 1,000 versions, the days' index
// Queries and BatchGetItems of their reports, and free DeleteObjects. Every due day is tried; the errors
// are returned together, so the scheduler retries and a day that failed is swept by the next run.
func (f *Function) sweepPhotos(ctx context.Context) error {
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
