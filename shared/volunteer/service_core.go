package volunteer

import (
	"context"
	"crypto/rand"
	"io"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// Store keeps profiles, teams, activities and sign-ups (shared/dynamostore volunteer.go). Every write is
// conditional and safe to apply twice.
type Store interface {
	// Volunteer returns a profile (ErrNotVolunteer when there is none).
	Volunteer(ctx context.Context, sub string) (Volunteer, error)
	// PutVolunteer creates the profile (with v.CreatedAt) or updates its name, skills and area.
	PutVolunteer(ctx context.Context, v Volunteer) (Volunteer, error)
	// VerifyVolunteer marks a profile verified (once: a verified profile is answered as it is).
	VerifyVolunteer(ctx context.Context, sub, by string, at time.Time) (Volunteer, error)
	Team(ctx context.Context, id string) (Team, error)
	// PutTeam creates a team (with t.CreatedAt) or replaces its name, kind and organisers.
	PutTeam(ctx context.Context, t Team) (Team, error)
	Teams(ctx context.Context) ([]Team, error)
	// Join adds sub to a team (ErrTooManyTeams past MaxTeams); Leave removes it. Both answer the profile.
	Join(ctx context.Context, teamID, sub string, at time.Time) (Volunteer, error)
	Leave(ctx context.Context, teamID, sub string) (Volunteer, error)
	// PublishActivities writes the activities of one publication together, once: a publication whose
	// first activity exists answers the stored ones, or idem.ErrKeyReused when its body hash differs.
	PublishActivities(ctx context.Context, acts []Activity, bodyHash string) ([]Activity, error)
	Activity(ctx context.Context, id string) (Activity, error)
	// ActivitiesOn returns the activities starting on a local day whose place's geohash starts with one of
	// cells (every one of the day when cells is empty).
	ActivitiesOn(ctx context.Context, day string, cells []string) ([]Activity, error)
	// CancelActivity marks an activity cancelled (a cancelled one is answered as it is).
	CancelActivity(ctx context.Context, id string) (Activity, error)
	// SignUp takes a place in a (the store checks: still open) or joins its waitlist (README
	// "Volunteers") for sub, who has a profile; created is false when the sign-up existed (it is answered
	// as it is). ErrActivityClosed once the activity is cancelled or over (by at).
	SignUp(ctx context.Context, a Activity, sub string, at time.Time) (s Signup, created bool, err error)
	// CancelSignup cancels sub's sign-up, moving the first waiter up when it held a place.
	CancelSignup(ctx context.Context, activityID, sub string) (Signup, error)
	Signup(ctx context.Context, activityID, sub string) (Signup, error)
	// ActivityWithSignup reads an activity, sub's sign-up of it (nil when there is none) and whether sub
	// has a volunteer profile, in one call.
	ActivityWithSignup(ctx context.Context, id, sub string) (a Activity, s *Signup, volunteer bool, err error)
	// Signups returns an activity's sign-ups (every status).
	Signups(ctx context.Context, activityID string) ([]Signup, error)
	// MyActivities returns sub's sign-ups of activities starting from `from` on, with the activities,
	// soonest first (at most MaxMine).
	MyActivities(ctx context.Context, sub string, from time.Time) ([]Mine, error)
}

// AttendanceReader reads a volunteer's attendance of an activity (ErrNotFound when there is none): the
// activity's page shows the caller's.
type AttendanceReader interface {
	Attendance(ctx context.Context, activityID, sub string) (Attendance, error)
}

// Mine is one of a volunteer's activities with the volunteer's sign-up.
type Mine struct {
	Activity Activity `json:"activity"`
	Signup   Signup   `json:"signup"`
}

// Service runs profiles, teams, activities and sign-ups.
type Service struct {
	store Store
	now   func() time.Time
	tz    *time.Location
	rand  io.Reader // activity secrets
	att   AttendanceReader
}

// NewService returns the service on store; days are local days in tz. now may be nil (time.Now).
func NewService(store Store, tz *time.Location, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, tz: tz, rand: rand.Reader}
}

// WithAttendance returns the service showing the caller's attendance on an activity's page.
func (s *Service) WithAttendance(r AttendanceReader) *Service {
	c := *s
	c.att = r
	return &c
}

// organises reports whether p may act as an organiser of team t.
func organises(p auth.Principal, t Team) bool {
	if p.Has(auth.Admin) {
		return true
	}
	for _, o := range t.Organisers {
		if o == p.Sub {
			return true
		}
	}
	return false
}

// requireOrganiser reads the team and refuses a caller who does not organise it.
func (s *Service) requireOrganiser(ctx context.Context, p auth.Principal, teamID string) (Team, error) {
	if p.Sub == "" {
		return Team{}, auth.ErrUnauthenticated
	}
	t, err := s.store.Team(ctx, teamID)
	if err != nil {
		return Team{}, err
	}
	if !organises(p, t) {
		return Team{}, ErrNotOrganiser
	}
	return t, nil
}

// TZ is the city's time zone (local days).
func (s *Service) TZ() *time.Location { return s.tz }
