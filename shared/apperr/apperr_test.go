package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindAndIs(t *testing.T) {
	sentinel := New(NotFound, "report_not_found", "no such report")
	tests := []struct {
		name     string
		err      error
		wantKind Kind
		isSent   bool
	}{
		{"sentinel", sentinel, NotFound, true},
		{"wrapped with context", fmt.Errorf("get report r1: %w", sentinel), NotFound, true},
		{"other message same code", sentinel.With("report %s is gone", "r1"), NotFound, true},
		{"with cause", sentinel.Wrap(errors.New("boom")), NotFound, true},
		{"other code", New(NotFound, "item_not_found", "x"), NotFound, false},
		{"plain error", errors.New("boom"), Internal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.wantKind {
				t.Errorf("KindOf = %v, want %v", got, tt.wantKind)
			}
			if got := errors.Is(tt.err, sentinel); got != tt.isSent {
				t.Errorf("errors.Is(sentinel) = %v, want %v", got, tt.isSent)
			}
		})
	}
}

func TestErrorStringHidesNothingNeededForLogs(t *testing.T) {
	err := New(Invalid, "bad", "bad input").Wrap(errors.New("detail"))
	if got, want := err.Error(), "bad: bad input: detail"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// The transient store errors keep their Retry-After through With and Wrap, and only the two that mean
// "nothing was written" say so.
func TestTransientErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		notApplied bool
		retryAfter bool
	}{
		{"contention", ErrContention, true, true},
		{"contention wrapped", fmt.Errorf("redeem: %w", ErrContention.Wrap(errors.New("TransactionConflict"))), true, true},
		{"throttled with message", ErrThrottled.With("busy"), true, true},
		{"outcome unknown", ErrOutcomeUnknown.Wrap(errors.New("deadline")), false, true},
		{"conflict after an unanswered attempt", ErrOutcomeUnknown.Wrap(ErrContention.Wrap(errors.New("TransactionConflict"))), false, true},
		{"other unavailable", New(Unavailable, "unavailable", "down"), false, false},
		{"conflict", New(Conflict, "request_in_flight", "x"), false, false},
		{"plain", errors.New("boom"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NotApplied(tt.err); got != tt.notApplied {
				t.Errorf("NotApplied = %v, want %v", got, tt.notApplied)
			}
			e := As(tt.err)
			if got := e != nil && e.RetryAfter > 0; got != tt.retryAfter {
				t.Errorf("has Retry-After = %v, want %v", got, tt.retryAfter)
			}
		})
	}
}
