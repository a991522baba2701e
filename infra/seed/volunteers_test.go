package seed

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

func TestVolunteerSeed(t *testing.T) {
	vs, err := Volunteers()
	if err != nil {
		t.Fatal(err)
	}
	// Mengzi's drives and a kiosk, each with an organiser whose profile is seeded.
	wantKinds := map[string]string{"qingsao": volunteer.KindServiceTeam, "aizaizhoumo": volunteer.KindGroup,
		"jinguo": volunteer.KindServiceTeam, "jiaotong": volunteer.KindServiceTeam, "kiosk-nanhu": volunteer.KindKiosk}
	organisers := map[string]bool{}
	for _, o := range vs.Organisers {
		organisers[o.Sub] = true
	}
	seen := map[string]bool{}
	for _, tm := range vs.Teams {
		if seen[tm.ID] {
			t.Errorf("team %s listed twice", tm.ID)
		}
		seen[tm.ID] = true
		if want, ok := wantKinds[tm.ID]; !ok || tm.Kind != want {
			t.Errorf("team %s of kind %s, want one of %v", tm.ID, tm.Kind, wantKinds)
		}
		if len(tm.Organisers) == 0 {
			t.Errorf("team %s has no organiser", tm.ID)
		}
		for _, o := range tm.Organisers {
			if !organisers[o] {
				t.Errorf("team %s's organiser %s has no seeded profile", tm.ID, o)
			}
		}
	}
	if len(seen) != len(wantKinds) {
		t.Errorf("teams %v, want %v", slices.Sorted(maps.Keys(seen)), slices.Sorted(maps.Keys(wantKinds)))
	}
}

// memStore is the volunteer store's behaviour as far as the seed uses it, counting writes.
type memStore struct {
	teams  map[string]volunteer.Team
	vols   map[string]volunteer.Volunteer
	writes int
	fail   string // the write to fail once ("join"), as a start stopped half-way
}

func (m *memStore) Team(_ context.Context, id string) (volunteer.Team, error) {
	t, ok := m.teams[id]
	if !ok {
		return t, volunteer.ErrTeamNotFound
	}
	return t, nil
}

func (m *memStore) PutTeam(_ context.Context, t volunteer.Team) (volunteer.Team, error) {
	m.writes++
	m.teams[t.ID] = t
	return t, nil
}

func (m *memStore) Volunteer(_ context.Context, sub string) (volunteer.Volunteer, error) {
	v, ok := m.vols[sub]
	if !ok {
		return v, volunteer.ErrNotVolunteer
	}
	return v, nil
}

func (m *memStore) PutVolunteer(_ context.Context, v volunteer.Volunteer) (volunteer.Volunteer, error) {
	m.writes++
	m.vols[v.Sub] = v
	return v, nil
}

func (m *memStore) Join(_ context.Context, teamID, sub string, _ time.Time) (volunteer.Volunteer, error) {
	if m.fail == "join" {
		m.fail = ""
		return volunteer.Volunteer{}, context.DeadlineExceeded
	}
	m.writes++
	v := m.vols[sub]
	if !slices.Contains(v.Teams, teamID) {
		v.Teams = append(slices.Clone(v.Teams), teamID)
	}
	m.vols[sub] = v
	return v, nil
}

func (m *memStore) VerifyVolunteer(_ context.Context, sub, by string, at time.Time) (volunteer.Volunteer, error) {
	m.writes++
	v := m.vols[sub]
	v.Verified, v.VerifiedBy, v.VerifiedAt = true, by, at
	m.vols[sub] = v
	return v, nil
}

func TestLoadVolunteers(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	vs, err := Volunteers()
	if err != nil {
		t.Fatal(err)
	}
	edited := volunteer.Team{ID: "qingsao", Name: "改过的名字", Kind: volunteer.KindGroup, Organisers: []string{"someone-else"}}
	tests := []struct {
		name       string
		store      *memStore
		wantWrites int
		check      func(t *testing.T, m *memStore)
	}{
		{
			name:  "an empty table gets every team and a verified organiser in its teams",
			store: &memStore{teams: map[string]volunteer.Team{}, vols: map[string]volunteer.Volunteer{}},
			// 5 teams, 1 profile, 5 joins, 1 verification
			wantWrites: len(vs.Teams) + 1 + len(vs.Teams) + 1,
			check: func(t *testing.T, m *memStore) {
				o := m.vols["vol-organiser"]
				if !o.Verified || o.VerifiedBy != "seed" || len(o.Teams) != len(vs.Teams) || o.Name == "" {
					t.Errorf("organiser = %+v", o)
				}
				if tm := m.teams["kiosk-nanhu"]; tm.Kind != volunteer.KindKiosk || !tm.CreatedAt.Equal(now) || !slices.Contains(tm.Organisers, "vol-organiser") {
					t.Errorf("kiosk = %+v", tm)
				}
			},
		},
		{
			name:       "a team an admin edited is kept",
			store:      &memStore{teams: map[string]volunteer.Team{"qingsao": edited}, vols: map[string]volunteer.Volunteer{"vol-organiser": {Sub: "vol-organiser", Verified: true}}},
			wantWrites: len(vs.Teams) - 1,
			check: func(t *testing.T, m *memStore) {
				if got := m.teams["qingsao"]; got.Name != edited.Name || !slices.Equal(got.Organisers, edited.Organisers) {
					t.Errorf("edited team = %+v, want it kept", got)
				}
				if o := m.vols["vol-organiser"]; len(o.Teams) != 0 {
					t.Errorf("a verified organiser's teams = %v, want them as its user left them", o.Teams)
				}
			},
		},
		{
			name: "a start stopped half-way is completed",
			store: &memStore{teams: map[string]volunteer.Team{}, vols: map[string]volunteer.Volunteer{
				"vol-organiser": {Sub: "vol-organiser", Name: "组织员", Teams: []string{"qingsao", "jinguo"}}}},
			wantWrites: len(vs.Teams) + (len(vs.Teams) - 2) + 1,
			check: func(t *testing.T, m *memStore) {
				if o := m.vols["vol-organiser"]; !o.Verified || len(o.Teams) != len(vs.Teams) || o.Name != "组织员" {
					t.Errorf("organiser = %+v", o)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := LoadVolunteers(ctx, tc.store, now); err != nil {
				t.Fatal(err)
			}
			if tc.store.writes != tc.wantWrites {
				t.Errorf("%d writes, want %d", tc.store.writes, tc.wantWrites)
			}
			tc.check(t, tc.store)
			tc.store.writes = 0
			if err := LoadVolunteers(ctx, tc.store, now.Add(time.Hour)); err != nil || tc.store.writes != 0 {
				t.Errorf("seeding again: %v, %d writes, want none", err, tc.store.writes)
			}
		})
	}

	// A failed join fails the load; the next start completes it.
	m := &memStore{teams: map[string]volunteer.Team{}, vols: map[string]volunteer.Volunteer{}, fail: "join"}
	if err := LoadVolunteers(ctx, m, now); err == nil {
		t.Fatal("a failed join was not reported")
	}
	if err := LoadVolunteers(ctx, m, now); err != nil {
		t.Fatal(err)
	}
	if o := m.vols["vol-organiser"]; !o.Verified || len(o.Teams) != len(vs.Teams) {
		t.Errorf("after a failed start and a good one the organiser = %+v", o)
	}
}

// The table's store is a VolunteerStore (the local runner seeds through it).
var _ VolunteerStore = (*dynamostore.Store)(nil)
