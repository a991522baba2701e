package dispatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// ErrAlreadyHandled is returned by a store when a conditional write finds the report already moved on: a
// redelivered stream record, which is a successful no-op.
var ErrAlreadyHandled = apperr.New(apperr.Conflict, "already_handled", "the report was already handled")

// Store is what dispatch reads and writes.
type Store interface {
	// Nearby returns the reports of category filed under cell since the given time (one Query) with their
	// id, category, location and creation time; not their status or privacy, which Standings reads.
	Nearby(ctx context.Context, category, cell string, since time.Time) ([]report.Report, error)
	// Standings returns what the duplicate rule needs of each report that exists: its current status and
	// whether it was filed as not public.
	Standings(ctx context.Context, ids []string) (map[string]Standing, error)
	// MarkDuplicate moves a submitted report to duplicate, linked to original, and then adds the timeline
	// entry. ErrAlreadyHandled if it is no longer submitted.
	MarkDuplicate(ctx context.Context, r report.Report, original string, entry report.TimelineEntry) error
	// Dispatch moves a submitted report to status with lead (the commit: one conditional write) and then
	// writes its assignments as CompleteDispatch does. ErrAlreadyHandled if it is no
	// longer submitted.
	Dispatch(ctx context.Context, r report.Report, status report.Status, lead string, as []report.Assignment, entry report.TimelineEntry) error
	// CompleteDispatch writes a dispatched report's assistants' assignments and then its lead's (which
	// implies the dispatch's timeline entry), each only if absent: safe to repeat, and the lead's assignment
	// present means all are.
	CompleteDispatch(ctx context.Context, r report.Report, as []report.Assignment) error
	// AddTimelineEntry writes a timeline entry unless it exists.
	AddTimelineEntry(ctx context.Context, id string, entry report.TimelineEntry) error
	// GetReport returns the report with its timeline and assignments.
	GetReport(ctx context.Context, id string) (report.Report, error)
	// Overdue returns a page of open, not yet overdue assignments whose deadline is before now, from an
	// index that may lag (it can still list one escalated a moment ago), and the next page's cursor ("" at
	// the end).
	Overdue(ctx context.Context, now time.Time, limit int, cursor string) ([]OverdueAssignment, string, error)
	// ClaimEscalation takes o's escalation lease (o.Claim) until the given time, conditionally: false if
	// the assignment is overdue already, closed, or leased to another claim that has not expired.
	ClaimEscalation(ctx context.Context, o OverdueAssignment, now, until time.Time) (bool, error)
	// MarkOverdue flags one assignment overdue, once, while its lease is still o.Claim: false otherwise.
	MarkOverdue(ctx context.Context, o OverdueAssignment, entry report.TimelineEntry) (bool, error)
}

// Standing is a candidate original's current status and whether its reporter filed it as not public.
type Standing struct {
	Status  report.Status
	Private bool
}

// OverdueAssignment identifies an assignment past its deadline.
type OverdueAssignment struct {
	ReportID    string
	Dept        string
	SLADeadline time.Time
	Claim       string // the escalation lease's token, set by Escalate
}

// escalationLease is how long a sweep holds an assignment it is escalating: longer than a sweep runs (the
// function's timeout is 60 s), so only a sweep that died mid-way loses it, and the next one repeats the
// notification (the same webhook-ids, which receivers drop) and marks it.
const escalationLease = 5 * time.Minute

// Settings of dispatch.
type Settings struct {
	DuplicateRadius float64       // metres (50)
	DuplicateWindow time.Duration // (72 h)
	// Dispatched, when set, is told of each report dispatch moved to dispatched, as the commit left it
	// (status, lead, updatedAt = the dispatch's time), once its lead's assignment is written: by the
	// delivery that dispatched it and again by every redelivery, whatever the report's status by then, so
	// an effect keyed by the report and that time (the reporter's notice) happens once even if the
	// function stopped after the commit. The stream's filter no longer delivers that change a second time.
	Dispatched func(ctx context.Context, r report.Report) error
}

// Service dispatches new reports and escalates late ones.
type Service struct {
	store    Store
	dir      *Directory
	outbox   Outbox
	settings Settings
	now      func() time.Time
}

// NewService returns a Service.
func NewService(store Store, dir *Directory, outbox Outbox, s Settings, now func() time.Time) *Service {
	if s.DuplicateRadius == 0 {
		s.DuplicateRadius = 50
	}
	if s.DuplicateWindow == 0 {
		s.DuplicateWindow = 72 * time.Hour
	}
	return &Service{store: store, dir: dir, outbox: outbox, settings: s, now: now}
}

// Outcome says what Dispatch did.
type Outcome string

// Outcomes of Dispatch.
const (
	Dispatched  Outcome = "dispatched"
	Triage      Outcome = "needs_triage"
	Duplicated  Outcome = "duplicate"
	Redelivered Outcome = "redelivered" // the report had been handled; notifications were sent again
	Skipped     Outcome = "skipped"     // not a submitted report
)

// Dispatch handles a newly submitted report: a duplicate of an open report nearby is linked to it;
// otherwise the best rule assigns a lead and assistants (or the command center takes it), and each gets a
// notification. Safe to repeat: a second delivery finds the report handled and only re-enqueues the
// notifications, whose ids are stable.
func (s *Service) Dispatch(ctx context.Context, r report.Report) (Outcome, error) {
	if r.Status != report.Submitted {
		return Skipped, nil
	}
	cfg, err := s.dir.Get(ctx)
	if err != nil {
		return "", err
	}
	now := s.now().UTC().Truncate(time.Millisecond)

	original, err := s.findOriginal(ctx, r)
	if err != nil {
		return "", err
	}
	if original != "" {
		entry := report.TimelineEntry{At: now, Status: report.Duplicate, Actor: "system", Note: "duplicate of " + original}
		err := s.store.MarkDuplicate(ctx, r, original, entry)
		if errors.Is(err, ErrAlreadyHandled) {
			return s.redeliver(ctx, r.ID, cfg)
		}
		if err != nil {
			return "", fmt.Errorf("mark %s duplicate: %w", r.ID, err)
		}
		return Duplicated, nil
	}

	status, lead, as, entry := plan(cfg, r, now)
	outcome := Dispatched
	if status == report.NeedsTriage {
		outcome = Triage
	}
	err = s.store.Dispatch(ctx, r, status, lead, as, entry)
	if errors.Is(err, ErrAlreadyHandled) {
		return s.redeliver(ctx, r.ID, cfg)
	}
	if err != nil {
		return "", fmt.Errorf("dispatch %s: %w", r.ID, err)
	}
	r.Status, r.LeadDept, r.Assignments = status, lead, as
	if err := s.outbox.Enqueue(ctx, notices(r, as, cfg, now)); err != nil {
		return "", fmt.Errorf("enqueue notifications for %s: %w", r.ID, err)
	}
	if err := s.tellDispatched(ctx, r); err != nil {
		return "", err
	}
	return outcome, nil
}

// tellDispatched calls Settings.Dispatched with r as its dispatch to dispatched left it: the dispatch the
// assignments record (DispatchedAs, DispatchedAt), none for a report the command center took or a duplicate.
func (s *Service) tellDispatched(ctx context.Context, r report.Report) error {
	if s.settings.Dispatched == nil {
		return nil
	}
	for _, a := range r.Assignments {
		if a.DispatchedAs == report.Dispatched && !a.DispatchedAt.IsZero() {
			d := r
			d.Status, d.LeadDept, d.UpdatedAt = report.Dispatched, a.Dept, a.DispatchedAt
			if err := s.settings.Dispatched(ctx, d); err != nil {
				return fmt.Errorf("tell of %s dispatched: %w", r.ID, err)
			}
			return nil
		}
	}
	return nil
}

func notices(r report.Report, as []report.Assignment, cfg *Config, now time.Time) []Notification {
	ns := make([]Notification, 0, len(as))
	for _, a := range as {
		if a.Closed {
			continue
		}
		dept, ok := cfg.Departments[a.Dept]
		if !ok {
			dept = Department{ID: a.Dept}
		}
		ns = append(ns, AssignmentNotice("dispatched", "", r, a, dept, "", now))
	}
	return ns
}

// plan is the dispatch of report r at now: the best rule's lead and assistants (or the command center, when
// no rule matches), their assignments and the timeline entry.
func plan(cfg *Config, r report.Report, now time.Time) (report.Status, string, []report.Assignment, report.TimelineEntry) {
	cat := cfg.Categories[r.Category]
	slaHours := cat.SLAHours
	status, lead := report.Dispatched, CommandCenter
	var assists []string
	escalation := CommandCenter
	pt := orb.Point{r.Location.Lng, r.Location.Lat}
	if rule, ok := cfg.Engine.Match(Input{Category: r.Category, Location: pt, Description: r.Description, At: r.CreatedAt}); ok {
		lead, assists = rule.Lead, rule.Assists
		if rule.SLAHours > 0 {
			slaHours = rule.SLAHours
		}
		if rule.Escalation != "" {
			escalation = rule.Escalation
		}
	} else {
		status = report.NeedsTriage
	}
	if slaHours <= 0 {
		slaHours = 72
	}
	deadline := now.Add(time.Duration(slaHours) * time.Hour)
	as := []report.Assignment{{Dept: lead, Role: report.Lead, Status: status, AssignedAt: now, SLADeadline: deadline, Escalation: escalation}}
	for _, d := range assists {
		if d != lead && !slices.ContainsFunc(as, func(a report.Assignment) bool { return a.Dept == d }) {
			as = append(as, report.Assignment{Dept: d, Role: report.Assist, Status: status, AssignedAt: now, SLADeadline: deadline, Escalation: escalation})
		}
	}
	// The dispatch's timeline entry is implied by the lead's assignment (report.DispatchEntry), not stored.
	as[0].DispatchedAt, as[0].DispatchedAs = now, status
	return status, lead, as, report.DispatchEntry(now, status, lead)
}

// redeliver handles a record whose report was handled already (a redelivered stream record, or a retry
// after a failure): it completes a dispatch or a duplicate link whose later writes did not all happen (the
// report's write is the commit; the function may have stopped after it) and re-enqueues the notifications
// (whose enqueue may have failed after the writes; their ids are stable).
func (s *Service) redeliver(ctx context.Context, id string, cfg *Config) (Outcome, error) {
	r, err := s.store.GetReport(ctx, id)
	if err != nil {
		return "", fmt.Errorf("reload %s: %w", id, err)
	}
	switch r.Status {
	case report.Dispatched, report.NeedsTriage:
		if a, ok := r.Assignment(r.LeadDept); !ok || a.Pending {
			// The lead's assignment is written last, and nobody can act on the report before it exists, so
			// the report is as its dispatch left it: plan it again as of then and write what is missing.
			as := replan(cfg, r)
			if err := s.store.CompleteDispatch(ctx, r, as); err != nil {
				return "", fmt.Errorf("complete the dispatch of %s: %w", id, err)
			}
			r.Assignments = as
		}
		if err := s.outbox.Enqueue(ctx, notices(r, r.Assignments, cfg, s.now())); err != nil {
			return "", fmt.Errorf("re-enqueue notifications for %s: %w", id, err)
		}
	case report.Duplicate:
		if r.DuplicateOf != "" && !slices.ContainsFunc(r.Timeline, func(e report.TimelineEntry) bool { return e.Status == report.Duplicate }) {
			entry := report.TimelineEntry{At: r.UpdatedAt, Status: report.Duplicate, Actor: "system", Note: "duplicate of " + r.DuplicateOf}
			if err := s.store.AddTimelineEntry(ctx, r.ID, entry); err != nil {
				return "", fmt.Errorf("complete the duplicate link of %s: %w", id, err)
			}
		}
	}
	if err := s.tellDispatched(ctx, r); err != nil {
		return "", err
	}
	return Redelivered, nil
}

// findOriginal returns the id of the earliest open public report of the same category within the radius
// and window, or "". It queries the few geohash cells covering the circle, never the whole table, and then
// reads the standing of the candidates within the radius only (usually none).
//
// A report filed as not public is never an original, of anyone's report (its own reporter's included): a
// duplicate is off the public map and names its original (duplicateOf, and the timeline note Open311's
// keyless answers show), so a public report linked to a private one would vanish from the map while
// telling the public that a report it must not know of exists within the radius. A private report may
// still be the duplicate of a public original, which reveals nothing the map does not show.
func (s *Service) findOriginal(ctx context.Context, r report.Report) (string, error) {
	p := orb.Point{r.Location.Lng, r.Location.Lat}
	since := r.CreatedAt.Add(-s.settings.DuplicateWindow)
	var candidates []report.Report
	var ids []string
	for _, cell := range Cells(p, s.settings.DuplicateRadius) {
		near, err := s.store.Nearby(ctx, r.Category, cell, since)
		if err != nil {
			return "", fmt.Errorf("find reports near %s: %w", r.ID, err)
		}
		for _, c := range near {
			if c.ID == r.ID || !earlier(&c, &r) || slices.Contains(ids, c.ID) ||
				Distance(p, orb.Point{c.Location.Lng, c.Location.Lat}) > s.settings.DuplicateRadius {
				continue
			}
			candidates, ids = append(candidates, c), append(ids, c.ID)
		}
	}
	if len(candidates) == 0 {
		return "", nil
	}
	standings, err := s.store.Standings(ctx, ids)
	if err != nil {
		return "", fmt.Errorf("standings of reports near %s: %w", r.ID, err)
	}
	var best *report.Report
	for i := range candidates {
		c := &candidates[i]
		if st, ok := standings[c.ID]; !ok || !st.Status.Open() || st.Private {
			continue
		}
		if best == nil || earlier(c, best) {
			best = c
		}
	}
	if best == nil {
		return "", nil
	}
	return best.ID, nil
}

// replan is the plan of dispatched report r as of its dispatch, held to the status and lead the dispatch
// committed (when the rules changed since: the committed lead alone, on the category's deadline). The
// dispatch's instant is its assignments' (an assistant's may exist, and may have added a note since) or,
// when none was written, the report's updatedAt, which nothing else can have moved.
func replan(cfg *Config, r report.Report) []report.Assignment {
	at := r.UpdatedAt
	if len(r.Assignments) > 0 {
		at = r.Assignments[0].AssignedAt
	}
	status, lead, as, _ := plan(cfg, r, at)
	if status == r.Status && lead == r.LeadDept {
		return as
	}
	hours := cfg.Categories[r.Category].SLAHours
	if hours <= 0 {
		hours = 72
	}
	as = []report.Assignment{{Dept: r.LeadDept, Role: report.Lead, Status: r.Status, AssignedAt: at,
		SLADeadline: at.Add(time.Duration(hours) * time.Hour), Escalation: CommandCenter, DispatchedAt: at, DispatchedAs: r.Status}}
	return as
}

// earlier orders reports by creation, ties by id, so two reports can never be each other's duplicate.
func earlier(a, b *report.Report) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// Escalate flags assignments past their deadline overdue (督办), once each, and notifies the rule's
// escalation department and the command center. It returns how many it escalated.
//
// Exactly once, although the SLA index may lag and sweeps may overlap: each assignment is first claimed
// with a conditional write (open, not overdue, no live lease of another sweep), and only the claimant
// notifies and then marks it overdue under its lease. The index is read once, page after page, so a lagging
// index cannot make a sweep loop over assignments it has just escalated.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	cfg, err := s.dir.Get(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	n := 0
	cursor := ""
	for {
		late, next, err := s.store.Overdue(ctx, now, 100, cursor)
		if err != nil {
			return n, fmt.Errorf("find overdue assignments: %w", err)
		}
		for _, o := range late {
			o.Claim = rand.Text()
			claimed, err := s.store.ClaimEscalation(ctx, o, now, now.Add(escalationLease))
			if err != nil {
				return n, fmt.Errorf("claim %s/%s: %w", o.ReportID, o.Dept, err)
			}
			if !claimed {
				continue // escalated already (the index lags), closed, or another sweep has it
			}
			// Notify, then mark: a crash in between repeats the notification after the lease (same
			// webhook-id, so receivers drop it) rather than losing it.
			r, err := s.store.GetReport(ctx, o.ReportID)
			if err != nil {
				return n, err
			}
			a, _ := r.Assignment(o.Dept)
			targets := []string{CommandCenter}
			if a.Escalation != "" && a.Escalation != CommandCenter {
				targets = append([]string{a.Escalation}, targets...)
			}
			var ns []Notification
			for _, t := range targets {
				dept, ok := cfg.Departments[t]
				if !ok {
					dept = Department{ID: t}
				}
				ns = append(ns, AssignmentNotice("escalated", o.Dept, r, a, dept, o.Dept+" missed its deadline", now))
			}
			if err := s.outbox.Enqueue(ctx, ns); err != nil {
				return n, err
			}
			entry := report.TimelineEntry{At: now, Status: r.Status, Actor: "system", Note: "督办: " + o.Dept + " is past its deadline"}
			marked, err := s.store.MarkOverdue(ctx, o, entry)
			if err != nil {
				return n, fmt.Errorf("mark %s/%s overdue: %w", o.ReportID, o.Dept, err)
			}
			if marked {
				n++
			}
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}
