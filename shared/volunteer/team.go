package volunteer

import (
	"context"
	"slices"
	"strings"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// TeamInput is what an admin sets on a team.
type TeamInput struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Organisers []string `json:"organisers"`
}

// Kinds lists the team kinds.
func Kinds() []string { return []string{KindGroup, KindServiceTeam, KindKiosk, KindPost} }

// subID reports whether v looks like a user id (1-128 of A-Z, a-z, 0-9, _ and -).
func subID(v string) bool { return v != "" && isID(v, 128) }

// isID reports whether v is at most max of A-Z, a-z, 0-9, _ and -.
func isID(v string, max int) bool {
	if len(v) > max {
		return false
	}
	for i := range len(v) {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Check validates and normalises the input.
func (in TeamInput) Check() (TeamInput, error) {
	name, err := text("name", in.Name, MaxName, true)
	if err != nil {
		return in, err
	}
	if strings.ContainsRune(name, '\n') {
		return in, ErrInvalid.With("name is one line")
	}
	if !slices.Contains(Kinds(), in.Kind) {
		return in, ErrInvalid.With("kind must be one of %s", strings.Join(Kinds(), ", "))
	}
	if len(in.Organisers) > MaxOrganisers {
		return in, ErrInvalid.With("at most %d organisers", MaxOrganisers)
	}
	orgs := make([]string, 0, len(in.Organisers))
	for _, o := range in.Organisers {
		if !subID(o) {
			return in, ErrInvalid.With("organisers must be user ids")
		}
		if !slices.Contains(orgs, o) {
			orgs = append(orgs, o)
		}
	}
	slices.Sort(orgs)
	return TeamInput{Name: name, Kind: in.Kind, Organisers: orgs}, nil
}

// PutTeam creates or updates a team (admins only).
func (s *Service) PutTeam(ctx context.Context, p auth.Principal, id string, in TeamInput) (Team, error) {
	if err := p.Require(auth.Admin); err != nil {
		return Team{}, err
	}
	in, err := in.Check()
	if err != nil {
		return Team{}, err
	}
	return s.store.PutTeam(ctx, Team{ID: id, Name: in.Name, Kind: in.Kind, Organisers: in.Organisers, CreatedAt: s.now()})
}

// Teams lists the teams by kind and id.
func (s *Service) Teams(ctx context.Context) ([]Team, error) { return s.store.Teams(ctx) }

// Team returns one team.
func (s *Service) Team(ctx context.Context, id string) (Team, error) { return s.store.Team(ctx, id) }

// Join adds the caller (a volunteer) to a team.
func (s *Service) Join(ctx context.Context, p auth.Principal, teamID string) (Volunteer, error) {
	if p.Sub == "" {
		return Volunteer{}, auth.ErrUnauthenticated
	}
	if _, err := s.store.Team(ctx, teamID); err != nil {
		return Volunteer{}, err
	}
	return s.store.Join(ctx, teamID, p.Sub, s.now())
}

// Leave removes the caller from a team (leaving a team one is not in answers the profile as it is).
func (s *Service) Leave(ctx context.Context, p auth.Principal, teamID string) (Volunteer, error) {
	if p.Sub == "" {
		return Volunteer{}, auth.ErrUnauthenticated
	}
	return s.store.Leave(ctx, teamID, p.Sub)
}
