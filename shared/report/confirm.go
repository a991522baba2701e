package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// Bounds of an answer.
const (
	DefaultAnswerWindow = 7 * 24 * time.Hour
	MaxAnswerComment    = 500 // characters
	MaxContestPhotos    = 3
)

// Errors of the reporter's answer. Codes are part of the API: never change one.
var (
	ErrNotResolved      = apperr.New(apperr.Conflict, "report_not_resolved", "only a resolved report can be confirmed or contested")
	ErrAlreadyAnswered  = apperr.New(apperr.Conflict, "already_answered", "the resolution was already confirmed or contested")
	ErrWindowClosed     = apperr.New(apperr.Conflict, "answer_window_closed", "the time to confirm or contest this resolution has ended")
	ErrRating           = apperr.New(apperr.Invalid, "invalid_rating", "rating must be a whole number from 1 to 5")
	ErrComment          = apperr.New(apperr.Invalid, "invalid_comment", "the comment must be plain text of at most 500 characters")
	ErrContestPhotoList = apperr.New(apperr.Invalid, "invalid_photo_count", "a contest needs 1 to 3 distinct photos of the problem as it is now")
)

// Feedback is the reporter's answer to a report's resolution. A report has at most one: a second answer
// is refused (already_answered), and a report resolved again after a contest is not asked again.
type Feedback struct {
	Answer   Answer    `json:"answer"`
	Rating   int       `json:"rating,omitempty"` // 1–5, confirmations only
	Comment  string    `json:"comment,omitempty"`
	Photos   []Photo   `json:"photos,omitempty"` // contests only
	At       time.Time `json:"at"`
	LeadDept string    `json:"leadDept,omitempty"` // the department whose resolution was answered

	// Key and BodyHash are the Idempotency-Key and the hash of the request that answered: the answer is
	// its own idempotency record ("" for the window's end).
	Key      string `json:"-"`
	BodyHash string `json:"-"`
}

// Entry is the timeline entry an answer implies (it is not stored on its own).
func (f Feedback) Entry() TimelineEntry {
	switch f.Answer {
	case Contested:
		note := "not fixed: reopened to " + f.LeadDept
		if f.Comment != "" {
			note += ": " + f.Comment
		}
		return TimelineEntry{At: f.At, Status: Reopened, Actor: "citizen", Note: note}
	case AutoConfirmed:
		return TimelineEntry{At: f.At, Status: Resolved, Actor: "system", Note: "confirmed: no answer within the window"}
	}
	return TimelineEntry{At: f.At, Status: Resolved, Actor: "citizen", Note: fmt.Sprintf("confirmed, rated %d of 5", f.Rating)}
}

// Reopening is a contest as written: the report as read, the answer, and the lead's assignment as it
// becomes (status reopened, a new SLA deadline).
type Reopening struct {
	Report   Report
	Feedback Feedback
	Lead     Assignment
}

// AnswerStore keeps answers.
type AnswerStore interface {
	// GetReport returns the report with its timeline, assignments and answer, or ErrNotFound.
	GetReport(ctx context.Context, id string) (Report, error)
	// AddFeedback writes f as r's answer in one conditional write, unless r already has one: then it
	// writes nothing and returns that one. ErrNotResolved if the report is no longer resolved.
	AddFeedback(ctx context.Context, r Report, f Feedback) (existing *Feedback, err error)
	// Reopen writes a contest in one transaction conditional on the report being resolved and unanswered:
	// the report's status, the lead's assignment and the answer. Refusals as AddFeedback's.
	Reopen(ctx context.Context, ro Reopening) (existing *Feedback, err error)
}

// ReopenNotifier tells the lead department a report came back (the department webhook path).
type ReopenNotifier interface {
	Reopened(ctx context.Context, r Report, lead Assignment) error
}

// Answers takes reporters' confirmations and contests.
type Answers struct {
	store   AnswerStore
	reports *Service // categories (SLA hours) and photo checks, as intake's
	notify  ReopenNotifier
	window  time.Duration
	now     func() time.Time
}

// NewAnswers returns Answers over store; window is how long after a resolution its reporter may answer
// (DefaultAnswerWindow if 0); notify may be nil: intake passes nil, since the department hears of a reopen
// from the table's stream (dispatch.NotifyReopened), which a lost reply cannot skip.
func NewAnswers(store AnswerStore, reports *Service, notify ReopenNotifier, window time.Duration, now func() time.Time) *Answers {
	if window <= 0 {
		window = DefaultAnswerWindow
	}
	return &Answers{store: store, reports: reports, notify: notify, window: window, now: now}
}

// Window is how long after a resolution its reporter may answer.
func (a *Answers) Window() time.Duration { return a.window }

// Confirmation is a confirm request's body.
type Confirmation struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// Contest is a contest request's body.
type Contest struct {
	Comment   string   `json:"comment"`
	PhotoKeys []string `json:"photoKeys"`
}

// Confirm records p's confirmation of report id's resolution with a rating. body is the raw request (its
// hash binds key); a request sent again gets the first answer back.
func (a *Answers) Confirm(ctx context.Context, p auth.Principal, id, key string, body []byte, c Confirmation) (Report, error) {
	if err := a.precheck(p, key); err != nil {
		return Report{}, err
	}
	if c.Rating < 1 || c.Rating > 5 {
		return Report{}, ErrRating
	}
	if !plainText(c.Comment, MaxAnswerComment) {
		return Report{}, ErrComment
	}
	r, done, err := a.open(ctx, p, id, key, idem.Hash(body))
	if err != nil || done {
		return r, err
	}
	f := Feedback{Answer: Confirmed, Rating: c.Rating, Comment: c.Comment, At: a.at(), LeadDept: r.LeadDept, Key: key, BodyHash: idem.Hash(body)}
	existing, err := a.store.AddFeedback(ctx, r, f)
	return a.settle(ctx, p, r, f, existing, err)
}

// Contest records p's contest of report id's resolution: the report reopens to its lead department with
// a new SLA deadline. The photos are checked as intake's (uploads of p's, via POST /v1/uploads).
func (a *Answers) Contest(ctx context.Context, p auth.Principal, id, key string, body []byte, c Contest) (Report, error) {
	if err := a.precheck(p, key); err != nil {
		return Report{}, err
	}
	if !plainText(c.Comment, MaxAnswerComment) {
		return Report{}, ErrComment
	}
	if n := len(c.PhotoKeys); n < 1 || n > MaxContestPhotos || len(slices.Compact(slices.Sorted(slices.Values(c.PhotoKeys)))) != n {
		return Report{}, ErrContestPhotoList
	}
	for _, k := range c.PhotoKeys {
		if _, ok := parseUploadKey(k); !ok {
			return Report{}, ErrPhotoKey
		}
	}
	hash := idem.Hash(body)
	r, done, err := a.open(ctx, p, id, key, hash)
	if err != nil || done {
		return r, err
	}
	lead, ok := r.Assignment(r.LeadDept)
	if !ok {
		return Report{}, fmt.Errorf("contest %s: the resolved report has no open lead assignment (%s)", id, r.LeadDept)
	}
	cats, _, err := a.reports.categories(ctx)
	if err != nil {
		return Report{}, err
	}
	sla := time.Duration(cats[r.Category].SLAHours) * time.Hour
	if sla <= 0 {
		sla = 72 * time.Hour
	}
	photos, err := a.reports.VerifyPhotos(ctx, p.Sub, c.PhotoKeys)
	if err != nil {
		return Report{}, err
	}
	now := a.at()
	lead.Status, lead.SLADeadline, lead.Overdue = Reopened, now.Add(sla), false
	f := Feedback{Answer: Contested, Comment: c.Comment, Photos: photos, At: now, LeadDept: r.LeadDept, Key: key, BodyHash: hash}
	existing, err := a.store.Reopen(ctx, Reopening{Report: r, Feedback: f, Lead: lead})
	after := r
	after.Assignments = slices.Clone(r.Assignments)
	for i, as := range after.Assignments {
		if as.Dept == lead.Dept {
			after.Assignments[i] = lead
		}
	}
	if (err != nil && apperr.NotApplied(err)) || existing != nil {
		// Refused for certain: the versions this request's checks wrote are nobody's.
		if derr := a.reports.DeletePhotos(ctx, photos); derr != nil {
			err = errors.Join(err, derr)
		}
	}
	out, err := a.settle(ctx, p, after, f, existing, err)
	if err != nil {
		return out, err
	}
	if a.notify != nil {
		if err := a.notify.Reopened(ctx, out, lead); err != nil {
			// The reopen stands (the queue shows it); a request sent again re-sends the notice, which
			// the notice's id makes a no-op for a department that had it.
			return Report{}, fmt.Errorf("notify %s of reopened %s: %w", lead.Dept, id, err)
		}
	}
	return out, nil
}

func (a *Answers) precheck(p auth.Principal, key string) error {
	if err := p.Require(auth.Citizen); err != nil {
		return err
	}
	return idem.ValidateKey(key)
}

func (a *Answers) at() time.Time { return a.now().UTC().Truncate(time.Millisecond) }

// open reads the report p answers and says whether it may be answered now. done: the report already
// carries this very request's answer (a send whose reply was lost), which is the reply.
func (a *Answers) open(ctx context.Context, p auth.Principal, id, key, hash string) (Report, bool, error) {
	r, err := a.store.GetReport(ctx, id)
	if err != nil {
		return Report{}, false, err
	}
	if r.ReporterSub != p.Sub {
		return Report{}, false, ErrNotFound // others' reports do not exist for p
	}
	if r.Feedback != nil {
		out, err := replay(r, key, hash)
		return out, err == nil, err
	}
	if _, err := AfterAnswer(r.Status, Confirmed); err != nil {
		return Report{}, false, err
	}
	if r.ResolvedAt == nil || a.now().After(r.ResolvedAt.Add(a.window)) {
		return Report{}, false, ErrWindowClosed
	}
	return r, false, nil
}

// replay answers a request from the report's stored answer: the same reply for the request that wrote it,
// idempotency_key_reused for its key with another body, already_answered for any other.
func replay(r Report, key, hash string) (Report, error) {
	f := r.Feedback
	switch {
	case f.Key == key && f.BodyHash == hash:
		return r, nil
	case f.Key == key:
		return Report{}, idem.ErrKeyReused
	}
	return Report{}, ErrAlreadyAnswered.With("the resolution was %s on %s", f.Answer, f.At.Format(time.RFC3339))
}

// settle turns a store's answer into the reply: r with f applied, or the stored answer's verdict, or after
// an unknown outcome whatever a fresh read shows.
func (a *Answers) settle(ctx context.Context, p auth.Principal, r Report, f Feedback, existing *Feedback, err error) (Report, error) {
	if existing != nil {
		r.Feedback = existing
		return replay(r, f.Key, f.BodyHash)
	}
	if err != nil && !apperr.NotApplied(err) && !errors.Is(err, ErrNotResolved) {
		// Unknown outcome: read the report back on a context of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		again, rerr := a.store.GetReport(rctx, r.ID)
		if rerr == nil && again.Feedback != nil {
			return replay(again, f.Key, f.BodyHash)
		}
		return Report{}, apperr.ErrOutcomeUnknown.Wrap(fmt.Errorf("answer %s: %w", r.ID, err))
	}
	if err != nil {
		return Report{}, fmt.Errorf("answer %s: %w", r.ID, err)
	}
	r.Feedback = &f
	r.Timeline = append(r.Timeline, f.Entry())
	if f.Answer == Contested {
		r.Status, r.UpdatedAt = Reopened, f.At
	}
	return r.For(p), nil
}

// AutoConfirm is the confirmation the window's end implies for r (no request made it).
func AutoConfirm(r Report, at time.Time) Feedback {
	return Feedback{Answer: AutoConfirmed, At: at.UTC().Truncate(time.Millisecond), LeadDept: r.LeadDept}
}

// DueAnswers finds resolutions whose answer window ended unanswered and records the window's answer.
type DueAnswers interface {
	// DueForAutoConfirm returns the reports resolved in (from, to] that are still resolved and unanswered
	// (from an index sorted by resolution time, so by the window's end: never a Scan).
	DueForAutoConfirm(ctx context.Context, from, to time.Time) ([]Report, error)
	AddFeedback(ctx context.Context, r Report, f Feedback) (existing *Feedback, err error)
}

// AutoConfirmLookback is how far before the latest due window's end a run looks: a run every 15 minutes
// sees each resolution 24 times at most, and an outage of the job shorter than this loses nothing. A
// resolution it never saw stays unanswered, and is refused an answer by the window all the same.
const AutoConfirmLookback = 6 * time.Hour

// AutoConfirmDue confirms every resolution whose window ended in the lookback before now unanswered: one
// conditional write each (an answer that landed meanwhile wins; nothing is written twice).
func AutoConfirmDue(ctx context.Context, store DueAnswers, window time.Duration, now time.Time) (int, error) {
	if window <= 0 {
		window = DefaultAnswerWindow
	}
	to := now.Add(-window)
	due, err := store.DueForAutoConfirm(ctx, to.Add(-AutoConfirmLookback), to)
	if err != nil {
		return 0, fmt.Errorf("find unanswered resolutions: %w", err)
	}
	n := 0
	for _, r := range due {
		existing, err := store.AddFeedback(ctx, r, AutoConfirm(r, now))
		if err != nil {
			return n, fmt.Errorf("confirm %s at its window's end: %w", r.ID, err)
		}
		if existing == nil {
			n++
		}
	}
	return n, nil
}
