package accrualfn

import (
	"context"
	"time"

	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// noticeStore is what the resolution's notices read: the awards the resolution made, the reporter's
// honors, and the reporters of its duplicates (only when confirmation awards are on).
type noticeStore interface {
	Awards(ctx context.Context, keys []points.Award) ([]points.Award, error)
	Profile(ctx context.Context, sub string) (points.Profile, error)
	DuplicateReporters(ctx context.Context, reportID string) ([]points.DuplicateRef, error)
}

// resolvedNotices posts, once the awards are made, the reporter's resolution notice (the proof photo,
// the points it earned and the honors they brought: one notice, not three) and each duplicate reporter's
// confirmation award. A redelivered record awards nothing again and posts the same notices, which the
// inbox keeps once. Reads: 1 BatchGetItem of the awards, + 1 GetItem of the profile when points were
// granted, + the duplicates' Query when confirmation awards are on (as OnResolved made it already).
func (f *Function) resolvedNotices(ctx context.Context, r report.Report, at time.Time) error {
	rules, err := f.svc.Rules(ctx)
	if err != nil {
		return err
	}
	keys := []points.Award{points.AwardKey(r.ID, r.ReporterSub, points.RuleReport, at)}
	if rules.DuplicateAward > 0 {
		dups, err := f.store.DuplicateReporters(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, d := range dups {
			keys = append(keys, points.AwardKey(r.ID, d.ReporterSub, points.RuleConfirm, at))
		}
	}
	awards, err := f.store.Awards(ctx, keys)
	if err != nil {
		return err
	}
	var own *points.Award
	var notices []notify.Notice
	for i, a := range awards {
		if a.Rule == points.RuleReport && a.Sub == r.ReporterSub {
			own = &awards[i]
		} else if n, ok := notify.Confirmed(a); ok {
			notices = append(notices, n)
		}
	}
	var honors []points.EarnedHonor
	if own != nil && own.Granted > 0 && len(rules.Honors) > 0 {
		p, err := f.store.Profile(ctx, r.ReporterSub)
		if err != nil {
			return err
		}
		honors = p.Honors
	}
	if n, ok := notify.Resolved(r, own, honors); ok {
		notices = append([]notify.Notice{n}, notices...)
	}
	for _, n := range notices {
		if err := f.inbox.Post(ctx, n); err != nil {
			return err
		}
		f.log.InfoContext(ctx, "notice posted", "reportId", r.ID, "kind", n.Kind, "notificationId", n.ID)
	}
	return nil
}
