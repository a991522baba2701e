package seed

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
)

// bldMem is the builders store's behaviour as far as the seed uses it, counting writes.
type bldMem struct {
	employers map[string]builders.Employer
	workers   map[string]builders.Worker
	entries   map[string][]builders.MatchEntry
	desks     map[string]builders.Desk
	records   int
	writes    int
	fail      string // the write to fail once ("verify"), as a start stopped half-way
}

func newBldMem() *bldMem {
	return &bldMem{employers: map[string]builders.Employer{}, workers: map[string]builders.Worker{},
		entries: map[string][]builders.MatchEntry{}, desks: map[string]builders.Desk{}}
}

func (m *bldMem) Employer(_ context.Context, sub string) (builders.Employer, error) {
	e, ok := m.employers[sub]
	if !ok {
		return e, builders.ErrEmployerNotFound
	}
	return e, nil
}

func (m *bldMem) RegisterEmployer(_ context.Context, e builders.Employer, prev *builders.Employer) error {
	if _, ok := m.employers[e.Sub]; ok && prev == nil {
		return builders.ErrEmployerStatus
	}
	m.writes++
	m.employers[e.Sub] = e
	return nil
}

func (m *bldMem) SetEmployerStatus(_ context.Context, e builders.Employer, from []string, rec *builders.Record) error {
	if m.fail == "verify" {
		m.fail = ""
		return context.DeadlineExceeded
	}
	cur, ok := m.employers[e.Sub]
	if !ok {
		return builders.ErrEmployerNotFound
	}
	if !slices.Contains(from, cur.Status) {
		return builders.ErrEmployerStatus
	}
	m.writes++
	if rec != nil {
		m.records++
	}
	m.employers[e.Sub] = e
	return nil
}

func (m *bldMem) Worker(_ context.Context, sub string) (builders.Worker, error) {
	w, ok := m.workers[sub]
	if !ok {
		return w, builders.ErrNotWorker
	}
	return w, nil
}

func (m *bldMem) PutWorker(_ context.Context, w builders.Worker, entries []builders.MatchEntry, prev *builders.Worker) error {
	if _, ok := m.workers[w.Sub]; ok && prev == nil {
		return builders.ErrWorkerChanged
	}
	m.writes++
	m.workers[w.Sub], m.entries[w.Sub] = w, entries
	return nil
}

func (m *bldMem) Desk(_ context.Context, id string) (builders.Desk, error) {
	d, ok := m.desks[id]
	if !ok {
		return d, builders.ErrDeskNotFound
	}
	return d, nil
}

func (m *bldMem) PutDesk(_ context.Context, d builders.Desk) (builders.Desk, error) {
	m.writes++
	m.desks[d.ID] = d
	return d, nil
}

func TestBuildersSeedIsValid(t *testing.T) {
	bs, err := Builders(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(bs.Employers) != 1 || bs.Employers[0].Sub != "emp-demo" {
		t.Errorf("employers = %+v, want emp-demo", bs.Employers)
	}
	if len(bs.Workers) != 1 || bs.Workers[0].Sub != "worker-demo" || bs.Workers[0].AvailableFrom != "2026-12-01" {
		t.Errorf("workers = %+v, want worker-demo available from the seeding day", bs.Workers)
	}
	kinds := map[string]string{}
	for _, d := range bs.Desks {
		kinds[d.Kind] = d.Staff[0]
	}
	if kinds[builders.DeskMedical] != "desk-staff" || kinds[builders.DeskLegal] != "desk-staff" {
		t.Errorf("desks = %+v, want a medical and a legal desk staffed by desk-staff", bs.Desks)
	}
}

func TestLoadBuilders(t *testing.T) {
	ctx := context.Background()
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC) // 04:00 on 1 December in Mengzi
	suspended := builders.Employer{Sub: "emp-demo", Name: "改过", Status: builders.EmployerSuspended, StatusReason: "admin"}
	edited := builders.Desk{ID: "desk-legal", Name: "改过的法律援助站", Kind: builders.DeskLegal, Staff: []string{"someone"}}
	tests := []struct {
		name       string
		store      func() *bldMem
		wantWrites int
		check      func(t *testing.T, m *bldMem)
	}{
		{
			name:  "an empty table gets a verified employer, a worker and both desks",
			store: newBldMem,
			// registration, verification, worker, 2 desks
			wantWrites: 5,
			check: func(t *testing.T, m *bldMem) {
				e := m.employers["emp-demo"]
				if e.Status != builders.EmployerVerified || e.VerifiedBy != "seed" || e.Licence == "" || !e.VerifiedAt.Equal(now) {
					t.Errorf("employer = %+v", e)
				}
				if m.records != 0 {
					t.Errorf("the seed wrote %d KPI records, want none", m.records)
				}
				w := m.workers["worker-demo"]
				if w.AvailableFrom != "2026-12-01" || w.Phone == "" || len(m.entries["worker-demo"]) != len(w.Trades) {
					t.Errorf("worker = %+v with %d match entries, want available from Mengzi's day and one entry a trade", w, len(m.entries["worker-demo"]))
				}
				if d := m.desks["desk-medical"]; d.Kind != builders.DeskMedical || !d.CreatedAt.Equal(now) {
					t.Errorf("medical desk = %+v", d)
				}
			},
		},
		{
			name: "an admin's suspension and desk edit are kept",
			store: func() *bldMem {
				m := newBldMem()
				m.employers["emp-demo"], m.desks["desk-legal"] = suspended, edited
				return m
			},
			wantWrites: 2, // the worker and the medical desk
			check: func(t *testing.T, m *bldMem) {
				if e := m.employers["emp-demo"]; e.Status != builders.EmployerSuspended || e.Name != "改过" {
					t.Errorf("employer = %+v, want it as the admin left it", e)
				}
				if d := m.desks["desk-legal"]; d.Name != edited.Name {
					t.Errorf("legal desk = %+v, want the admin's", d)
				}
			},
		},
		{
			name: "a registration left pending is verified",
			store: func() *bldMem {
				m := newBldMem()
				m.employers["emp-demo"] = builders.Employer{Sub: "emp-demo", Name: "x", Status: builders.EmployerPending}
				return m
			},
			wantWrites: 4,
			check: func(t *testing.T, m *bldMem) {
				if e := m.employers["emp-demo"]; e.Status != builders.EmployerVerified {
					t.Errorf("employer = %+v, want verified", e)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.store()
			if err := LoadBuilders(ctx, m, tz, now); err != nil {
				t.Fatal(err)
			}
			if m.writes != tc.wantWrites {
				t.Errorf("%d writes, want %d", m.writes, tc.wantWrites)
			}
			tc.check(t, m)
			m.writes = 0
			if err := LoadBuilders(ctx, m, tz, now.Add(48*time.Hour)); err != nil || m.writes != 0 {
				t.Errorf("seeding again: %v, %d writes, want none", err, m.writes)
			}
		})
	}

	// A failed verification fails the load; the next start completes it.
	m := newBldMem()
	m.fail = "verify"
	if err := LoadBuilders(ctx, m, tz, now); err == nil {
		t.Fatal("a failed verification was not reported")
	}
	if err := LoadBuilders(ctx, m, tz, now); err != nil {
		t.Fatal(err)
	}
	if e := m.employers["emp-demo"]; e.Status != builders.EmployerVerified {
		t.Errorf("after a failed start and a good one the employer = %+v", e)
	}
}

// The table's store is a BuildersStore (the local runner seeds through it).
var _ BuildersStore = (*dynamostore.Store)(nil)
