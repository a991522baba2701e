package seed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// VolunteerSeed is the volunteer service's starting data (volunteers.json): Mengzi's recurring drives as
// teams — 全民清扫日, 爱在周末, 巾帼英雄·清洁家园, 文明交通劝导 — and a service kiosk, each organised by a
// seeded user (sign in as it with POST /_local/token {"sub":"vol-organiser","groups":["citizen"]}).
type VolunteerSeed struct {
	Teams      []SeedTeam      `json:"teams"`
	Organisers []SeedOrganiser `json:"organisers"`
}

// SeedTeam is a seeded team.
type SeedTeam struct {
	ID string `json:"id"`
	volunteer.TeamInput
}

// SeedOrganiser is a seeded organiser's volunteer profile: verified by "seed", a member of every team
// that names it.
type SeedOrganiser struct {
	Sub string `json:"sub"`
	volunteer.ProfileInput
}

// Volunteers returns the seeded teams and organisers, checked as the API checks an admin's or a
// volunteer's input.
func Volunteers() (VolunteerSeed, error) {
	var vs VolunteerSeed
	if err := load("volunteers.json", &vs); err != nil {
		return vs, err
	}
	for i, t := range vs.Teams {
		in, err := t.Check()
		if err != nil {
			return vs, fmt.Errorf("seed team %s: %w", t.ID, err)
		}
		vs.Teams[i].TeamInput = in
	}
	for i, o := range vs.Organisers {
		in, err := o.Check()
		if err != nil {
			return vs, fmt.Errorf("seed organiser %s: %w", o.Sub, err)
		}
		vs.Organisers[i].ProfileInput = in
	}
	return vs, nil
}

// VolunteerStore is where the volunteer seed goes (shared/dynamostore's Store).
type VolunteerStore interface {
	Team(ctx context.Context, id string) (volunteer.Team, error)
	PutTeam(ctx context.Context, t volunteer.Team) (volunteer.Team, error)
	Volunteer(ctx context.Context, sub string) (volunteer.Volunteer, error)
	PutVolunteer(ctx context.Context, v volunteer.Volunteer) (volunteer.Volunteer, error)
	Join(ctx context.Context, teamID, sub string, at time.Time) (volunteer.Volunteer, error)
	VerifyVolunteer(ctx context.Context, sub, by string, at time.Time) (volunteer.Volunteer, error)
}

// LoadVolunteers writes the teams and organiser profiles that are missing, and only those: a team an admin
// has edited since (its organisers, say) or a profile its user has changed is kept, so it is safe on a
// stack that loaded saved data, and seeding twice writes nothing the second time.
func LoadVolunteers(ctx context.Context, store VolunteerStore, now time.Time) error {
	vs, err := Volunteers()
	if err != nil {
		return err
	}
	for _, t := range vs.Teams {
		_, err := store.Team(ctx, t.ID)
		if errors.Is(err, volunteer.ErrTeamNotFound) {
			_, err = store.PutTeam(ctx, volunteer.Team{ID: t.ID, Name: t.Name, Kind: t.Kind, Organisers: t.Organisers, CreatedAt: now})
		}
		if err != nil {
			return fmt.Errorf("seed team %s: %w", t.ID, err)
		}
	}
	for _, o := range vs.Organisers {
		if err := loadOrganiser(ctx, store, o, vs.Teams, now); err != nil {
			return fmt.Errorf("seed organiser %s: %w", o.Sub, err)
		}
	}
	return nil
}

// loadOrganiser writes an organiser's missing profile, joins the teams that name it and verifies it. A
// verified profile is done: what its user changed since (a team left) is kept. Each step is safe to repeat,
// so a start stopped half-way is completed by the next.
func loadOrganiser(ctx context.Context, store VolunteerStore, o SeedOrganiser, teams []SeedTeam, now time.Time) error {
	v, err := store.Volunteer(ctx, o.Sub)
	if errors.Is(err, volunteer.ErrNotVolunteer) {
		v, err = store.PutVolunteer(ctx, volunteer.Volunteer{Sub: o.Sub, Name: o.Name, Skills: o.Skills, Area: o.Area, CreatedAt: now})
	}
	if err != nil || v.Verified {
		return err
	}
	for _, t := range teams {
		if slices.Contains(t.Organisers, o.Sub) && !slices.Contains(v.Teams, t.ID) {
			if v, err = store.Join(ctx, t.ID, o.Sub, now); err != nil {
				return fmt.Errorf("join %s: %w", t.ID, err)
			}
		}
	}
	_, err = store.VerifyVolunteer(ctx, o.Sub, "seed", now)
	return err
}
