// Package casework is what departments do with the reports assigned to them: accept, report progress,
// resolve with proof-of-fix photos, reject, and (the command center) reassign. Department systems call in
// with signed webhooks; staff without a system use the staff API. Both end here, under the same rules.
package casework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// ChangeSet is everything one transition writes, in one transaction.
type ChangeSet struct {
	Report      report.Report // as it was read
	To          report.Status // the new status
	Entry       report.TimelineEntry
	Assignments []report.Assignment // the new state of every assignment to (re)write
	LeadDept    string              // the lead after the change
	Reason      string
	ProofPhotos []report.Photo
	InboundDept string // with InboundID: the signed event applied, remembered to refuse its replay
	InboundID   string
	// Attempt names this change (fresh per request): the store recognises its own write in the report
	// when the same transaction is sent twice.
	Attempt string
}

// Store reads and writes casework.
type Store interface {
	// ReportForDept returns the report with its assignments and the ids of inbound events already applied.
	ReportForDept(ctx context.Context, id string) (report.Report, map[string]bool, error)
	// Apply writes a ChangeSet if the report is still in the status it was read in (else
	// dispatch.ErrAlreadyHandled: a concurrent change won, the caller may retry).
	Apply(ctx context.Context, c ChangeSet) error
	// Queue lists a department's open assignments in one status, most urgent first.
	Queue(ctx context.Context, dept string, status report.Status, limit int, cursor string) ([]QueueItem, string, error)
}

// QueueItem is one line of a department's queue.
type QueueItem struct {
	ReportID    string          `json:"reportId"`
	Role        report.Role     `json:"role"`
	Status      report.Status   `json:"status"`
	Category    string          `json:"category"`
	Description string          `json:"description"`
	Location    report.Location `json:"location"`
	Address     string          `json:"address,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
	SLADeadline time.Time       `json:"slaDeadline"`
	Overdue     bool            `json:"overdue"`
	// MeToo: citizens who added "me too" to the report (a priority hint).
	MeToo int `json:"meToo"`
}

// PhotoMover checks proof-of-fix photos where they were uploaded and pins each to the version checked
// (report.Service does this).
type PhotoMover interface {
	VerifyPhotos(ctx context.Context, owner string, keys []string) ([]report.Photo, error)
	DeletePhotos(ctx context.Context, photos []report.Photo) error
}

// Secrets returns a signing secret by reference.
type Secrets interface {
	Secret(ctx context.Context, ref string) (string, error)
}

// Refresher is a Secrets whose cached secret can be read again (secretstore.Store): a signature that does
// not verify with the cached secret is checked once more with a fresh read when the secret changed, so a
// department's rotation is honoured at once though secrets are cached for hours.
type Refresher interface {
	Refresh(ctx context.Context, ref string) (value string, changed bool, err error)
}

// Service applies departments' changes.
type Service struct {
	store   Store
	photos  PhotoMover
	dir     *dispatch.Directory
	outbox  dispatch.Outbox
	secrets Secrets
	now     func() time.Time
}

// NewService returns a Service.
func NewService(store Store, photos PhotoMover, dir *dispatch.Directory, outbox dispatch.Outbox, secrets Secrets, now func() time.Time) *Service {
	return &Service{store: store, photos: photos, dir: dir, outbox: outbox, secrets: secrets, now: now}
}

// VerifyInbound checks a department system's signed request on its raw body (Standard Webhooks, 5-minute
// tolerance) with that department's secret. Nothing may parse the body before this passes.
func (s *Service) VerifyInbound(ctx context.Context, dept string, body []byte, h http.Header) error {
	cfg, err := s.dir.Get(ctx)
	if err != nil {
		return err
	}
	d, ok := cfg.Departments[dept]
	if !ok {
		return ErrUnknownDept
	}
	if d.SecretRef == "" {
		return webhook.ErrInvalidSignature.With("department %s has no signing secret", dept)
	}
	secret, err := s.secrets.Secret(ctx, d.SecretRef)
	if err != nil {
		return fmt.Errorf("signing secret of %s: %w", dept, err)
	}
	err = webhook.Verify(secret, body, h, s.now())
	r, ok := s.secrets.(Refresher)
	if !ok || !errors.Is(err, webhook.ErrInvalidSignature) {
		return err
	}
	fresh, changed, rerr := r.Refresh(ctx, d.SecretRef)
	if rerr != nil {
		return fmt.Errorf("signing secret of %s: %w", dept, rerr)
	}
	if !changed {
		return err
	}
	return webhook.Verify(fresh, body, h, s.now())
}

// Request is one change asked for by a department.
type Request struct {
	Dept        string // the acting department
	ReportID    string
	Change      report.Change
	PhotoOwner  string // whose pending uploads proof photos must be: a staff sub, or "dept-<id>"
	InboundID   string // webhook-id of a signed event; "" for the staff API
	ActorIsUser bool
}

// Result of Apply.
type Result struct {
	Report   report.Report `json:"report"`
	Replayed bool          `json:"replayed,omitempty"`
}

// ErrUnknownDept is returned for a department that does not exist.
var ErrUnknownDept = apperr.New(apperr.NotFound, "department_not_found", "no such department")

// ErrAssignmentPending answers a department of a report whose dispatch has committed (the report is
// dispatched, or needs_triage, and shows the assignments as its commit decided them) but has not written
// the lead's assignment item yet: dispatch writes it right after the commit, or its stream record's redelivery does
// if the function stopped in between. Nothing is written; the same request applies once the item exists.
//
// Casework does not write the pending assignment itself: dispatch writes the assistants' assignments
// before the lead's, and its redelivery completes a dispatch only while the report is still as the commit
// left it (dispatched or needs_triage, its lead's item absent). An acceptance that wrote the lead's item
// would end both: an assistant not yet written would never be, and its notice never sent. The commit names
// the assistants too, so one acting in the window is told the same; a department the dispatch did not
// summon still gets report_not_found, which reveals nothing.
var ErrAssignmentPending = &apperr.Error{Kind: apperr.Conflict, Code: "assignment_pending", RetryAfter: time.Second,
	Message: "the report's dispatch to your department is still being written; send the same request again after Retry-After"}

// maxNote bounds a public note.
const maxNote = 1000

// Apply applies req. A replayed signed event is acknowledged without being applied again.
func (s *Service) Apply(ctx context.Context, req Request) (Result, error) {
	cfg, err := s.dir.Get(ctx)
	if err != nil {
		return Result{}, err
	}
	if _, ok := cfg.Departments[req.Dept]; !ok {
		return Result{}, ErrUnknownDept
	}
	if len([]rune(req.Change.Note)) > maxNote {
		return Result{}, report.ErrDescription.With("a note must be at most %d characters", maxNote)
	}
	r, seen, err := s.store.ReportForDept(ctx, req.ReportID)
	if errors.Is(err, report.ErrNotFound) {
		return Result{}, report.ErrNotAssigned
	}
	if err != nil {
		return Result{}, err
	}
	if req.InboundID != "" && seen[req.Dept+"#"+req.InboundID] {
		return Result{Report: r, Replayed: true}, nil
	}
	mine, ok := r.Assignment(req.Dept)
	if !ok {
		return Result{}, report.ErrNotAssigned
	}
	if mine.Pending {
		return Result{}, ErrAssignmentPending
	}
	cc := req.Dept == dispatch.CommandCenter
	to, err := report.Next(r.Status, mine.Role, cc, req.Change)
	if err != nil {
		return Result{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	cs := ChangeSet{Report: r, To: to, LeadDept: r.LeadDept, InboundID: req.InboundID, InboundDept: req.Dept,
		Entry: report.TimelineEntry{At: now, Status: to, Actor: req.Dept, Note: req.Change.Note}}
	var notify []dispatch.Notification

	switch req.Change.Action {
	case report.Reject:
		cs.Reason = req.Change.Reason
		if to == report.NeedsTriage {
			// Not ours: the department steps back and the command center takes the report.
			cs.Assignments = closeAll(r.Assignments, to)
			cc := report.Assignment{Dept: dispatch.CommandCenter, Role: report.Lead, Status: to, AssignedAt: now,
				SLADeadline: now.Add(slaOf(cfg, r)), Escalation: dispatch.CommandCenter}
			cs.Assignments = upsert(cs.Assignments, cc)
			cs.LeadDept = dispatch.CommandCenter
			notify = append(notify, dispatch.AssignmentNotice("dispatched", strconv.FormatInt(now.UnixMilli(), 10), r, cc,
				cfg.Departments[dispatch.CommandCenter], req.Dept+": not ours", now))
		} else {
			cs.Assignments = setStatus(r.Assignments, to)
		}
	case report.Reassign:
		target := req.Change.ToDept
		if _, ok := cfg.Departments[target]; !ok || target == dispatch.CommandCenter {
			return Result{}, report.ErrReassignTarget
		}
		deadline := now.Add(slaOf(cfg, r))
		cs.Assignments = closeAll(r.Assignments, to)
		lead := report.Assignment{Dept: target, Role: report.Lead, Status: to, AssignedAt: now, SLADeadline: deadline, Escalation: dispatch.CommandCenter}
		cs.Assignments = upsert(cs.Assignments, lead)
		seq := strconv.FormatInt(now.UnixMilli(), 10)
		notify = append(notify, dispatch.AssignmentNotice("dispatched", seq, r, lead, cfg.Departments[target], "reassigned by the command center", now))
		for _, d := range req.Change.Assists {
			if _, ok := cfg.Departments[d]; !ok || d == target {
				return Result{}, report.ErrReassignTarget.With("unknown assisting department %q", d)
			}
			a := report.Assignment{Dept: d, Role: report.Assist, Status: to, AssignedAt: now, SLADeadline: deadline, Escalation: dispatch.CommandCenter}
			cs.Assignments = upsert(cs.Assignments, a)
			notify = append(notify, dispatch.AssignmentNotice("dispatched", seq, r, a, cfg.Departments[d], "reassigned by the command center", now))
		}
		cs.LeadDept = target
		cs.Entry.Note = "reassigned to " + target
		if req.Change.Note != "" {
			cs.Entry.Note += ": " + req.Change.Note
		}
	case report.Resolve:
		// Each request's stripped photos are versions of its own: copies of one resolution racing each
		// other remove only their own when they lose, never the versions the winner's report points to.
		photos, err := s.photos.VerifyPhotos(ctx, req.PhotoOwner, req.Change.ProofPhotoKeys)
		if err != nil {
			return Result{}, err
		}
		cs.ProofPhotos = photos
		cs.Assignments = setStatus(r.Assignments, to)
	default:
		if to != r.Status {
			cs.Assignments = setStatus(r.Assignments, to)
		}
	}

	if err := s.apply(ctx, &cs); err != nil {
		// The proof photos' written versions are this request's own (see Resolve), so a definite refusal
		// deletes only versions nobody else points to. After an unknown outcome they stay: the change may
		// have committed.
		if errors.Is(err, apperr.ErrOutcomeUnknown) {
			return Result{}, fmt.Errorf("apply %s to %s: %w", req.Change.Action, r.ID, err)
		}
		if errors.Is(err, dispatch.ErrAlreadyHandled) || apperr.NotApplied(err) {
			err = errors.Join(err, s.photos.DeletePhotos(ctx, cs.ProofPhotos))
		}
		if errors.Is(err, dispatch.ErrAlreadyHandled) {
			// A department system that retries a slow request may send copies of one signed event at
			// once; all but one lose the race, and they are replays, not conflicts.
			if req.InboundID != "" {
				again, seen, rerr := s.store.ReportForDept(ctx, req.ReportID)
				if rerr != nil {
					// Whether this was a replay is unknown: answer what the read met (503 when transient),
					// not a conflict the sender would take as final.
					return Result{}, fmt.Errorf("read %s after a refused change: %w", req.ReportID, rerr)
				}
				if seen[req.Dept+"#"+req.InboundID] {
					return Result{Report: again, Replayed: true}, nil
				}
			}
			return Result{}, report.ErrInvalidTransition.With("the report changed meanwhile; read it and try again")
		}
		return Result{}, fmt.Errorf("apply %s to %s: %w", req.Change.Action, r.ID, err)
	}
	if len(notify) > 0 {
		if err := s.outbox.Enqueue(ctx, notify); err != nil {
			return Result{}, fmt.Errorf("enqueue notifications: %w", err)
		}
	}
	r.Status, r.LeadDept, r.UpdatedAt = to, cs.LeadDept, now
	r.Timeline = append(r.Timeline, cs.Entry)
	if cs.Assignments != nil {
		r.Assignments = cs.Assignments
	}
	if cs.ProofPhotos != nil {
		r.ProofPhotos = cs.ProofPhotos
	}
	if to == report.Resolved {
		r.ResolvedAt = &now
	}
	if cs.Reason != "" {
		r.RejectReason = cs.Reason
	}
	return Result{Report: r}, nil
}

// contentionTries bounds how often a change is sent again after a transaction conflict.
const contentionTries = 3

// apply writes cs under a fresh attempt id, which makes the write safe to send twice. A transaction
// conflict (apperr.ErrContention: nothing written; a concurrent transaction held the report) is sent
// again up to contentionTries in all, after a pause of 5–50 ms; what outlasts them goes back to the caller
// (503 with Retry-After). When the outcome is unknown (the store did not answer), the report is read again:
// the change's timeline entry there means it committed, and apply succeeds.
func (s *Service) apply(ctx context.Context, cs *ChangeSet) error {
	var token [8]byte
	if _, err := rand.Read(token[:]); err != nil {
		return fmt.Errorf("attempt id: %w", err)
	}
	cs.Attempt = hex.EncodeToString(token[:])
	var err error
	for try := range contentionTries {
		if err = s.store.Apply(ctx, *cs); !errors.Is(err, apperr.ErrContention) || try == contentionTries-1 {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(5+mrand.IntN(45)) * time.Millisecond):
		}
	}
	if err == nil || !errors.Is(err, apperr.ErrOutcomeUnknown) {
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	again, _, rerr := s.store.ReportForDept(rctx, cs.Report.ID)
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("read the report after an unknown outcome: %w", rerr))
	}
	e := cs.Entry
	if slices.ContainsFunc(again.Timeline, func(t report.TimelineEntry) bool {
		return t.At.Equal(e.At) && t.Actor == e.Actor && t.Status == e.Status && t.Note == e.Note
	}) {
		return nil
	}
	return err
}

func slaOf(cfg *dispatch.Config, r report.Report) time.Duration {
	h := cfg.Categories[r.Category].SLAHours
	if h <= 0 {
		h = 72
	}
	return time.Duration(h) * time.Hour
}

func setStatus(as []report.Assignment, to report.Status) []report.Assignment {
	out := slices.Clone(as)
	for i := range out {
		if !out[i].Closed {
			out[i].Status = to
		}
	}
	return out
}

func closeAll(as []report.Assignment, to report.Status) []report.Assignment {
	out := slices.Clone(as)
	for i := range out {
		out[i].Closed, out[i].Status = true, to
	}
	return out
}

// upsert puts a in place of dept's assignment (keeping the timeline entries recorded on it: its dispatch's
// and its log) or adds it.
func upsert(as []report.Assignment, a report.Assignment) []report.Assignment {
	for i := range as {
		if as[i].Dept == a.Dept {
			a.DispatchedAt, a.DispatchedAs, a.Log = as[i].DispatchedAt, as[i].DispatchedAs, as[i].Log
			as[i] = a
			return as
		}
	}
	return append(as, a)
}

// AllOpen asks Queue for every open status at once (?status=open): the department's open queue as it is
// stored, earliest deadline first, each item with its own status: one read where a page per open status
// reads the same partition once for each.
const AllOpen report.Status = "open"

// Queue lists dept's queue in one status, or in every open status (AllOpen).
func (s *Service) Queue(ctx context.Context, dept string, status report.Status, limit int, cursor string) ([]QueueItem, string, error) {
	switch status {
	case AllOpen, report.Dispatched, report.Accepted, report.InProgress, report.NeedsTriage, report.Reopened, report.Resolved, report.Rejected, report.Duplicate:
	default:
		return nil, "", apperr.New(apperr.Invalid, "invalid_status", "status must be open, dispatched, accepted, in_progress, needs_triage, reopened, resolved, rejected or duplicate")
	}
	if limit == 0 {
		limit = 20
	}
	if limit < 1 || limit > 100 {
		return nil, "", report.ErrInvalidLimit
	}
	return s.store.Queue(ctx, dept, status, limit, cursor)
}

// ErrReasonRequired is returned for a revocation without a reason.
var ErrReasonRequired = apperr.New(apperr.Invalid, "reason_required", "a revocation needs a reason of 1 to 500 characters")

// Revoke moves a resolved report to revoked (an admin's decision, e.g. a fraudulent report); accrual then
// reverses its points. Only resolved reports can be revoked.
func (s *Service) Revoke(ctx context.Context, reportID, reason string) (report.Report, error) {
	if n := len([]rune(reason)); n < 1 || n > 500 {
		return report.Report{}, ErrReasonRequired
	}
	r, _, err := s.store.ReportForDept(ctx, reportID)
	if err != nil {
		return report.Report{}, err
	}
	if r.Status != report.Resolved {
		return report.Report{}, report.ErrInvalidTransition.With("only a resolved report can be revoked; this one is %s", r.Status)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	cs := ChangeSet{Report: r, To: report.Revoked, LeadDept: r.LeadDept, Reason: reason,
		Entry: report.TimelineEntry{At: now, Status: report.Revoked, Actor: "admin", Note: reason}}
	if err := s.apply(ctx, &cs); err != nil {
		if errors.Is(err, dispatch.ErrAlreadyHandled) && !errors.Is(err, apperr.ErrOutcomeUnknown) {
			return report.Report{}, report.ErrInvalidTransition.With("the report changed meanwhile")
		}
		return report.Report{}, err
	}
	r.Status, r.UpdatedAt, r.RejectReason = report.Revoked, now, reason
	r.Timeline = append(r.Timeline, cs.Entry)
	return r, nil
}
