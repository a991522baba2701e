package volunteer

import (
	"context"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// SignUp takes a place in an activity for the caller, or a place in its waitlist when it is full. A
// sign-up that exists is answered as it is (created false): a re-sent request changes nothing. The store
// refuses a cancelled or finished activity (ErrActivityClosed); a caller with no profile is refused
// before anything is written (ErrNotVolunteer).
func (s *Service) SignUp(ctx context.Context, p auth.Principal, activityID string) (Signup, bool, error) {
	if p.Sub == "" {
		return Signup{}, false, auth.ErrUnauthenticated
	}
	a, su, vol, err := s.store.ActivityWithSignup(ctx, activityID, p.Sub)
	if err != nil {
		return Signup{}, false, err
	}
	if su != nil && su.Status != Cancelled {
		return *su, false, nil // a re-sent request, or a second tap: nothing to write
	}
	if !vol {
		return Signup{}, false, ErrNotVolunteer
	}
	now := s.now()
	if a.Status != ActivityOpen || !now.Before(a.End) {
		return Signup{}, false, ErrActivityClosed
	}
	return s.store.SignUp(ctx, a, p.Sub, now)
}

// CancelSignup gives up the caller's place (the first waiter moves up) or place in the waitlist. A
// cancelled sign-up is answered as it is.
func (s *Service) CancelSignup(ctx context.Context, p auth.Principal, activityID string) (Signup, error) {
	if p.Sub == "" {
		return Signup{}, auth.ErrUnauthenticated
	}
	return s.store.CancelSignup(ctx, activityID, p.Sub)
}

// Signups lists an activity's sign-ups (an organiser of its team).
func (s *Service) Signups(ctx context.Context, p auth.Principal, activityID string) ([]Signup, error) {
	if _, err := s.requireActivityOrganiser(ctx, p, activityID); err != nil {
		return nil, err
	}
	return s.store.Signups(ctx, activityID)
}

// Mine lists the caller's activities with their sign-ups, soonest first.
func (s *Service) Mine(ctx context.Context, p auth.Principal) ([]Mine, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	return s.store.MyActivities(ctx, p.Sub, s.now().Add(-MineSince))
}

// The caller's list shows activities that started at most MineSince ago, MaxMine of them.
const (
	MineSince = 7 * 24 * time.Hour
	MaxMine   = 100
)
