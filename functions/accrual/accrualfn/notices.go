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
// inbox keeps once. When this call made every award (g.Complete, the first delivery) the notices are
// built from what it wrote: no reads. Otherwise (a redelivery): 1 BatchGetItem of the awards, + 1 GetItem
// of the profile when points were granted, + the duplicates' Query when confirmation awards are on.
func (f *Function) resolvedNotices(ctx context.Context, r report.Report, at time.Time, g points.Granted) error {
	if g.Complete {
		return f.post(ctx, r, g.Own, g.Honors, g.Confirmations)
	}
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
	var confirmations []points.Award
	for i, a := range awards {
		if a.Rule == points.RuleReport && a.Sub == r.ReporterSub {
			own = &awards[i]
		} else {
			confirmations = append(confirmations, a)
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
	return f.post(ctx, r, own, honors, confirmations)
}

// post posts the resolution's notice and the confirmation awards' notices.
func (f *Function) post(ctx context.Context, r report.Report, own *points.Award, honors []points.EarnedHonor, confirmations []points.Award) error {
	var notices []notify.Notice
	for _, a := range confirmations {
		if n, ok := notify.Confirmed(a); ok {
			notices = append(notices, n)
		}
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
