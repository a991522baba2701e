package localrun

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// clock is the functions' clock in the local stack. It runs with wall time until someone moves it
// (POST /_local/clock), then keeps running from the moment it was set to — how `make demo` replays a
// month of history through the real API. Tokens, moto and the pumps keep wall time.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the functions' current time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) set(t *time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t == nil {
		c.offset = 0
		return
	}
	c.offset = time.Until(*t)
}

// serveClock serves POST /_local/clock {"now":"RFC 3339"} (or {"now":null} to return to wall time) and
// GET /_local/clock.
func (st *Stack) serveClock(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var req struct {
			Now *time.Time `json:"now"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"code":"invalid_body","message":"want {\"now\":\"2026-11-01T09:00:00+08:00\"} or {\"now\":null}"}}`)
			return
		}
		st.clock.set(req.Now)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"now": st.clock.Now(), "wall": time.Now()})
}

// serveDrain serves POST /_local/drain: it returns when the stream and queue pumps have nothing left to
// deliver (or after ?timeout=, default 30 s). With ?scope=streams it waits for the table's stream
// consumers only, in one pass: the dispatch of a report just filed, the points of one just resolved —
// tens of milliseconds, where proving the queues empty takes two polls of each.
func (st *Stack) serveDrain(w http.ResponseWriter, r *http.Request) {
	timeout := 30 * time.Second
	if s := r.URL.Query().Get("timeout"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 && d <= 5*time.Minute {
			timeout = d
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	drain := st.Drain
	if r.URL.Query().Get("scope") == "streams" {
		drain = func(ctx context.Context) error {
			for _, p := range st.pumps.Streams {
				if err := p.Drain(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := drain(ctx); err != nil {
		w.WriteHeader(http.StatusGatewayTimeout)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "not_drained", "message": err.Error()}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "drained"})
}
