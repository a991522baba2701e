package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// BuildersSeed is builders' home's starting data (builders.json): a verified demo employer (sign in as its
// owner with POST /_local/token {"sub":"emp-demo","groups":["citizen"]}), a worker (worker-demo) and a
// medical and a legal service desk, both staffed by desk-staff.
type BuildersSeed struct {
	Employers []SeedEmployer  `json:"employers"`
	Workers   []SeedWorker    `json:"workers"`
	Desks     []builders.Desk `json:"desks"`
}

// SeedEmployer is a seeded employer: its owner account and its registration, verified by "seed".
type SeedEmployer struct {
	Sub string `json:"sub"`
	builders.EmployerInput
}

// SeedWorker is a seeded worker profile; it is available from the day it is seeded.
type SeedWorker struct {
	Sub string `json:"sub"`
	builders.WorkerInput
}

// Builders returns the seed, checked as the API checks a registration, a worker's profile and an admin's
// desk; today (the city's local day) dates the workers' availability.
func Builders(today time.Time) (BuildersSeed, error) {
	var bs BuildersSeed
	if err := load("builders.json", &bs); err != nil {
		return bs, err
	}
	for i, e := range bs.Employers {
		in, err := e.Check()
		if err != nil || e.Sub == "" {
			return bs, fmt.Errorf("seed employer %q: %w", e.Sub, errors.Join(err, errIf(e.Sub == "", "no sub")))
		}
		bs.Employers[i].EmployerInput = in
	}
	for i, w := range bs.Workers {
		w.AvailableFrom = today.Format(time.DateOnly)
		in, err := w.Check(today)
		if err != nil || w.Sub == "" {
			return bs, fmt.Errorf("seed worker %q: %w", w.Sub, errors.Join(err, errIf(w.Sub == "", "no sub")))
		}
		bs.Workers[i].WorkerInput = in
	}
	kinds := map[string]bool{}
	for _, d := range bs.Desks {
		kinds[d.Kind] = true
		if d.ID == "" || d.Name == "" || len(d.Staff) == 0 || len(d.Staff) > builders.MaxStaff ||
			(d.Kind != builders.DeskMedical && d.Kind != builders.DeskLegal) {
			return bs, fmt.Errorf("seed desk %q: an id, a name, a kind (medical or legal) and 1 to %d staff", d.ID, builders.MaxStaff)
		}
	}
	if !kinds[builders.DeskMedical] || !kinds[builders.DeskLegal] {
		return bs, errors.New("seed desks: one of each kind (medical, legal)")
	}
	return bs, nil
}

func errIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}

// BuildersStore is where builders' seed goes (shared/dynamostore's Store).
type BuildersStore interface {
	Employer(ctx context.Context, sub string) (builders.Employer, error)
	RegisterEmployer(ctx context.Context, e builders.Employer, prev *builders.Employer) error
	SetEmployerStatus(ctx context.Context, e builders.Employer, from []string, rec *builders.Record) error
	Worker(ctx context.Context, sub string) (builders.Worker, error)
	PutWorker(ctx context.Context, w builders.Worker, entries []builders.MatchEntry, prev *builders.Worker) error
	Desk(ctx context.Context, id string) (builders.Desk, error)
	PutDesk(ctx context.Context, d builders.Desk) (builders.Desk, error)
}

// LoadBuilders writes the employers, workers and desks that are missing, and only those: an employer an
// admin has since suspended (or a profile its user changed, a desk an admin edited) is kept, so it is safe
// on a stack that loaded saved data, and seeding twice writes nothing the second time. A registration
// left pending by a start stopped half-way is verified by the next. The seed's verification writes no KPI
// record: it is the demo's starting state, not an admin's decision of the day.
func LoadBuilders(ctx context.Context, store BuildersStore, tz *time.Location, now time.Time) error {
	now = now.UTC().Truncate(time.Millisecond)
	local := now.In(tz)
	bs, err := Builders(time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, tz))
	if err != nil {
		return err
	}
	for _, e := range bs.Employers {
		if err := loadEmployer(ctx, store, e, now); err != nil {
			return fmt.Errorf("seed employer %s: %w", e.Sub, err)
		}
	}
	for _, in := range bs.Workers {
		_, err := store.Worker(ctx, in.Sub)
		if errors.Is(err, builders.ErrNotWorker) {
			w := builders.Worker{Sub: in.Sub, Name: in.Name, Phone: in.Phone, Trades: in.Trades, Years: in.Years, Area: in.Area,
				Expected: in.Expected, AvailableFrom: in.AvailableFrom, Visibility: in.Visibility, CreatedAt: now, UpdatedAt: now}
			err = store.PutWorker(ctx, w, builders.MatchEntries(w), nil)
		}
		if err != nil {
			return fmt.Errorf("seed worker %s: %w", in.Sub, err)
		}
	}
	for _, d := range bs.Desks {
		_, err := store.Desk(ctx, d.ID)
		if errors.Is(err, builders.ErrDeskNotFound) {
			d.CreatedAt = now
			_, err = store.PutDesk(ctx, d)
		}
		if err != nil {
			return fmt.Errorf("seed desk %s: %w", d.ID, err)
		}
	}
	return nil
}

// loadEmployer registers a missing employer and verifies a pending one; any other status is an admin's.
func loadEmployer(ctx context.Context, store BuildersStore, in SeedEmployer, now time.Time) error {
	e, err := store.Employer(ctx, in.Sub)
	if errors.Is(err, builders.ErrEmployerNotFound) {
		e = builders.Employer{Sub: in.Sub, Name: in.Name, Licence: in.Licence, Contact: in.Contact, Address: in.Address,
			Status: builders.EmployerPending, CreatedAt: now, UpdatedAt: now}
		err = store.RegisterEmployer(ctx, e, nil)
	}
	if err != nil || e.Status != builders.EmployerPending {
		return err
	}
	e.Status, e.VerifiedBy, e.VerifiedAt, e.UpdatedAt = builders.EmployerVerified, "seed", now, now
	return store.SetEmployerStatus(ctx, e, []string{builders.EmployerPending}, nil)
}
