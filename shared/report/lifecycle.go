package report

import (
	"slices"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Role is a department's part in a report.
type Role string

// Roles of an assignment.
const (
	Lead   Role = "lead"
	Assist Role = "assist"
)

// Assignment is a department's share of a report. Deadlines are SLA deadlines; Overdue is set once by the
// escalation sweep.
type Assignment struct {
	Dept        string    `json:"dept"`
	Role        Role      `json:"role"`
	Status      Status    `json:"status"`
	AssignedAt  time.Time `json:"assignedAt"`
	SLADeadline time.Time `json:"slaDeadline"`
	Overdue     bool      `json:"overdue"`
	Escalation  string    `json:"escalation,omitempty"`
	Closed      bool      `json:"closed,omitempty"` // no longer this department's (rejected as not ours, reassigned)
	// DispatchedAt and DispatchedAs are set on the lead's assignment by dispatch: its timeline entry is
	// implied by them (DispatchEntry), not stored. A rewrite of the assignment keeps them.
	DispatchedAt time.Time `json:"-"`
	DispatchedAs Status    `json:"-"`
	// Log holds timeline entries of this department's status changes, kept on the assignment each one
	// rewrites anyway instead of in items of their own (the store decides which, within MaxLog). A rewrite
	// of the assignment keeps it.
	Log []TimelineEntry `json:"-"`
	// Pending: an assignment as dispatch's commit decided it (the lead's, or an assistant's it named), its
	// item not written yet (the store reads it from the report between the commit and the write). Readers
	// show it; writers act only on written assignments, and dispatch's redelivery completes it.
	Pending bool `json:"-"`
}

// Bounds of an assignment's Log: its entries and the note of each. Other entries are stored on their own.
const (
	MaxLog        = 4
	MaxLoggedNote = 160 // bytes
)

// DispatchEntry is the timeline entry of a dispatch at `at` that moved the report to status with lead.
func DispatchEntry(at time.Time, status Status, lead string) TimelineEntry {
	note := "assigned to " + lead
	if status == NeedsTriage {
		note = "no rule matched: the command center will assign it"
	}
	return TimelineEntry{At: at, Status: status, Actor: "system", Note: note}
}

// Reopened: the reporter contested a resolution ("not fixed", confirm.go); the report is back with its lead
// department under a new SLA deadline, which accepts it again, reports progress on it or rejects it, as
// after a dispatch.
const Reopened Status = "reopened"

// Open reports whether a report in status s still needs work.
func (s Status) Open() bool {
	switch s {
	case Submitted, Dispatched, Accepted, InProgress, NeedsTriage, Reopened:
		return true
	}
	return false
}

// Action is what a department does to a report.
type Action string

// Actions of departments (the "type" of an inbound event without its "report." prefix).
const (
	Accept   Action = "accepted"
	Progress Action = "progress"
	Resolve  Action = "resolved"
	Reject   Action = "rejected"
	Reassign Action = "reassign"
)

// Reasons a lead may reject a report for.
const (
	ReasonInvalid   = "invalid"
	ReasonDuplicate = "duplicate"
	ReasonNotOurs   = "not_ours"
)

// Change is a department's requested change.
type Change struct {
	Action         Action
	Note           string
	ProofPhotoKeys []string
	Reason         string
	ToDept         string   // reassign: the new lead
	Assists        []string // reassign: new assisting departments
}

// Errors of the lifecycle.
var (
	ErrInvalidTransition = apperr.New(apperr.Conflict, "invalid_transition", "the report cannot make this change in its current status")
	ErrNotAssigned       = apperr.New(apperr.NotFound, "report_not_found", "no such report assigned to your department")
	ErrNotLead           = apperr.New(apperr.Forbidden, "not_lead", "only the lead department may do this")
	ErrProofRequired     = apperr.New(apperr.Invalid, "proof_photo_required", "resolving needs at least one proof-of-fix photo")
	ErrInvalidReason     = apperr.New(apperr.Invalid, "invalid_reason", "reason must be invalid, duplicate or not_ours")
	ErrNoteRequired      = apperr.New(apperr.Invalid, "note_required", "a progress note from an assisting department needs text")
	ErrUnknownAction     = apperr.New(apperr.Invalid, "unknown_event_type", "type must be report.accepted, report.progress, report.resolved, report.rejected or report.reassign")
	ErrReassignTarget    = apperr.New(apperr.Invalid, "invalid_reassign_target", "toDept must be a known department other than the command center")
)

// Next returns the status a report moves to when a department in role (its assignment's role) applies c,
// or an error saying why it may not. Assisting departments may only add progress notes; the command center
// (lead of a needs_triage report) reassigns or rejects.
func Next(current Status, role Role, commandCenter bool, c Change) (Status, error) {
	if !current.Open() || current == Submitted {
		return "", ErrInvalidTransition.With("the report is %s", current)
	}
	if role == Assist {
		if c.Action != Progress {
			return "", ErrNotLead
		}
		if c.Note == "" {
			return "", ErrNoteRequired
		}
		return current, nil
	}
	switch c.Action {
	case Accept:
		if current == Dispatched || current == Reopened {
			return Accepted, nil
		}
	case Progress:
		if slices.Contains([]Status{Dispatched, Accepted, InProgress, Reopened}, current) {
			return InProgress, nil
		}
		if current == NeedsTriage && c.Note != "" {
			return NeedsTriage, nil
		}
	case Resolve:
		if current == Accepted || current == InProgress {
			if len(c.ProofPhotoKeys) == 0 {
				return "", ErrProofRequired
			}
			return Resolved, nil
		}
	case Reject:
		switch c.Reason {
		case ReasonInvalid:
			return Rejected, nil
		case ReasonDuplicate:
			return Duplicate, nil
		case ReasonNotOurs:
			if current != NeedsTriage && !commandCenter {
				return NeedsTriage, nil
			}
			return "", ErrInvalidTransition.With("the command center cannot send a report back to itself")
		default:
			return "", ErrInvalidReason
		}
	case Reassign:
		if commandCenter {
			return Dispatched, nil
		}
		return "", ErrNotLead.With("only the command center reassigns reports")
	default:
		return "", ErrUnknownAction
	}
	return "", ErrInvalidTransition.With("a %s report cannot be %s", current, c.Action)
}

// Answer is the reporter's answer to a resolution (confirm.go): a confirmation, a contest, or the
// confirmation the window's end implies.
type Answer string

// Answers.
const (
	Confirmed     Answer = "confirmed"
	Contested     Answer = "contested"
	AutoConfirmed Answer = "auto_confirmed"
)

// AfterAnswer returns the status a report in status current moves to when its reporter answers a: only a
// resolved report is answered; a contest reopens it to its lead department, a confirmation leaves it
// resolved (an admin may still revoke it).
func AfterAnswer(current Status, a Answer) (Status, error) {
	if current != Resolved {
		return "", ErrNotResolved.With("the report is %s", current)
	}
	switch a {
	case Confirmed, AutoConfirmed:
		return Resolved, nil
	case Contested:
		return Reopened, nil
	}
	return "", ErrInvalidTransition.With("unknown answer %q", a)
}
