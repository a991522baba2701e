package points_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Finding 4 of issue 10, the accrual path: a transaction conflict, throttling or an unknown outcome is
// retried with backoff while the invocation has time; then the error goes back to the stream consumer (a
// batch item failure), never an award applied twice.

// flakyStore applies awards in memory; failures lists what the next ApplyAward calls answer first.
type flakyStore struct {
	points.Store
	mu       sync.Mutex
	failures []error // consumed one per call; "apply then fail" when wrapped in appliedThen
	profile  points.Profile
	awards   map[string]bool
	applies  int // ApplyAward calls
	granted  int64
}

// appliedThen marks a failure that happens after the write was applied (a lost answer).
type appliedThen struct{ error }

func (f *flakyStore) PointRules(context.Context) (points.Rules, bool, error) {
	return points.DefaultRules(), false, nil
}

func (f *flakyStore) Profile(_ context.Context, sub string) (points.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.profile
	p.Sub = sub
	return p, nil
}

func (f *flakyStore) ApplyAward(_ context.Context, a points.Award, p points.Profile, prev int64, _ points.Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applies++
	var fail error
	if len(f.failures) > 0 {
		fail, f.failures = f.failures[0], f.failures[1:]
	}
	var late appliedThen
	if fail != nil && !errors.As(fail, &late) {
		return fail
	}
	id := a.ReportID + "#" + a.Sub + "#" + a.Rule
	if f.awards[id] {
		return points.ErrAlreadyApplied
	}
	if f.profile.Version != prev {
		return points.ErrVersionConflict
	}
	f.awards[id] = true
	f.profile = p
	f.granted += a.Granted
	if fail != nil {
		return late.error
	}
	return nil
}

func (f *flakyStore) DuplicateReporters(context.Context, string) ([]points.DuplicateRef, error) {
	return nil, nil
}

func newFlaky(failures ...error) (*flakyStore, *points.Service) {
	f := &flakyStore{failures: failures, awards: map[string]bool{}}
	tz, _ := time.LoadLocation("Asia/Shanghai")
	svc := points.NewService(f, func(context.Context, string) (int64, error) { return 5, nil }, tz, time.Now)
	return f, svc
}

func TestAwardRetriesTransientFailures(t *testing.T) {
	contention := apperr.ErrContention.Wrap(errors.New("TransactionConflict"))
	throttled := apperr.ErrThrottled.Wrap(errors.New("ProvisionedThroughputExceededException"))
	unknown := apperr.ErrOutcomeUnknown.Wrap(errors.New("connection reset"))
	tests := []struct {
		name        string
		failures    []error
		wantApplies int
	}{
		{"transaction conflict", []error{contention, contention}, 3},
		{"throttled", []error{throttled}, 2},
		{"version conflict", []error{points.ErrVersionConflict}, 2},
		{"outcome unknown, applied", []error{appliedThen{unknown}}, 2},
		{"outcome unknown, not applied", []error{unknown}, 2},
		{"everything at once", []error{contention, throttled, appliedThen{unknown}, contention}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newFlaky(tt.failures...)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := svc.OnResolved(ctx, points.Resolved{ID: "r1", ReporterSub: "u1", Category: "rubbish", At: time.Now()})
			if err != nil {
				t.Fatalf("OnResolved: %v", err)
			}
			if f.granted != 5 || f.profile.Balance != 5 || f.applies != tt.wantApplies {
				t.Errorf("granted %d, balance %d in %d ApplyAward calls; want 5, 5 in %d", f.granted, f.profile.Balance, f.applies, tt.wantApplies)
			}
		})
	}
}

// A conflict that outlasts the invocation is handed back before the deadline (less the reserve), so the
// record is reported as a batch item failure instead of the function timing out; nothing was applied.
func TestAwardGivesUpBeforeTheDeadline(t *testing.T) {
	contention := apperr.ErrContention.Wrap(errors.New("TransactionConflict"))
	many := make([]error, 1000)
	for i := range many {
		many[i] = contention
	}
	f, svc := newFlaky(many...)
	ctx, cancel := context.WithTimeout(t.Context(), 800*time.Millisecond)
	defer cancel()
	err := svc.OnResolved(ctx, points.Resolved{ID: "r1", ReporterSub: "u1", Category: "rubbish", At: time.Now()})
	if !errors.Is(err, apperr.ErrContention) {
		t.Fatalf("OnResolved: %v, want the contention back", err)
	}
	if ctx.Err() != nil {
		t.Errorf("gave up only at the deadline (%v): no time was left to report the failure", ctx.Err())
	}
	if f.granted != 0 || f.applies < 2 {
		t.Errorf("granted %d in %d calls; want nothing granted after a few tries", f.granted, f.applies)
	}
}

// Errors that are not transient are not retried.
func TestAwardDoesNotRetryOtherErrors(t *testing.T) {
	f, svc := newFlaky(errors.New("ValidationException: item too large"))
	err := svc.OnResolved(t.Context(), points.Resolved{ID: "r1", ReporterSub: "u1", Category: "rubbish", At: time.Now()})
	if err == nil || f.applies != 1 {
		t.Errorf("OnResolved: %v after %d calls; want the error after 1", err, f.applies)
	}
}
