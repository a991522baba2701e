package builders

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// Answers to an application or invitation.
const (
	AnswerAccept  = "accept"
	AnswerDecline = "decline"
)

// HireStore is the hire service's store (shared/dynamostore builders_hire.go; Job and FillRepair are the
// job store's, Employer and Worker the employer store's).
type HireStore interface {
	Job(ctx context.Context, id string) (Job, error)
	FillRepair(ctx context.Context, jobID string) error
	Employer(ctx context.Context, sub string) (Employer, error)
	Worker(ctx context.Context, sub string) (Worker, error)

	// Application returns the application or invitation of (job, sub) (ErrApplicationNotFound).
	Application(ctx context.Context, jobID, sub string) (Application, error)
	// Ask writes a new application or invitation (the job's apps + 1 while open and under
	// MaxApplications, the worker's pending + 1 under MaxPending, its record). One that exists is
	// answered as it is (created false).
	Ask(ctx context.Context, a Application, today string) (Application, bool, error)
	// Settle answers a pending one without a hire (declined or withdrawn), the worker's pending − 1;
	// ErrAlreadyAnswered when it is not pending.
	Settle(ctx context.Context, jobID, sub, status, by string, at time.Time) error
	// Hire answers a pending one with a hire (the contract's transaction). ErrAlreadyAnswered when it is
	// not pending; ErrJobFilled or ErrJobClosed when the job refuses a hire.
	Hire(ctx context.Context, a Application, by string, at time.Time, today string) (Hire, error)
	// HireOf returns the hire of (job, sub) (ErrHireNotFound).
	HireOf(ctx context.Context, jobID, sub string) (Hire, error)
	// Confirm records side's confirmation on h as read (condition on its version); the second side's
	// completes it. ErrContention when h changed meanwhile.
	Confirm(ctx context.Context, h Hire, side string, at time.Time) (Hire, error)
	// CancelHire cancels h as read (condition on its version) and frees its place (reopening a filled
	// job whose end date is not past). ErrContention when h changed meanwhile.
	CancelHire(ctx context.Context, h Hire, by, reason string, at time.Time, today string) (Hire, error)
	// ReopenJob puts a filled job with a free place and an end date not past back to open (idempotent).
	ReopenJob(ctx context.Context, jobID, today string) error
	// Applications is a page of a job's applications and invitations.
	Applications(ctx context.Context, jobID string, limit int, cursor string) ([]Application, string, error)
	// MyApplications is a page of a worker's applications and invitations, newest first.
	MyApplications(ctx context.Context, sub string, limit int, cursor string) ([]Application, string, error)
	// JobHires is a page of a job's hires with the workers' profiles (nil for an opted-out worker).
	JobHires(ctx context.Context, jobID string, limit int, cursor string) ([]Hire, map[string]Worker, string, error)
	// MyHires is a page of a worker's hires, newest first, with each employer's contact.
	MyHires(ctx context.Context, sub string, limit int, cursor string) ([]Hire, string, error)
	// Workers reads worker profiles by sub (absent ones are missing from the map).
	Workers(ctx context.Context, subs []string) (map[string]Worker, error)
}

// HireService is applications, invitations and hires.
type HireService struct {
	store HireStore
	tz    *time.Location
	now   func() time.Time
}

// NewHireService builds the HireService. tz is the city's time zone (local days); now is the clock.
func NewHireService(store HireStore, tz *time.Location, now func() time.Time) *HireService {
	if tz == nil {
		tz = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &HireService{store: store, tz: tz, now: now}
}

// AskInput is an application's or invitation's body.
type AskInput struct {
	Sub     string `json:"sub,omitempty"` // the invited worker (invitations only)
	Message string `json:"message,omitempty"`
}

// AnswerInput answers an application or invitation.
type AnswerInput struct {
	Answer string `json:"answer"`
}

// CancelInput cancels a hire.
type CancelInput struct {
	Reason string `json:"reason"`
}

// Answered is an answer's result: the application or invitation as answered, and the hire an accept made.
type Answered struct {
	Application Application `json:"application"`
	Hire        *Hire       `json:"hire,omitempty"`
}

// Hire confirmation sides.
const (
	SideEmployer = "employer"
	SideWorker   = "worker"
)

func (s *HireService) today() string { return s.now().In(s.tz).Format("2006-01-02") }

func checkMessage(m string) error {
	if !utf8.ValidString(m) || utf8.RuneCountInString(m) > MaxText {
		return ErrInvalid.With("message: at most %d characters", MaxText)
	}
	return nil
}

// hiringEmployer checks that the job's employer may take on workers: verified and not suspended.
func hiringEmployer(e Employer) error {
	switch e.Status {
	case EmployerVerified:
		return nil
	case EmployerSuspended:
		return ErrEmployerSuspended
	default:
		return ErrEmployerUnverified
	}
}

// openForHire checks a job as read: open, not past its end date, a place free. A full open job is
// repaired (filled) on the way.
func (s *HireService) openForHire(ctx context.Context, j Job) error {
	if j.Status == JobFilled {
		return ErrJobFilled
	}
	if j.Status != JobOpen || j.EndDate < s.today() {
		return ErrJobClosed
	}
	if j.Hired >= j.Headcount {
		if err := s.store.FillRepair(ctx, j.ID); err != nil {
			return err
		}
		return ErrJobFilled
	}
	return nil
}

// employerJob reads a job the caller must be the employer of (an admin may act for any employer).
func (s *HireService) employerJob(ctx context.Context, p auth.Principal, jobID string) (Job, error) {
	if p.Sub == "" {
		return Job{}, auth.ErrUnauthenticated
	}
	j, err := s.store.Job(ctx, jobID)
	if err != nil {
		return Job{}, err
	}
	if j.EmployerSub != p.Sub && !p.Has(auth.Admin) {
		return Job{}, ErrNotYourJob
	}
	return j, nil
}

// Apply is a worker's application to an open job of a verified employer (not their own). An application
// or invitation that exists for the pair is answered as it is (created false): one per (job, worker).
func (s *HireService) Apply(ctx context.Context, p auth.Principal, jobID string, in AskInput) (Application, bool, error) {
	if p.Sub == "" {
		return Application{}, false, auth.ErrUnauthenticated
	}
	if err := checkMessage(in.Message); err != nil {
		return Application{}, false, err
	}
	j, err := s.store.Job(ctx, jobID)
	if err != nil {
		return Application{}, false, err
	}
	if a, err := s.store.Application(ctx, jobID, p.Sub); err == nil {
		return a, false, nil // a re-sent application, or the pair has one already
	} else if !errors.Is(err, ErrApplicationNotFound) {
		return Application{}, false, err
	}
	if j.EmployerSub == p.Sub {
		return Application{}, false, ErrInvalid.With("you cannot apply to your own job")
	}
	if _, err := s.store.Worker(ctx, p.Sub); err != nil {
		return Application{}, false, err
	}
	e, err := s.store.Employer(ctx, j.EmployerSub)
	if err != nil {
		return Application{}, false, err
	}
	if err := hiringEmployer(e); err != nil {
		return Application{}, false, err
	}
	if err := s.openForHire(ctx, j); err != nil {
		return Application{}, false, err
	}
	return s.store.Ask(ctx, Application{JobID: j.ID, Sub: p.Sub, Kind: KindApplication, Status: AppPending,
		Message: in.Message, CreatedAt: s.now().UTC().Truncate(time.Millisecond), JobTitle: j.Title, EmployerSub: j.EmployerSub}, s.today())
}

// Invite is an employer's invitation of a worker to its open job: the worker's profile must not be hidden
// (a worker who applied already has the pair's one application, answered as it is).
func (s *HireService) Invite(ctx context.Context, p auth.Principal, jobID string, in AskInput) (Application, bool, error) {
	if err := checkMessage(in.Message); err != nil {
		return Application{}, false, err
	}
	if !validSub(in.Sub) {
		return Application{}, false, ErrInvalid.With("sub: the invited worker's account (1-128 of A-Z, a-z, 0-9, _ and -)")
	}
	j, err := s.employerJob(ctx, p, jobID)
	if err != nil {
		return Application{}, false, err
	}
	if a, err := s.store.Application(ctx, jobID, in.Sub); err == nil {
		return s.forEmployer(ctx, a)
	} else if !errors.Is(err, ErrApplicationNotFound) {
		return Application{}, false, err
	}
	if in.Sub == j.EmployerSub {
		return Application{}, false, ErrInvalid.With("you cannot invite yourself")
	}
	w, err := s.store.Worker(ctx, in.Sub)
	if errors.Is(err, ErrNotWorker) || (err == nil && w.Visibility == VisibilityHidden) {
		return Application{}, false, ErrWorkerNotFound
	}
	if err != nil {
		return Application{}, false, err
	}
	e, err := s.store.Employer(ctx, j.EmployerSub)
	if err != nil {
		return Application{}, false, err
	}
	if err := hiringEmployer(e); err != nil {
		return Application{}, false, err
	}
	if err := s.openForHire(ctx, j); err != nil {
		return Application{}, false, err
	}
	a, created, err := s.store.Ask(ctx, Application{JobID: j.ID, Sub: in.Sub, Kind: KindInvitation, Status: AppPending,
		Message: in.Message, CreatedAt: s.now().UTC().Truncate(time.Millisecond), JobTitle: j.Title, EmployerSub: j.EmployerSub}, s.today())
	if err != nil {
		return Application{}, false, err
	}
	a.Worker = ViewForEmployer(w, false)
	return a, created, nil
}

// forEmployer is an existing application answered to the employer, with the worker's view (no phone).
func (s *HireService) forEmployer(ctx context.Context, a Application) (Application, bool, error) {
	ws, err := s.store.Workers(ctx, []string{a.Sub})
	if err != nil {
		return Application{}, false, err
	}
	if w, ok := ws[a.Sub]; ok {
		a.Worker = ViewForEmployer(w, a.Kind == KindApplication)
	}
	return a, false, nil
}

// Withdraw takes the caller's pending application back (the worker), or the employer's pending invitation
// (the job's employer, WithdrawInvitation). A withdrawn one is answered as it is.
func (s *HireService) Withdraw(ctx context.Context, p auth.Principal, jobID string) (Application, error) {
	if p.Sub == "" {
		return Application{}, auth.ErrUnauthenticated
	}
	a, err := s.store.Application(ctx, jobID, p.Sub)
	if err != nil {
		return Application{}, err
	}
	if a.Kind != KindApplication {
		return Application{}, ErrNotYourTurn
	}
	switch a.Status {
	case AppWithdrawn:
		return a, nil
	case AppPending:
	default:
		return Application{}, ErrAlreadyAnswered
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.Settle(ctx, jobID, p.Sub, AppWithdrawn, p.Sub, at); err != nil {
		if errors.Is(err, ErrAlreadyAnswered) {
			if a, rerr := s.store.Application(ctx, jobID, p.Sub); rerr == nil && a.Status == AppWithdrawn {
				return a, nil
			}
		}
		return Application{}, err
	}
	a.Status, a.AnsweredAt = AppWithdrawn, at
	return a, nil
}

// AnswerApplication is the job's employer's answer to a worker's application.
func (s *HireService) AnswerApplication(ctx context.Context, p auth.Principal, jobID, sub string, in AnswerInput) (Answered, error) {
	if err := checkAnswer(in.Answer); err != nil {
		return Answered{}, err
	}
	j, err := s.employerJob(ctx, p, jobID)
	if err != nil {
		return Answered{}, err
	}
	a, err := s.store.Application(ctx, jobID, sub)
	if err != nil {
		return Answered{}, err
	}
	if a.Kind != KindApplication {
		return Answered{}, ErrNotYourTurn
	}
	return s.answer(ctx, p, j, a, in.Answer)
}

// AnswerInvitation is the worker's answer to an employer's invitation.
func (s *HireService) AnswerInvitation(ctx context.Context, p auth.Principal, jobID string, in AnswerInput) (Answered, error) {
	if p.Sub == "" {
		return Answered{}, auth.ErrUnauthenticated
	}
	if err := checkAnswer(in.Answer); err != nil {
		return Answered{}, err
	}
	a, err := s.store.Application(ctx, jobID, p.Sub)
	if err != nil {
		return Answered{}, err
	}
	if a.Kind != KindInvitation {
		return Answered{}, ErrNotYourTurn
	}
	j, err := s.store.Job(ctx, jobID)
	if err != nil {
		return Answered{}, err
	}
	return s.answer(ctx, p, j, a, in.Answer)
}

// validSub reports whether s can be an account's sub in a key (Cognito subs are UUIDs).
func validSub(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func checkAnswer(answer string) error {
	if answer != AnswerAccept && answer != AnswerDecline {
		return ErrInvalid.With("answer: accept or decline")
	}
	return nil
}

// answerStatus is the application status an answer leaves.
func answerStatus(answer string) string {
	if answer == AnswerAccept {
		return AppAccepted
	}
	return AppDeclined
}

// answer answers a pending application or invitation once. An answer given already is answered again as
// it was when it is the same one (nothing written), refused (ErrAlreadyAnswered) when it is another.
func (s *HireService) answer(ctx context.Context, p auth.Principal, j Job, a Application, answer string) (Answered, error) {
	if a.Status != AppPending {
		return s.answeredAlready(ctx, a, answer)
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	if answer == AnswerDecline {
		err := s.store.Settle(ctx, a.JobID, a.Sub, AppDeclined, p.Sub, at)
		if errors.Is(err, ErrAlreadyAnswered) {
			return s.reread(ctx, a, answer)
		}
		if err != nil {
			return Answered{}, err
		}
		a.Status, a.AnsweredAt = AppDeclined, at
		return Answered{Application: a}, nil
	}
	e, err := s.store.Employer(ctx, j.EmployerSub)
	if err != nil {
		return Answered{}, err
	}
	// A worker who opted out since asking or being asked is hired by nobody (ErrNotWorker): the employer's
	// hire list would otherwise show a worker with no contact.
	if _, err := s.store.Worker(ctx, a.Sub); err != nil {
		return Answered{}, err
	}
	if err := hiringEmployer(e); err != nil {
		return Answered{}, err
	}
	if err := s.openForHire(ctx, j); err != nil {
		return Answered{}, err
	}
	h, err := s.store.Hire(ctx, a, p.Sub, at, s.today())
	if errors.Is(err, ErrAlreadyAnswered) {
		return s.reread(ctx, a, answer)
	}
	if err != nil {
		return Answered{}, err
	}
	if err := s.fillIfFull(ctx, j.ID); err != nil {
		return Answered{}, err
	}
	a.Status, a.AnsweredAt = AppAccepted, at
	return Answered{Application: a, Hire: &h}, nil
}

// fillIfFull marks the job filled when its places are all taken: the hire that took the last place runs it
// (the job read again after the hire), as does one whose answer was lost (the repair is idempotent: a later
// write that finds the job full repeats it).
func (s *HireService) fillIfFull(ctx context.Context, jobID string) error {
	after, err := s.store.Job(ctx, jobID)
	if err != nil {
		return err
	}
	if after.Status == JobOpen && after.Hired >= after.Headcount {
		return s.store.FillRepair(ctx, jobID)
	}
	return nil
}

// reread answers a lost race, or a hire whose answer was lost and whose re-sent transaction found its own
// write: the application as it was left (and the job filled if that hire took its last place).
func (s *HireService) reread(ctx context.Context, a Application, answer string) (Answered, error) {
	a, err := s.store.Application(ctx, a.JobID, a.Sub)
	if err != nil {
		return Answered{}, err
	}
	out, err := s.answeredAlready(ctx, a, answer)
	if err == nil && out.Hire != nil {
		err = s.fillIfFull(ctx, a.JobID)
	}
	return out, err
}

func (s *HireService) answeredAlready(ctx context.Context, a Application, answer string) (Answered, error) {
	if a.Status != answerStatus(answer) {
		return Answered{}, ErrAlreadyAnswered
	}
	out := Answered{Application: a}
	if a.Status == AppAccepted {
		h, err := s.store.HireOf(ctx, a.JobID, a.Sub)
		if err != nil {
			return Answered{}, err
		}
		out.Hire = &h
	}
	return out, nil
}

// Applications is a page of a job's applications and invitations for its employer, each with the worker's
// view (never the phone).
func (s *HireService) Applications(ctx context.Context, p auth.Principal, jobID, cursor string) ([]Application, string, error) {
	if _, err := s.employerJob(ctx, p, jobID); err != nil {
		return nil, "", err
	}
	apps, next, err := s.store.Applications(ctx, jobID, MaxPageSize, cursor)
	if err != nil {
		return nil, "", err
	}
	subs := make([]string, len(apps))
	for i, a := range apps {
		subs[i] = a.Sub
	}
	ws, err := s.store.Workers(ctx, subs)
	if err != nil {
		return nil, "", err
	}
	for i, a := range apps {
		if w, ok := ws[a.Sub]; ok {
			apps[i].Worker = ViewForEmployer(w, a.Kind == KindApplication)
		}
	}
	return apps, next, nil
}

// MyApplications is a page of the caller's applications and invitations, newest first.
func (s *HireService) MyApplications(ctx context.Context, p auth.Principal, cursor string) ([]Application, string, error) {
	if p.Sub == "" {
		return nil, "", auth.ErrUnauthenticated
	}
	return s.store.MyApplications(ctx, p.Sub, MaxPageSize, cursor)
}

// JobHires is a page of a job's hires for its employer, with each worker's view and phone (the worker
// applied or accepted: the contact is the point of a hire).
func (s *HireService) JobHires(ctx context.Context, p auth.Principal, jobID, cursor string) ([]Hire, string, error) {
	if _, err := s.employerJob(ctx, p, jobID); err != nil {
		return nil, "", err
	}
	hs, ws, next, err := s.store.JobHires(ctx, jobID, MaxPageSize, cursor)
	if err != nil {
		return nil, "", err
	}
	for i, h := range hs {
		if w, ok := ws[h.Sub]; ok {
			v := ViewForEmployer(w, true)
			v.DisplayName, v.Phone = w.Name, w.Phone
			hs[i].Worker = v
		}
	}
	return hs, next, nil
}

// MyHires is a page of the caller's hires with each employer's contact.
func (s *HireService) MyHires(ctx context.Context, p auth.Principal, cursor string) ([]Hire, string, error) {
	if p.Sub == "" {
		return nil, "", auth.ErrUnauthenticated
	}
	return s.store.MyHires(ctx, p.Sub, MaxPageSize, cursor)
}

// maxRounds bounds the re-reads of a hire that changed under a confirmation or cancellation.
const maxRounds = 5

// ConfirmAsEmployer is the employer's confirmation that the hired worker started.
func (s *HireService) ConfirmAsEmployer(ctx context.Context, p auth.Principal, jobID, sub string) (Hire, error) {
	if _, err := s.employerJob(ctx, p, jobID); err != nil {
		return Hire{}, err
	}
	return s.confirm(ctx, jobID, sub, SideEmployer)
}

// ConfirmAsWorker is the worker's confirmation that they started.
func (s *HireService) ConfirmAsWorker(ctx context.Context, p auth.Principal, jobID string) (Hire, error) {
	if p.Sub == "" {
		return Hire{}, auth.ErrUnauthenticated
	}
	return s.confirm(ctx, jobID, p.Sub, SideWorker)
}

// confirm records one side's confirmation once; the second completes the hire. A confirmation given
// already is answered with the hire as it is.
func (s *HireService) confirm(ctx context.Context, jobID, sub, side string) (Hire, error) {
	var err error
	for range maxRounds {
		var h Hire
		if h, err = s.store.HireOf(ctx, jobID, sub); err != nil {
			return Hire{}, err
		}
		mine := h.EmployerConfirmedAt
		if side == SideWorker {
			mine = h.WorkerConfirmedAt
		}
		switch {
		case !mine.IsZero():
			return h, nil
		case h.Status == HireCancelled:
			return Hire{}, ErrHireCancelled
		case h.Status != HireHired:
			return h, nil
		}
		h, err = s.store.Confirm(ctx, h, side, s.now().UTC().Truncate(time.Millisecond))
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, ErrStale) {
			return Hire{}, err
		}
	}
	return Hire{}, apperr.ErrContention.Wrap(err)
}

// CancelAsEmployer calls a hire off for the employer (before completion), freeing its place.
func (s *HireService) CancelAsEmployer(ctx context.Context, p auth.Principal, jobID, sub string, in CancelInput) (Hire, error) {
	if err := checkReason(in.Reason); err != nil {
		return Hire{}, err
	}
	if _, err := s.employerJob(ctx, p, jobID); err != nil {
		return Hire{}, err
	}
	return s.cancel(ctx, p, jobID, sub, in.Reason)
}

// CancelAsWorker calls the caller's hire off (before completion), freeing its place.
func (s *HireService) CancelAsWorker(ctx context.Context, p auth.Principal, jobID string, in CancelInput) (Hire, error) {
	if p.Sub == "" {
		return Hire{}, auth.ErrUnauthenticated
	}
	if err := checkReason(in.Reason); err != nil {
		return Hire{}, err
	}
	return s.cancel(ctx, p, jobID, p.Sub, in.Reason)
}

func checkReason(r string) error {
	if strings.TrimSpace(r) == "" || !utf8.ValidString(r) || utf8.RuneCountInString(r) > MaxText {
		return ErrInvalid.With("reason: 1 to %d characters", MaxText)
	}
	return nil
}

func (s *HireService) cancel(ctx context.Context, p auth.Principal, jobID, sub, reason string) (Hire, error) {
	var err error
	for range maxRounds {
		var h Hire
		if h, err = s.store.HireOf(ctx, jobID, sub); err != nil {
			return Hire{}, err
		}
		switch h.Status {
		case HireCancelled:
			// A re-sent cancellation, or one whose answer was lost: the job reopens if it has not yet
			// (idempotent; nothing is written when it is open already).
			return h, s.store.ReopenJob(ctx, jobID, s.today())
		case HireCompleted:
			return Hire{}, ErrHireCompleted
		}
		h, err = s.store.CancelHire(ctx, h, p.Sub, reason, s.now().UTC().Truncate(time.Millisecond), s.today())
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, ErrStale) {
			return Hire{}, err
		}
	}
	return Hire{}, apperr.ErrContention.Wrap(err)
}

// ErrStale is what a store answers when an item changed since it was read (its version moved): the
// service reads it again (up to maxRounds, then apperr.ErrContention).
var ErrStale = errors.New("builders: changed since read")

// ViewForEmployer is what an employer sees of a worker (never the phone: JobHires adds it for a hire):
// nil for a hidden profile unless the worker applied to the employer; the display name by visibility
// (full → the name; otherwise the surname + 师傅).
func ViewForEmployer(w Worker, applied bool) *WorkerView {
	if w.Visibility == VisibilityHidden && !applied {
		return nil
	}
	return &WorkerView{Sub: w.Sub, DisplayName: MatchName(w.Name, w.Visibility), Trades: w.Trades, Years: w.Years, Area: w.Area,
		Expected: w.Expected, AvailableFrom: w.AvailableFrom}
}
