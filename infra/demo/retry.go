package demo

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says which failed requests are sent again, how often and for how long. A request is retried
// after a transport error (refused or dropped connection, an attempt's timeout), a 5xx, a 408 or 429, and
// a 409 request_in_flight (the same Idempotency-Key is still being processed) or assignment_pending (the
// report's dispatch is committed and its lead's assignment not yet written); every other answer is final. The wait before attempt n+1 is exponential with jitter — half of min(MaxDelay, BaseDelay·2ⁿ⁻¹)
// plus a random part up to the other half — or the answer's Retry-After when it asks for longer.
//
// Retrying is safe because every request is: reads; POSTs that create with an Idempotency-Key (reports,
// redemptions); signed department callbacks with a webhook-id (a replay is acknowledged, not applied);
// presigned uploads of the same bytes to the same key; setting the clock to an absolute time; drains and
// scheduled runs. Routes without such a key (staff transitions, revocation, fulfil, cancel) are sent
// again only after re-reading whether the earlier attempt took effect (call.applied).
type RetryPolicy struct {
	MaxAttempts    int           // attempts per request, the first included
	MaxElapsed     time.Duration // no new attempt once this long has passed since the first, after MinAttempts
	MinAttempts    int           // attempts made whatever the time (a machine that stalled for minutes)
	BaseDelay      time.Duration // the first wait's ceiling; it doubles with every attempt
	MaxDelay       time.Duration // the largest ceiling
	AttemptTimeout time.Duration // one attempt's deadline, unless the call sets a longer one
}

// DefaultRetryPolicy: up to 10 attempts over at most three minutes (longer than the 30 s in-flight lease
// of an idempotency key) — but at least three, however long the first ones took — waits from 0.1–0.2 s
// growing to 5–10 s, one minute per attempt.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 10, MaxElapsed: 3 * time.Minute, MinAttempts: 3, BaseDelay: 200 * time.Millisecond,
		MaxDelay: 10 * time.Second, AttemptTimeout: time.Minute}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = d.MaxElapsed
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = d.AttemptTimeout
	}
	if p.MinAttempts <= 0 {
		p.MinAttempts = min(d.MinAttempts, p.MaxAttempts)
	}
	return p
}

// backoff is the wait after the n-th failed attempt (n ≥ 1).
func (p RetryPolicy) backoff(n int, rng func(int64) int64) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < n && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	half := ceiling / 2
	return half + time.Duration(rng(int64(half)+1))
}

func jitter(n int64) int64 { return rand.Int64N(n) }

// retryReason says why an attempt's outcome is worth another attempt ("" if it is final).
func retryReason(status int, code string, err error) string {
	switch {
	case err != nil:
		return "transport"
	case status == http.StatusTooManyRequests:
		return "429"
	case status == http.StatusRequestTimeout:
		return "408"
	case status >= 500:
		return strconv.Itoa(status)
	case status == http.StatusConflict && code == "request_in_flight":
		return "409 request_in_flight"
	case status == http.StatusConflict && code == "assignment_pending":
		return "409 assignment_pending"
	}
	return ""
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); 0 if absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ErrGaveUp wraps the last error of a request that failed every attempt the policy allowed.
var ErrGaveUp = errors.New("gave up")
