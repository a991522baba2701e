package builders

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
)

func TestViewForEmployer(t *testing.T) {
	w := Worker{Sub: "w1", Name: "张建国", Phone: "13900000000", Trades: []string{"bricklayer"}, Years: 6}
	cases := []struct {
		visibility string
		applied    bool
		wantNil    bool
		wantName   string
	}{
		{VisibilityHidden, false, true, ""},
		{VisibilityHidden, true, false, "张师傅"},
		{VisibilityProfile, false, false, "张师傅"},
		{VisibilityProfile, true, false, "张师傅"},
		{VisibilityFull, false, false, "张建国"},
	}
	for _, c := range cases {
		w.Visibility = c.visibility
		v := ViewForEmployer(w, c.applied)
		if (v == nil) != c.wantNil {
			t.Errorf("%s applied=%t: view %+v, want nil %t", c.visibility, c.applied, v, c.wantNil)
			continue
		}
		if v != nil && (v.DisplayName != c.wantName || v.Phone != "" || v.Sub != "w1" || v.Years != 6) {
			t.Errorf("%s applied=%t: view %+v, want %q without the phone", c.visibility, c.applied, v, c.wantName)
		}
	}
}

func TestHireInputs(t *testing.T) {
	long := strings.Repeat("字", MaxText+1)
	cases := []struct {
		name string
		err  error
	}{
		{"answer accept", checkAnswer(AnswerAccept)},
		{"answer decline", checkAnswer(AnswerDecline)},
		{"answer maybe", checkAnswer("maybe")},
		{"answer empty", checkAnswer("")},
		{"message empty", checkMessage("")},
		{"message at the bound", checkMessage(long[len("字"):])},
		{"message too long", checkMessage(long)},
		{"message not UTF-8", checkMessage("\xff")},
		{"reason", checkReason("家里有事")},
		{"reason blank", checkReason("  ")},
		{"reason too long", checkReason(long)},
	}
	want := map[string]bool{"answer accept": true, "answer decline": true, "message empty": true,
		"message at the bound": true, "reason": true}
	for _, c := range cases {
		if ok := c.err == nil; ok != want[c.name] {
			t.Errorf("%s: err %v, want ok %t", c.name, c.err, want[c.name])
		}
		if c.err != nil && !errors.Is(c.err, ErrInvalid) {
			t.Errorf("%s: err %v, want invalid_builders_request", c.name, c.err)
		}
	}
}

// fakeHires is a HireStore holding one job, its employer, workers, applications and hires in memory; it
// counts the writes the service asks for.
type fakeHires struct {
	HireStore
	job    Job
	emp    Employer
	apps   map[string]Application
	hires  map[string]Hire
	writes int
}

func (f *fakeHires) Job(context.Context, string) (Job, error) { return f.job, nil }
func (f *fakeHires) FillRepair(context.Context, string) error {
	if f.job.Status == JobOpen && f.job.Hired >= f.job.Headcount {
		f.job.Status = JobFilled
		f.writes++
	}
	return nil
}
func (f *fakeHires) Employer(context.Context, string) (Employer, error) { return f.emp, nil }
func (f *fakeHires) Worker(_ context.Context, sub string) (Worker, error) {
	return Worker{Sub: sub, Name: "李四", Visibility: VisibilityProfile}, nil
}
func (f *fakeHires) Workers(_ context.Context, subs []string) (map[string]Worker, error) {
	return map[string]Worker{}, nil
}
func (f *fakeHires) Application(_ context.Context, _, sub string) (Application, error) {
	if a, ok := f.apps[sub]; ok {
		return a, nil
	}
	return Application{}, ErrApplicationNotFound
}
func (f *fakeHires) Ask(_ context.Context, a Application, _ string) (Application, bool, error) {
	f.apps[a.Sub] = a
	f.writes++
	return a, true, nil
}
func (f *fakeHires) Settle(_ context.Context, _, sub, status, _ string, _ time.Time) error {
	a := f.apps[sub]
	if a.Status != AppPending {
		return ErrAlreadyAnswered
	}
	a.Status = status
	f.apps[sub] = a
	f.writes++
	return nil
}
func (f *fakeHires) Hire(_ context.Context, a Application, _ string, at time.Time, _ string) (Hire, error) {
	if f.apps[a.Sub].Status != AppPending {
		return Hire{}, ErrAlreadyAnswered
	}
	if f.job.Hired >= f.job.Headcount {
		return Hire{}, ErrJobFilled
	}
	f.job.Hired++
	a.Status = AppAccepted
	f.apps[a.Sub] = a
	h := Hire{JobID: a.JobID, Sub: a.Sub, Status: HireHired, HiredAt: at, Via: a.Kind}
	f.hires[a.Sub] = h
	f.writes++
	return h, nil
}
func (f *fakeHires) ReopenJob(context.Context, string, string) error { return nil }
func (f *fakeHires) HireOf(_ context.Context, _, sub string) (Hire, error) {
	if h, ok := f.hires[sub]; ok {
		return h, nil
	}
	return Hire{}, ErrHireNotFound
}

// TestAnsweredOnce: an answer is given once; the same answer re-sent is answered as it was with nothing
// written, another is refused; the wrong side's answer is refused; the last place's hire fills the job.
func TestAnsweredOnce(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	newStore := func() *fakeHires {
		return &fakeHires{
			job: Job{ID: "j1", EmployerSub: "emp", Title: "瓦工", Headcount: 1, Status: JobOpen, EndDate: "2026-12-31"},
			emp: Employer{Sub: "emp", Status: EmployerVerified},
			apps: map[string]Application{
				"w1": {JobID: "j1", Sub: "w1", Kind: KindApplication, Status: AppPending, EmployerSub: "emp"},
				"w2": {JobID: "j1", Sub: "w2", Kind: KindInvitation, Status: AppPending, EmployerSub: "emp"},
			},
			hires: map[string]Hire{},
		}
	}
	emp := auth.Principal{Sub: "emp", Groups: []auth.Role{auth.Citizen}}
	other := auth.Principal{Sub: "emp2", Groups: []auth.Role{auth.Citizen}}
	w1 := auth.Principal{Sub: "w1", Groups: []auth.Role{auth.Citizen}}
	w2 := auth.Principal{Sub: "w2", Groups: []auth.Role{auth.Citizen}}
	type step struct {
		name       string
		do         func(s *HireService) (Answered, error)
		err        error
		status     string
		wantWrites int // the store's writes after the step
	}
	accept, decline := AnswerInput{Answer: AnswerAccept}, AnswerInput{Answer: AnswerDecline}
	byEmp := func(p auth.Principal, sub string, in AnswerInput) func(s *HireService) (Answered, error) {
		return func(s *HireService) (Answered, error) {
			return s.AnswerApplication(context.Background(), p, "j1", sub, in)
		}
	}
	byWorker := func(p auth.Principal, in AnswerInput) func(s *HireService) (Answered, error) {
		return func(s *HireService) (Answered, error) { return s.AnswerInvitation(context.Background(), p, "j1", in) }
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"accept, re-sent, then decline", []step{
			{"accept", byEmp(emp, "w1", accept), nil, AppAccepted, 2}, // the hire and the fill repair
			{"accept re-sent", byEmp(emp, "w1", accept), nil, AppAccepted, 2},
			{"decline after accept", byEmp(emp, "w1", decline), ErrAlreadyAnswered, "", 2},
		}},
		{"decline, re-sent, then accept", []step{
			{"decline", byWorker(w2, decline), nil, AppDeclined, 1},
			{"decline re-sent", byWorker(w2, decline), nil, AppDeclined, 1},
			{"accept after decline", byWorker(w2, accept), ErrAlreadyAnswered, "", 1},
		}},
		{"the wrong side", []step{
			{"the employer answers its invitation", byEmp(emp, "w2", accept), ErrNotYourTurn, "", 0},
			{"the worker answers an application as an invitation", byWorker(w1, accept), ErrNotYourTurn, "", 0},
			{"another employer", byEmp(other, "w1", accept), ErrNotYourJob, "", 0},
			{"a bad answer", byEmp(emp, "w1", AnswerInput{Answer: "yes"}), ErrInvalid, "", 0},
		}},
		{"the only place", []step{
			{"w2 accepts", byWorker(w2, accept), nil, AppAccepted, 2},
			{"w1 is refused: filled", byEmp(emp, "w1", accept), ErrJobFilled, "", 2},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newStore()
			svc := NewHireService(store, time.UTC, func() time.Time { return now })
			for _, st := range c.steps {
				got, err := st.do(svc)
				if !errors.Is(err, st.err) {
					t.Fatalf("%s: err %v, want %v", st.name, err, st.err)
				}
				if err == nil && got.Application.Status != st.status {
					t.Errorf("%s: status %q, want %q", st.name, got.Application.Status, st.status)
				}
				if err == nil && st.status == AppAccepted && got.Hire == nil {
					t.Errorf("%s: no hire in the answer", st.name)
				}
				if store.writes != st.wantWrites {
					t.Errorf("%s: %d writes, want %d", st.name, store.writes, st.wantWrites)
				}
			}
		})
	}
}
