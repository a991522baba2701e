package dispatch

import (
	"context"
	"fmt"
	"strconv"

	"github.com/civicsnap/civicsnap/shared/report"
)

// NotifyReopened tells a reopened report's lead department that its reporter contested the resolution
// (report.reopened on the outbox, shaped as a dispatch, with the new SLA deadline). The notice's id names
// the reopening (the contest's time), so a stream record delivered again enqueues the same notice, which
// notify delivers once. A report that moved on meanwhile (accepted again) needs no notice.
func (s *Service) NotifyReopened(ctx context.Context, id string) error {
	r, err := s.store.GetReport(ctx, id)
	if err != nil {
		return fmt.Errorf("read reopened %s: %w", id, err)
	}
	if r.Status != report.Reopened || r.Feedback == nil {
		return nil
	}
	lead, ok := r.Assignment(r.LeadDept)
	if !ok {
		return nil
	}
	cfg, err := s.dir.Get(ctx)
	if err != nil {
		return err
	}
	dept, ok := cfg.Departments[lead.Dept]
	if !ok {
		return nil
	}
	reason := "the reporter says it is not fixed"
	if c := r.Feedback.Comment; c != "" {
		reason += ": " + c
	}
	seq := strconv.FormatInt(r.Feedback.At.UnixMilli(), 10)
	return s.outbox.Enqueue(ctx, []Notification{AssignmentNotice("reopened", seq, r, lead, dept, reason, r.Feedback.At)})
}
