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
