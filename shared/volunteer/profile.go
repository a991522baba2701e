package volunteer

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// ProfileInput is what a citizen sets on a volunteer profile.
type ProfileInput struct {
	Name   string   `json:"name"`
	Skills []string `json:"skills"`
	Area   string   `json:"area"`
}

// text checks one bounded text field: trimmed, 1..max characters (0..max when optional), no control
// characters.
func text(what, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) {
		return "", ErrInvalid.With("%s must be UTF-8 text", what)
	}
	n := utf8.RuneCountInString(v)
	if required && n == 0 {
		return "", ErrInvalid.With("%s is required", what)
	}
	if n > max {
		return "", ErrInvalid.With("%s must be at most %d characters", what, max)
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return "", ErrInvalid.With("%s must not hold control characters", what)
		}
	}
	return v, nil
}

// skills checks a list of skills: at most MaxSkills, each 1..MaxSkill characters, no repeats.
func skills(in []string) ([]string, error) {
	if len(in) > MaxSkills {
		return nil, ErrInvalid.With("at most %d skills", MaxSkills)
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		v, err := text("a skill", s, MaxSkill, true)
		if err != nil {
			return nil, err
		}
		if strings.ContainsRune(v, '\n') {
			return nil, ErrInvalid.With("a skill is one line")
		}
		for _, o := range out {
			if o == v {
				return nil, ErrInvalid.With("skill %q is listed twice", v)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// areaID checks an area id (an id of the city's configuration): 0..64 of A-Z, a-z, 0-9, _ and -.
func areaID(v string) error {
	if !isID(v, 64) {
		return ErrInvalid.With("area must be an area id (at most 64 of A-Z, a-z, 0-9, _ and -)")
	}
	return nil
}

// Check validates and normalises the input.
func (in ProfileInput) Check() (ProfileInput, error) {
	name, err := text("name", in.Name, MaxName, true)
	if err != nil {
		return in, err
	}
	if strings.ContainsRune(name, '\n') {
		return in, ErrInvalid.With("name is one line")
	}
	sk, err := skills(in.Skills)
	if err != nil {
		return in, err
	}
	if err := areaID(in.Area); err != nil {
		return in, err
	}
	return ProfileInput{Name: name, Skills: sk, Area: in.Area}, nil
}

// PutProfile opts the caller in to a volunteer profile, or updates its name, skills and area.
func (s *Service) PutProfile(ctx context.Context, p auth.Principal, in ProfileInput) (Volunteer, error) {
	if p.Sub == "" {
		return Volunteer{}, auth.ErrUnauthenticated
	}
	in, err := in.Check()
	if err != nil {
		return Volunteer{}, err
	}
	return s.store.PutVolunteer(ctx, Volunteer{Sub: p.Sub, Name: in.Name, Skills: in.Skills, Area: in.Area, CreatedAt: s.now()})
}

// Profile returns the caller's profile (ErrNotVolunteer before opting in).
func (s *Service) Profile(ctx context.Context, p auth.Principal) (Volunteer, error) {
	if p.Sub == "" {
		return Volunteer{}, auth.ErrUnauthenticated
	}
	return s.store.Volunteer(ctx, p.Sub)
}

// Verify marks sub's profile verified: by an admin, or an organiser of a team sub joined.
func (s *Service) Verify(ctx context.Context, p auth.Principal, sub string) (Volunteer, error) {
	if p.Sub == "" {
		return Volunteer{}, auth.ErrUnauthenticated
	}
	v, err := s.store.Volunteer(ctx, sub)
	if err != nil {
		return Volunteer{}, err
	}
	if !p.Has(auth.Admin) {
		ok := false
		for _, id := range v.Teams {
			t, err := s.store.Team(ctx, id)
			if errors.Is(err, ErrTeamNotFound) {
				continue
			}
			if err != nil {
				return Volunteer{}, err
			}
			if organises(p, t) {
				ok = true
				break
			}
		}
		if !ok {
			return Volunteer{}, ErrNotOrganiser
		}
	}
	if v.Verified {
		return v, nil
	}
	return s.store.VerifyVolunteer(ctx, sub, p.Sub, s.now())
}
