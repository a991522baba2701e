package volunteer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// Attendance methods.
const (
	MethodCode      = "code"      // checked in and out on the spot with the organiser's code
	MethodOrganiser = "organiser" // marked by the organiser
)

// Dispute answers.
const (
	Upheld   = "upheld"
	Rejected = "rejected"
)

// DisputeWindow is how long after a confirmation its hours may be disputed.
const DisputeWindow = 7 * 24 * time.Hour

// Errors of attendance beyond volunteer.go's.
var (
	ErrAlreadyCheckedIn = apperr.New(apperr.Conflict, "already_checked_in", "you checked in already")
	ErrDisputeClosed    = apperr.New(apperr.Conflict, "dispute_closed", "hours may be disputed within 7 days of their confirmation")
)

// ErrAttendanceChanged is what the store answers when the attendance is not as the service read it (a
// concurrent request changed it, or this one's earlier attempt did): nothing was written, and the service
// reads it again. Never an answer: after attempts rounds the request is write_conflict (503, Retry-After).
var ErrAttendanceChanged = errors.New("the attendance changed while the request ran")

// Change is one conditional change of an attendance: to Attendance, from one of the statuses From at
// revision Seen, adding the one dispute (none may exist) when FreshDispute, with Record written in the
// same transaction when there is one (its item is created once: attribute_not_exists).
type Change struct {
	Attendance   Attendance
	From         []string
	Seen         int64
	FreshDispute bool
	Record       *Record
}

// AttendanceStore keeps attendance and service records (shared/dynamostore volunteer_attendance.go).
// Every write is conditional; a condition that fails is ErrAttendanceChanged and wrote nothing.
type AttendanceStore interface {
	Activity(ctx context.Context, id string) (Activity, error)
	Signup(ctx context.Context, activityID, sub string) (Signup, error)
	Team(ctx context.Context, id string) (Team, error)
	// Attendance returns sub's attendance of an activity (ErrNotFound when there is none).
	Attendance(ctx context.Context, activityID, sub string) (Attendance, error)
	// Attendances returns an activity's attendance, every status.
	Attendances(ctx context.Context, activityID string) ([]Attendance, error)
	// CheckIn creates a checked-in attendance of act if there is none.
	CheckIn(ctx context.Context, a Attendance, act Activity) error
	// CheckOut records a's check-out (CheckOutAt, Minutes, status pending) if it is checked in and has not
	// used step.
	CheckOut(ctx context.Context, a Attendance, step int64) error
	// Mark writes an organiser's attendance of act (status pending) if there is none or it is checked in or
	// pending.
	Mark(ctx context.Context, a Attendance, act Activity) error
	// ChangeAttendance applies a confirmation, a dispute, an answer or a revocation.
	ChangeAttendance(ctx context.Context, c Change) error
	// RecordsOn calls each with the service records made on a local day, in the order they were made.
	RecordsOn(ctx context.Context, day string, each func(Record) error) error
}

// AttendanceService runs check-in and check-out, hours, confirmation, disputes and revocation.
type AttendanceService struct {
	store AttendanceStore
	tz    *time.Location
	now   func() time.Time
}

// NewAttendanceService returns the service on store; days are local days in tz. now may be nil (time.Now).
func NewAttendanceService(store AttendanceStore, tz *time.Location, now func() time.Time) *AttendanceService {
	if now == nil {
		now = time.Now
	}
	return &AttendanceService{store: store, tz: tz, now: now}
}

// attempts bounds the read-decide-write rounds of one request: each lost round means another request
// changed the attendance, whose new state the next round answers or builds on.
const attempts = 4

// now is the service's clock at the store's precision (milliseconds), so what a request answers is what it
// stored.
func (s *AttendanceService) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// organisedActivity reads the activity and refuses a caller who does not organise its team.
func (s *AttendanceService) organisedActivity(ctx context.Context, p auth.Principal, id string) (Activity, error) {
	if p.Sub == "" {
		return Activity{}, auth.ErrUnauthenticated
	}
	a, err := s.store.Activity(ctx, id)
	if err != nil {
		return Activity{}, err
	}
	if p.Has(auth.Admin) {
		return a, nil
	}
	t, err := s.store.Team(ctx, a.TeamID)
	if err != nil && !errors.Is(err, ErrTeamNotFound) {
		return Activity{}, err
	}
	if err != nil || !organises(p, t) {
		return Activity{}, ErrNotOrganiser
	}
	return a, nil
}

// Code returns the activity's current check-in code (its organisers).
func (s *AttendanceService) Code(ctx context.Context, p auth.Principal, activityID string) (Code, error) {
	a, err := s.organisedActivity(ctx, p, activityID)
	if err != nil {
		return Code{}, err
	}
	if a.Status != ActivityOpen {
		return Code{}, ErrActivityClosed
	}
	c, err := CurrentCode(a.ID, a.Secret, s.now())
	if err != nil {
		return Code{}, fmt.Errorf("code of activity %s: %w", a.ID, err)
	}
	return c, nil
}

// Punch is a check-in or check-out: the code the organiser shows and the phone's location.
type Punch struct {
	Code     string `json:"code"`
	Location *Point `json:"location"`
}

// punch runs the checks a check-in and a check-out share, before anything is read of the attendance: the
// caller is a volunteer holding a place of an open activity, at the place, with a code of it; it returns
// the activity and the code's step.
func (s *AttendanceService) punch(ctx context.Context, p auth.Principal, activityID string, in Punch, now time.Time) (Activity, int64, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Activity{}, 0, err
	}
	if in.Location == nil {
		return Activity{}, 0, ErrInvalid.With("location {lat, lng} is required")
	}
	if err := in.Location.Check(); err != nil {
		return Activity{}, 0, err
	}
	if !wellFormedCode(in.Code) {
		return Activity{}, 0, ErrCodeInvalid
	}
	a, err := s.store.Activity(ctx, activityID)
	if err != nil {
		return Activity{}, 0, err
	}
	if a.Status != ActivityOpen {
		return Activity{}, 0, ErrActivityClosed
	}
	su, err := s.store.Signup(ctx, activityID, p.Sub)
	if err != nil {
		return Activity{}, 0, err
	}
	if su.Status != SignedUp {
		return Activity{}, 0, ErrNotSignedUp
	}
	inside, err := a.Place.Contains(*in.Location)
	if err != nil {
		return Activity{}, 0, fmt.Errorf("place of activity %s: %w", a.ID, err)
	}
	if !inside {
		return Activity{}, 0, ErrOutsidePlace
	}
	step, err := CheckCode(a.Secret, in.Code, now)
	if err != nil {
		return Activity{}, 0, err
	}
	return a, step, nil
}

// CheckIn checks the caller in. The same check-in sent again (same code) is answered with the attendance
// as it is; any number of them at once write one attendance.
func (s *AttendanceService) CheckIn(ctx context.Context, p auth.Principal, activityID string, in Punch) (Attendance, error) {
	now := s.clock()
	a, step, err := s.punch(ctx, p, activityID, in, now)
	if err != nil {
		return Attendance{}, err
	}
	if !checkInOpen(a, now) {
		return Attendance{}, ErrOutsideWindow
	}
	for range attempts {
		cur, err := s.store.Attendance(ctx, activityID, p.Sub)
		switch {
		case err == nil && slices.Contains(cur.UsedSteps, step):
			return cur, nil // this check-in, applied already
		case err == nil:
			return Attendance{}, ErrAlreadyCheckedIn
		case !errors.Is(err, ErrNotFound):
			return Attendance{}, err
		}
		att := Attendance{ActivityID: a.ID, Sub: p.Sub, TeamID: a.TeamID, Type: a.Type, Title: a.Title,
			Status: CheckedIn, Method: MethodCode, CheckInAt: now, UsedSteps: []int64{step}}
		err = s.store.CheckIn(ctx, att, a)
		if !errors.Is(err, ErrAttendanceChanged) {
			return att, err
		}
	}
	return Attendance{}, apperr.ErrContention
}

// CheckOut checks the caller out, with the hours of the rule. A check-out sent again is answered with
// the attendance as it is.
func (s *AttendanceService) CheckOut(ctx context.Context, p auth.Principal, activityID string, in Punch) (Attendance, error) {
	now := s.clock()
	a, step, err := s.punch(ctx, p, activityID, in, now)
	if err != nil {
		return Attendance{}, err
	}
	for range attempts {
		cur, err := s.store.Attendance(ctx, activityID, p.Sub)
		if errors.Is(err, ErrNotFound) {
			return Attendance{}, ErrNotCheckedIn
		}
		if err != nil {
			return Attendance{}, err
		}
		used := slices.Contains(cur.UsedSteps, step)
		switch {
		case cur.Status != CheckedIn && used && !cur.CheckOutAt.IsZero():
			return cur, nil // this check-out, applied already
		case cur.Status != CheckedIn:
			return Attendance{}, ErrCheckedOut
		case used:
			return Attendance{}, ErrCodeUsed // the check-in's code: scan the next one
		case !checkOutOpen(a, cur.CheckInAt, now):
			return Attendance{}, ErrOutsideWindow
		}
		next := cur
		next.Status, next.CheckOutAt = Pending, now
		next.Minutes = CreditedMinutes(cur.CheckInAt, now, a.Start, a.End)
		next.UsedSteps = append(slices.Clone(cur.UsedSteps), step)
		err = s.store.CheckOut(ctx, next, step)
		if !errors.Is(err, ErrAttendanceChanged) {
			return next, err
		}
	}
	return Attendance{}, apperr.ErrContention
}

// Marking is an organiser's record of a volunteer's attendance.
type Marking struct {
	CheckInAt  time.Time `json:"checkInAt"`
	CheckOutAt time.Time `json:"checkOutAt"`
}

// Mark records sub's attendance as the organiser saw it (any time after it, until it is confirmed): the
// hours of the rule, pending confirmation. It replaces a check-in or check-out on the spot.
func (s *AttendanceService) Mark(ctx context.Context, p auth.Principal, activityID, sub string, m Marking) (Attendance, error) {
	now := s.clock()
	a, err := s.organisedActivity(ctx, p, activityID)
	if err != nil {
		return Attendance{}, err
	}
	in, out := m.CheckInAt.UTC().Truncate(time.Millisecond), m.CheckOutAt.UTC().Truncate(time.Millisecond)
	switch {
	case in.IsZero() || out.IsZero() || !out.After(in):
		return Attendance{}, ErrInvalid.With("checkInAt and checkOutAt are RFC 3339 times, checkOutAt after checkInAt")
	case in.Before(a.Start.Add(-CheckInEarly)) || out.After(a.End.Add(CheckOutLate)):
		return Attendance{}, ErrInvalid.With("checkInAt and checkOutAt lie within 30 minutes of the activity's window")
	case out.After(now):
		return Attendance{}, ErrInvalid.With("checkOutAt is in the future")
	}
	if a.Status != ActivityOpen {
		return Attendance{}, ErrActivityClosed
	}
	su, err := s.store.Signup(ctx, activityID, sub)
	if err != nil {
		return Attendance{}, err
	}
	if su.Status != SignedUp {
		return Attendance{}, ErrNotSignedUp
	}
	for range attempts {
		cur, err := s.store.Attendance(ctx, activityID, sub)
		if errors.Is(err, ErrNotFound) {
			cur, err = Attendance{ActivityID: a.ID, Sub: sub}, nil
		}
		if err != nil {
			return Attendance{}, err
		}
		if cur.Status != "" && cur.Status != CheckedIn && cur.Status != Pending {
			return Attendance{}, ErrAttendanceState.With("the attendance is %s: it can no longer be marked", cur.Status)
		}
		next := cur
		next.TeamID, next.Type, next.Title = a.TeamID, a.Type, a.Title
		next.Status, next.Method, next.CheckInAt, next.CheckOutAt = Pending, MethodOrganiser, in, out
		next.Minutes = CreditedMinutes(in, out, a.Start, a.End)
		if cur.Status == Pending && cur.Method == MethodOrganiser && cur.CheckInAt.Equal(in) && cur.CheckOutAt.Equal(out) {
			return cur, nil // this marking, applied already
		}
		err = s.store.Mark(ctx, next, a)
		if !errors.Is(err, ErrAttendanceChanged) {
			return next, err
		}
	}
	return Attendance{}, apperr.ErrContention
}

// List returns an activity's attendance (its organisers).
func (s *AttendanceService) List(ctx context.Context, p auth.Principal, activityID string) ([]Attendance, error) {
	if _, err := s.organisedActivity(ctx, p, activityID); err != nil {
		return nil, err
	}
	return s.store.Attendances(ctx, activityID)
}

// Confirmation is an organiser's confirmation of hours ({minutes?}: the computed minutes when left out), or
// an answer to a dispute ({answer: "upheld", minutes} or {answer: "rejected"}).
type Confirmation struct {
	Minutes *int64 `json:"minutes,omitempty"`
	Answer  string `json:"answer,omitempty"`
}

// checkMinutes refuses minutes outside 0 to the activity's window or off the 15-minute rule.
func checkMinutes(what string, m int64, a Activity) error {
	step := int64(HoursStep / time.Minute)
	if m < 0 || m > windowMinutes(a) || m%step != 0 {
		return ErrInvalid.With("%s must be a multiple of %d from 0 to %d (the activity's window)", what, step, windowMinutes(a))
	}
	return nil
}

// Confirm confirms sub's hours, or answers the volunteer's dispute: a confirmation, and an upheld dispute,
// is a new revision with its service record (written once, whatever is re-sent); a rejection keeps the
// confirmed hours. The same confirmation sent again is answered with the attendance as it is.
func (s *AttendanceService) Confirm(ctx context.Context, p auth.Principal, activityID, sub string, c Confirmation) (Attendance, error) {
	now := s.clock()
	a, err := s.organisedActivity(ctx, p, activityID)
	if err != nil {
		return Attendance{}, err
	}
	switch c.Answer {
	case "":
	case Upheld:
		if c.Minutes == nil {
			return Attendance{}, ErrInvalid.With("an upheld dispute gives the minutes")
		}
	case Rejected:
		if c.Minutes != nil {
			return Attendance{}, ErrInvalid.With("a rejected dispute keeps the minutes: leave minutes out")
		}
	default:
		return Attendance{}, ErrInvalid.With("answer is upheld or rejected")
	}
	if c.Minutes != nil {
		if err := checkMinutes("minutes", *c.Minutes, a); err != nil {
			return Attendance{}, err
		}
	}
	for range attempts {
		cur, err := s.store.Attendance(ctx, activityID, sub)
		if err != nil {
			return Attendance{}, err
		}
		ch, done, err := confirmation(cur, a, c, p.Sub, now)
		if done || err != nil {
			return cur, err
		}
		err = s.store.ChangeAttendance(ctx, ch)
		if !errors.Is(err, ErrAttendanceChanged) {
			return ch.Attendance, err
		}
	}
	return Attendance{}, apperr.ErrContention
}

// confirmation decides what a confirmation or answer c does to cur: a change, or done when cur already
// shows it (the request was applied before).
func confirmation(cur Attendance, a Activity, c Confirmation, by string, now time.Time) (Change, bool, error) {
	next := cur
	switch {
	case c.Answer == "" && cur.Status == Pending:
		m := cur.Minutes
		if c.Minutes != nil {
			m = *c.Minutes
		}
		next.Status, next.Confirmed = Confirmed, m
	case c.Answer == "" && cur.Status == Confirmed && cur.Dispute == nil && (c.Minutes == nil || *c.Minutes == cur.Confirmed):
		return Change{}, true, nil
	case c.Answer == "":
		return Change{}, false, ErrAttendanceState.With("the attendance is %s: only pending attendance is confirmed (a disputed one is answered)", cur.Status)
	case cur.Status == Disputed && c.Answer == Upheld:
		d := *cur.Dispute
		d.Answer = Upheld
		next.Status, next.Confirmed, next.Dispute = Confirmed, *c.Minutes, &d
	case cur.Status == Disputed: // rejected: the hours stand, no new revision
		d := *cur.Dispute
		d.Answer = Rejected
		next.Status, next.Dispute = Confirmed, &d
		return Change{Attendance: next, From: []string{Disputed}, Seen: cur.Revision}, false, nil
	case cur.Status == Confirmed && cur.Dispute != nil && cur.Dispute.Answer == c.Answer &&
		(c.Minutes == nil || *c.Minutes == cur.Confirmed):
		return Change{}, true, nil
	default:
		return Change{}, false, ErrAttendanceState.With("the attendance is %s: there is no dispute to answer", cur.Status)
	}
	next.ConfirmedBy, next.ConfirmedAt, next.Revision = by, now, cur.Revision+1
	rec := Record{ActivityID: cur.ActivityID, Sub: cur.Sub, Revision: next.Revision, Kind: RecordConfirmed,
		Minutes: next.Confirmed, Delta: next.Confirmed - cur.Confirmed, By: by, At: now,
		TeamID: a.TeamID, Type: a.Type, Title: a.Title, Start: a.Start, End: a.End}
	if cur.Revision > 0 {
		rec.PrevAt = cur.ConfirmedAt
	}
	next.PrevAt, next.PrevMinutes = rec.PrevAt, cur.Confirmed
	return Change{Attendance: next, From: []string{cur.Status}, Seen: cur.Revision, Record: &rec}, false, nil
}

// DisputeRequest is a volunteer's dispute of confirmed hours.
type DisputeRequest struct {
	Reason  string `json:"reason"`
	Minutes int64  `json:"minutes"`
}

// Dispute disputes the caller's confirmed hours: once, within DisputeWindow of the confirmation. The same
// dispute sent again is answered with the attendance as it is; another is dispute_used.
func (s *AttendanceService) Dispute(ctx context.Context, p auth.Principal, activityID string, d DisputeRequest) (Attendance, error) {
	now := s.clock()
	if err := p.Require(auth.Citizen); err != nil {
		return Attendance{}, err
	}
	reason, err := oneText("reason", d.Reason)
	if err != nil {
		return Attendance{}, err
	}
	a, err := s.store.Activity(ctx, activityID)
	if err != nil {
		return Attendance{}, err
	}
	if err := checkMinutes("minutes", d.Minutes, a); err != nil {
		return Attendance{}, err
	}
	for range attempts {
		cur, err := s.store.Attendance(ctx, activityID, p.Sub)
		if err != nil {
			return Attendance{}, err
		}
		switch {
		case cur.Dispute != nil && cur.Dispute.Reason == reason && cur.Dispute.Minutes == d.Minutes:
			return cur, nil // this dispute, applied already
		case cur.Dispute != nil:
			return Attendance{}, ErrDisputeUsed
		case cur.Status != Confirmed:
			return Attendance{}, ErrAttendanceState.With("the attendance is %s: only confirmed hours are disputed", cur.Status)
		case now.After(cur.ConfirmedAt.Add(DisputeWindow)):
			return Attendance{}, ErrDisputeClosed
		}
		next := cur
		next.Status, next.Dispute = Disputed, &Dispute{Reason: reason, Minutes: d.Minutes, At: now}
		err = s.store.ChangeAttendance(ctx, Change{Attendance: next, From: []string{Confirmed}, Seen: cur.Revision, FreshDispute: true})
		if !errors.Is(err, ErrAttendanceChanged) {
			return next, err
		}
	}
	return Attendance{}, apperr.ErrContention
}

// Revocation is an organiser's or admin's revocation of an attendance.
type Revocation struct {
	Reason string `json:"reason"`
}

// Revoke revokes sub's attendance. Confirmed (or disputed) hours get a revoked service record of a new
// revision, which takes their points back; an attendance not yet confirmed is revoked without one. A
// revoked attendance is answered as it is.
func (s *AttendanceService) Revoke(ctx context.Context, p auth.Principal, activityID, sub string, r Revocation) (Attendance, error) {
	now := s.clock()
	reason, err := oneText("reason", r.Reason)
	if err != nil {
		return Attendance{}, err
	}
	a, err := s.organisedActivity(ctx, p, activityID)
	if err != nil {
		return Attendance{}, err
	}
	for range attempts {
		cur, err := s.store.Attendance(ctx, activityID, sub)
		if err != nil {
			return Attendance{}, err
		}
		if cur.Status == Revoked {
			return cur, nil
		}
		next := cur
		next.Status, next.RevokedAt, next.RevokeReason = Revoked, now, reason
		ch := Change{Attendance: next, From: []string{cur.Status}, Seen: cur.Revision}
		if cur.Status == Confirmed || cur.Status == Disputed {
			next.Revision, next.Confirmed = cur.Revision+1, 0
			next.PrevAt, next.PrevMinutes = cur.ConfirmedAt, cur.Confirmed
			ch.Attendance = next
			ch.Record = &Record{ActivityID: cur.ActivityID, Sub: cur.Sub, Revision: next.Revision, Kind: RecordRevoked,
				Minutes: 0, Delta: -cur.Confirmed, PrevAt: cur.ConfirmedAt, By: p.Sub, At: now,
				TeamID: a.TeamID, Type: a.Type, Title: a.Title, Start: a.Start, End: a.End}
		}
		err = s.store.ChangeAttendance(ctx, ch)
		if !errors.Is(err, ErrAttendanceChanged) {
			return next, err
		}
	}
	return Attendance{}, apperr.ErrContention
}

// oneText checks a free-text field: 1 to MaxText characters of valid UTF-8 without control characters
// other than newlines, trimmed.
func oneText(what, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxText {
		return "", ErrInvalid.With("%s must be 1 to %d characters", what, MaxText)
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return "", ErrInvalid.With("%s has a control character", what)
		}
	}
	return v, nil
}
