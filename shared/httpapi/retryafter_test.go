package httpapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// A transient store error answers 503 with Retry-After (whole seconds, rounded up); others send none.
func TestWriteErrorRetryAfter(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tests := []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{fmt.Errorf("redeem: %w", apperr.ErrContention.Wrap(errors.New("TransactionConflict"))), 503, "write_conflict", "1"},
		{apperr.ErrThrottled, 503, "throttled", "2"},
		{apperr.ErrOutcomeUnknown, 503, "outcome_unknown", "1"},
		{apperr.New(apperr.Conflict, "request_in_flight", "x"), 409, "request_in_flight", ""},
		{errors.New("boom"), 500, "internal", ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest(http.MethodPost, "/v1/redemptions", nil), log, tt.err)
		if w.Code != tt.status || w.Header().Get("Retry-After") != tt.retryAfter {
			t.Errorf("%v: %d Retry-After %q, want %d %q", tt.err, w.Code, w.Header().Get("Retry-After"), tt.status, tt.retryAfter)
		}
		if !strings.Contains(w.Body.String(), `"code":"`+tt.code+`"`) {
			t.Errorf("%v: body %s, want code %s", tt.err, w.Body, tt.code)
		}
	}
}
