package report_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
)

// attached is an in-memory report.AttachedPhotos: the photos of each day's reports.
type attached struct {
	byDay map[string][]report.Photo
	asked [][]string
}

func (a *attached) PhotosOfDays(_ context.Context, days []string) ([]report.Photo, error) {
	a.asked = append(a.asked, days)
	var out []report.Photo
	for _, d := range days {
		out = append(out, a.byDay[d]...)
	}
	return out, nil
}

func TestPhotoSweeperDue(t *testing.T) {
	tz := shanghai(t)
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{time.Date(2026, 11, 30, 3, 0, 0, 0, tz), []string{"2026-11-26", "2026-11-27", "2026-11-28"}},
		{time.Date(2026, 11, 30, 0, 59, 0, 0, tz), []string{"2026-11-25", "2026-11-26", "2026-11-27"}}, // within the grace
		{time.Date(2026, 3, 2, 0, 30, 0, 0, tz), []string{"2026-02-25", "2026-02-26", "2026-02-27"}},   // across a month end
	} {
		s := report.NewPhotoSweeper(&attached{}, newMemBucket(), tz, func() time.Time { return tc.at })
		if got := s.Due(); !slices.Equal(got, tc.want) {
			t.Errorf("Due at %s = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestPhotoSweeperSweepsADay(t *testing.T) {
	tz := shanghai(t)
	clean := cleanJPEG(t)
	b := newMemBucket()
	b.pageSize = 2 // several pages, a DeleteVersions each
	const day = "2026-11-27"
	k := func(d string, i int) string { return uploadKey(d, i) }
	pin := func(key, v string) report.Photo { return report.Photo{Key: key, VersionID: v} }

	attachedClean := b.upload(k(day, 1), "image/jpeg", clean)
	strippedOriginal := b.upload(k(day, 2), "image/jpeg", withEXIF(clean))
	stripped := b.upload(k(day, 2), "image/jpeg", clean) // written by VerifyPhotos
	verified := b.upload(k(day, 3), "image/jpeg", clean)
	reupload := b.upload(k(day, 3), "image/jpeg", withEXIF(clean)) // posted again after the check
	abandoned := b.upload(k(day, 4), "image/jpeg", withEXIF(clean))
	proof := b.upload(k(day, 5), "image/jpeg", clean) // a proof photo, the resolution the next day
	legacy := b.upload(k(day, 6), "image/jpeg", clean)
	legacyAgain := b.upload(k(day, 6), "image/jpeg", clean)
	before := b.upload(k("2026-11-26", 1), "image/jpeg", clean)
	after := b.upload(k("2026-11-28", 1), "image/jpeg", clean)

	a := &attached{byDay: map[string][]report.Photo{
		day:          {pin(k(day, 1), attachedClean), pin(k(day, 2), stripped), pin("reports/r0/1.jpg", "")},
		"2026-11-28": {pin(k(day, 3), verified), pin(k(day, 5), proof), pin(k(day, 6), "")},
	}}
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, tz).AddDate(0, 0, 1).Add(report.SweepGrace)
	s := report.NewPhotoSweeper(a, b, tz, func() time.Time { return now })
	res, err := s.Sweep(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.asked[0], []string{day, "2026-11-28"}) {
		t.Errorf("read the reports of %v, want the day and the next", a.asked[0])
	}
	if res.Versions != 9 || res.Kept != 6 || res.Deleted != 3 {
		t.Errorf("swept %+v, want 9 versions, 6 kept, 3 deleted", res)
	}
	for _, v := range []struct {
		key, id string
		kept    bool
		what    string
	}{
		{k(day, 1), attachedClean, true, "a report's clean photo"},
		{k(day, 2), strippedOriginal, false, "a stripped photo's original"},
		{k(day, 2), stripped, true, "a report's stripped photo"},
		{k(day, 3), verified, true, "the checked version of a re-uploaded key"},
		{k(day, 3), reupload, false, "a re-upload after the check"},
		{k(day, 4), abandoned, false, "an abandoned upload"},
		{k(day, 5), proof, true, "a proof photo resolved the next day"},
		{k(day, 6), legacy, true, "a photo recorded without a version (every version)"},
		{k(day, 6), legacyAgain, true, "a photo recorded without a version (every version)"},
		{k("2026-11-26", 1), before, true, "the day before's upload"},
		{k("2026-11-28", 1), after, true, "the day after's upload"},
	} {
		if _, ok := b.version(v.key, v.id); ok != v.kept {
			t.Errorf("%s (%s %s): kept %v, want %v", v.what, v.key, v.id, ok, v.kept)
		}
	}
	// A second sweep of the day finds only what reports point to.
	deletes := b.deletes
	if res, err := s.Sweep(context.Background(), day); err != nil || res.Deleted != 0 || res.Kept != 6 {
		t.Errorf("second sweep: %+v, %v; want nothing deleted, 6 kept", res, err)
	}
	if b.deletes != deletes {
		t.Errorf("second sweep made %d delete calls, want none", b.deletes-deletes)
	}
}

func TestPhotoSweeperRefusesADayNotYetDue(t *testing.T) {
	tz := shanghai(t)
	b := newMemBucket()
	key := uploadKey("2026-11-28", 1)
	v := b.upload(key, "image/jpeg", cleanJPEG(t))
	a := &attached{}
	now := time.Date(2026, 11, 30, 0, 59, 0, 0, tz) // two days, less the grace
	s := report.NewPhotoSweeper(a, b, tz, func() time.Time { return now })
	for _, day := range []string{"2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"} {
		if _, err := s.Sweep(context.Background(), day); !errors.Is(err, report.ErrSweepTooEarly) {
			t.Errorf("Sweep(%s) at %s = %v, want ErrSweepTooEarly", day, now, err)
		}
	}
	if _, err := s.Sweep(context.Background(), "28 Nov"); err == nil {
		t.Error("Sweep of a non-day succeeded")
	}
	if _, ok := b.version(key, v); !ok || len(a.asked) != 0 {
		t.Errorf("a refused sweep deleted the upload (%v) or read reports (%v)", !ok, a.asked)
	}
}
