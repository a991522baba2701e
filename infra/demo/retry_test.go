package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/webhook"
)

// fastPolicy keeps the tests short: waits of a few milliseconds.
var fastPolicy = RetryPolicy{MaxAttempts: 6, MaxElapsed: 10 * time.Second, BaseDelay: 2 * time.Millisecond,
	MaxDelay: 10 * time.Millisecond, AttemptTimeout: 2 * time.Second}

// recorder is a test server that records the idempotency headers of every attempt and answers per script.
type recorder struct {
	mu       sync.Mutex
	keys     []string
	ids      []string
	attempts int
	script   func(n int, w http.ResponseWriter, r *http.Request) bool // true: answered (the default 201 is not sent)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.attempts++
	n := rec.attempts
	rec.keys = append(rec.keys, r.Header.Get("Idempotency-Key"))
	rec.ids = append(rec.ids, r.Header.Get(webhook.HeaderID))
	rec.mu.Unlock()
	if rec.script != nil && rec.script(n, w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":"r1"}`)
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func fail(status int, code string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":"test"}}`, code)
	}
}

func post(t *testing.T, c *Client, key string) (string, error) {
	t.Helper()
	var out struct{ ID string }
	err := c.Call(context.Background(), "POST", "/v1/reports", "tok", http.Header{"Idempotency-Key": {key}}, map[string]string{"a": "b"}, &out)
	return out.ID, err
}

func TestRetryCompletesWithTheSameKey(t *testing.T) {
	cases := []struct {
		name     string
		failures int
		fail     func(http.ResponseWriter)
	}{
		{"503", 3, fail(503, "unavailable")},
		{"500", 2, fail(500, "internal")},
		{"502", 1, fail(502, "Bad Gateway")},
		{"408", 1, fail(408, "timeout")},
		{"dropped connection", 3, drop},
		{"409 request_in_flight", 2, fail(409, "request_in_flight")},
		{"409 assignment_pending", 1, fail(409, "assignment_pending")},
		{"429 without Retry-After", 2, fail(429, "too_many_requests")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n <= tc.failures {
					tc.fail(w)
					return true
				}
				return false
			}}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c := NewClient(srv.URL, fastPolicy, 1)
			id, err := post(t, c, "demo-1")
			if err != nil || id != "r1" {
				t.Fatalf("got %q, %v; want r1", id, err)
			}
			if rec.attempts != tc.failures+1 {
				t.Errorf("%d attempts, want %d", rec.attempts, tc.failures+1)
			}
			for i, k := range rec.keys {
				if k != "demo-1" {
					t.Errorf("attempt %d sent Idempotency-Key %q, want demo-1", i+1, k)
				}
			}
			if got := c.Retries(); got != tc.failures {
				t.Errorf("%d retries counted, want %d", got, tc.failures)
			}
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	rec := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			fail(429, "too_many_requests")(w)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	start := time.Now()
	if _, err := post(t, NewClient(srv.URL, fastPolicy, 1), "demo-2"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %s, want the 1 s Retry-After asked for", el)
	}
	if len(rec.keys) != 2 || rec.keys[0] != rec.keys[1] {
		t.Errorf("keys %q: want the same key twice", rec.keys)
	}
}

func TestRetryAfterAnAttemptTimesOut(t *testing.T) {
	rec := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return true
		}
		return false
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	p := fastPolicy
	p.AttemptTimeout = 100 * time.Millisecond
	if _, err := post(t, NewClient(srv.URL, p, 1), "demo-3"); err != nil {
		t.Fatal(err)
	}
	if rec.attempts != 2 || rec.keys[1] != "demo-3" {
		t.Errorf("%d attempts, keys %q", rec.attempts, rec.keys)
	}
}

func TestNoRetryOfARefusal(t *testing.T) {
	rec := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
		fail(422, "idempotency_key_reused")(w)
		return true
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	_, err := post(t, NewClient(srv.URL, fastPolicy, 1), "demo-4")
	if codeOf(err) != "idempotency_key_reused" || rec.attempts != 1 {
		t.Errorf("err %v after %d attempts; want the 422 after one", err, rec.attempts)
	}
}

func TestRetryIsBounded(t *testing.T) {
	rec := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
		fail(503, "unavailable")(w)
		return true
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	_, err := post(t, NewClient(srv.URL, fastPolicy, 1), "demo-5")
	if !errors.Is(err, ErrGaveUp) || statusOf(err) != 503 || rec.attempts != fastPolicy.MaxAttempts {
		t.Errorf("err %v after %d attempts; want ErrGaveUp wrapping the 503 after %d", err, rec.attempts, fastPolicy.MaxAttempts)
	}
	// A Retry-After beyond the time budget ends it at once (with no minimum of attempts).
	rec2 := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "3600")
		fail(429, "slow_down")(w)
		return true
	}}
	srv2 := httptest.NewServer(rec2)
	defer srv2.Close()
	p := fastPolicy
	p.MinAttempts = 1
	if _, err := post(t, NewClient(srv2.URL, p, 1), "demo-6"); !errors.Is(err, ErrGaveUp) || rec2.attempts != 1 {
		t.Errorf("err %v after %d attempts; want ErrGaveUp after one", err, rec2.attempts)
	}
}

// A first attempt that outlasted the whole time budget (the machine stalled) is still retried: a few
// attempts are made whatever the time.
func TestRetryAfterALongStall(t *testing.T) {
	rec := &recorder{script: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			time.Sleep(300 * time.Millisecond)
			fail(503, "unavailable")(w)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	p := fastPolicy
	p.MaxElapsed, p.MinAttempts = 100*time.Millisecond, 3
	if _, err := post(t, NewClient(srv.URL, p, 1), "demo-7"); err != nil || rec.attempts != 2 {
		t.Errorf("err %v after %d attempts; want success on the second", err, rec.attempts)
	}
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	lo := func(int64) int64 { return 0 }
	hi := func(n int64) int64 { return n - 1 }
	for n, want := range map[int][2]time.Duration{
		1: {50 * time.Millisecond, 100 * time.Millisecond}, 2: {100 * time.Millisecond, 200 * time.Millisecond},
		3: {200 * time.Millisecond, 400 * time.Millisecond}, 5: {500 * time.Millisecond, time.Second}, 12: {500 * time.Millisecond, time.Second},
	} {
		if a, b := p.backoff(n, lo), p.backoff(n, hi); a != want[0] || b != want[1] {
			t.Errorf("backoff(%d) spans %s…%s, want %s…%s", n, a, b, want[0], want[1])
		}
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"": 0, "2": 2 * time.Second, "x": 0,
		now.Add(3 * time.Second).Format(http.TimeFormat): 3 * time.Second} {
		if got := retryAfter(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
}

// A route without idempotency is not sent again blindly: the lost attempt had taken effect, which the
// check before the re-send finds.
func TestCallOnceChecksBeforeResending(t *testing.T) {
	var applied atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if applied.Add(1) == 1 {
			drop(w) // the effect happened, the answer is lost
			return
		}
		fail(409, "invalid_transition")(w)
	}))
	defer srv.Close()
	c := NewClient(srv.URL, fastPolicy, 1)
	checks := 0
	earlier, err := c.callOnce(context.Background(), "POST", "/v1/dept/reports/x/transitions", "tok", map[string]string{"to": "in_progress"}, nil,
		func(context.Context) (bool, error) { checks++; return applied.Load() == 1, nil })
	if err != nil || !earlier || checks != 1 || applied.Load() != 1 {
		t.Errorf("earlier %v, err %v, %d checks, applied %d times; want the first attempt found, nothing re-sent", earlier, err, checks, applied.Load())
	}
	// Not applied: sent again.
	var n atomic.Int32
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			drop(w)
			return
		}
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv2.Close()
	earlier, err = NewClient(srv2.URL, fastPolicy, 1).callOnce(context.Background(), "POST", "/x", "", nil, nil,
		func(context.Context) (bool, error) { return false, nil })
	if err != nil || earlier || n.Load() != 2 {
		t.Errorf("earlier %v, err %v, %d attempts; want a second attempt", earlier, err, n.Load())
	}
}

// A department callback is re-sent under the same webhook-id, signed again over the same body.
func TestSignedCallbackKeepsItsWebhookID(t *testing.T) {
	const secret = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0"
	var bodies [][]byte
	var headers []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies, headers = append(bodies, b), append(headers, r.Header.Clone())
		if len(bodies) < 3 {
			fail(503, "unavailable")(w)
			return
		}
		_, _ = io.WriteString(w, `{"status":"applied","reportStatus":"accepted"}`)
	}))
	defer srv.Close()
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	var out struct{ ReportStatus string }
	now := func() time.Time { return at }
	err := NewClient(srv.URL, fastPolicy, 1).signed(context.Background(), "municipal", secret, "demo-x-7-1", now, "/events",
		map[string]string{"type": "report.accepted", "reportId": "r"}, &out)
	if err != nil || out.ReportStatus != "accepted" {
		t.Fatalf("got %+v, %v", out, err)
	}
	for i, h := range headers {
		if h.Get(webhook.HeaderID) != "demo-x-7-1" || string(bodies[i]) != string(bodies[0]) {
			t.Errorf("attempt %d: webhook-id %q, body %s", i+1, h.Get(webhook.HeaderID), bodies[i])
		}
		if err := webhook.Verify(secret, bodies[i], h, at); err != nil {
			t.Errorf("attempt %d: signature: %v", i+1, err)
		}
	}
}

// Many concurrent requests through a flaky server that fails before or after applying them (503, 429,
// dropped connections, lost answers): every one completes, and each key is applied exactly once.
func TestRunCompletesThroughFailures(t *testing.T) {
	var mu sync.Mutex
	applied := map[string]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		x := rng.Float64()
		mu.Unlock()
		switch {
		case x < 0.1:
			fail(503, "unavailable")(w)
			return
		case x < 0.2:
			w.Header().Set("Retry-After", "0")
			fail(429, "slow_down")(w)
			return
		case x < 0.3:
			drop(w)
			return
		}
		mu.Lock()
		first := applied[key] == 0
		if first {
			applied[key] = 1
		}
		mu.Unlock()
		if x < 0.4 {
			drop(w) // applied, answer lost
			return
		}
		if x < 0.45 {
			fail(500, "internal")(w) // applied, then failed
			return
		}
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"id":"r"}`)
	}))
	defer srv.Close()
	p := fastPolicy
	p.MaxAttempts = 20
	c := NewClient(srv.URL, p, 8)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := post(t, c, fmt.Sprintf("k-%d", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 200 {
		if n := applied[fmt.Sprintf("k-%d", i)]; n != 1 {
			t.Errorf("k-%d applied %d times", i, n)
		}
	}
	if c.Retries() == 0 {
		t.Error("no retries: the server did not fail?")
	}
}
