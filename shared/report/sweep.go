package report

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AttachedPhotos tells which photos reports point to.
type AttachedPhotos interface {
	// PhotosOfDays returns the photos and proof photos of the reports created or resolved on the given
	// local days (YYYY-MM-DD): work proportional to those days' reports, never to history.
	PhotosOfDays(ctx context.Context, days []string) ([]Photo, error)
}

// PhotoSweeper deletes the uploaded photo versions no report points to: abandoned uploads (with their
// metadata), the originals of stripped photos, and anything posted to a key after it was checked. A day's
// photos may be attached only by reports created or resolved that day or the next (VerifyPhotos refuses
// older keys), so once the day is two days old its versions are final: every version under the day's
// prefix that no report of those two days records is deleted. Deleting is free in S3 (DeleteObjects); a
// day costs one listing call per 1,000 versions and its reports' reads.
type PhotoSweeper struct {
	reports AttachedPhotos
	photos  PhotoStore
	tz      *time.Location
	now     func() time.Time
}

// NewPhotoSweeper returns a PhotoSweeper over the city's local days in tz.
func NewPhotoSweeper(reports AttachedPhotos, photos PhotoStore, tz *time.Location, now func() time.Time) *PhotoSweeper {
	if tz == nil {
		tz = time.UTC
	}
	return &PhotoSweeper{reports: reports, photos: photos, tz: tz, now: now}
}

// SweepGrace is how long past the end of a day's second day its sweep waits: a report that checked its
// photos just before midnight commits, and reaches the day index, within it.
const SweepGrace = time.Hour

// SweepLookback is how many days a run sweeps, the most recent due day and those before it, so a daily run
// that failed (or did not run) is made good by the next ones. Sweeping a day again finds only what its
// reports point to and deletes nothing.
const SweepLookback = 3

// ErrSweepTooEarly: the day's photos may still be attached by a report.
var ErrSweepTooEarly = errors.New("the day's photos may still be attached: it is not two days old")

// SweepResult is what a day's sweep found and did.
type SweepResult struct {
	Day      string
	Versions int // versions (and deletion markers) listed under the day
	Kept     int // those a report points to
	Deleted  int
}

// Due returns the days a run now sweeps, oldest first: the SweepLookback most recent days that are at
// least two days (and SweepGrace) old.
func (s *PhotoSweeper) Due() []string {
	t := s.now().Add(-SweepGrace).In(s.tz)
	last := time.Date(t.Year(), t.Month(), t.Day()-2, 0, 0, 0, 0, s.tz)
	days := make([]string, SweepLookback)
	for i := range days {
		days[i] = last.AddDate(0, 0, i+1-SweepLookback).Format(dayLayout)
	}
	return days
}

// Sweep deletes the versions under day's upload prefix that no report created or resolved on day or the
// next points to. It refuses a day that is not yet due (ErrSweepTooEarly).
func (s *PhotoSweeper) Sweep(ctx context.Context, day string) (SweepResult, error) {
	res := SweepResult{Day: day}
	d, err := time.ParseInLocation(dayLayout, day, s.tz)
	if err != nil {
		return res, fmt.Errorf("sweep photos of %q: not a day: %w", day, err)
	}
	if s.now().Before(d.AddDate(0, 0, 2).Add(SweepGrace)) {
		return res, fmt.Errorf("sweep photos of %s: %w", day, ErrSweepTooEarly)
	}
	attached, err := s.reports.PhotosOfDays(ctx, []string{day, d.AddDate(0, 0, 1).Format(dayLayout)})
	if err != nil {
		return res, fmt.Errorf("sweep photos of %s: read its reports: %w", day, err)
	}
	keep := make(map[PhotoVersion]bool, len(attached))
	keepAll := map[string]bool{} // recorded without a version: every version of the key stays
	for _, p := range attached {
		if p.VersionID == "" {
			keepAll[p.Key] = true
		}
		keep[PhotoVersion{Key: p.Key, VersionID: p.VersionID}] = true
	}
	err = s.photos.ListVersions(ctx, UploadDayPrefix(day), func(page []PhotoVersion) error {
		var drop []PhotoVersion
		for _, v := range page {
			res.Versions++
			if keep[v] || keepAll[v.Key] {
				res.Kept++
				continue
			}
			drop = append(drop, v)
		}
		if len(drop) == 0 {
			return nil
		}
		if err := s.photos.DeleteVersions(ctx, drop...); err != nil {
			return err
		}
		res.Deleted += len(drop)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("sweep photos of %s: %w", day, err)
	}
	return res, nil
}
