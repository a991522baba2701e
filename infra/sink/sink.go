// Package sink is the local stack's stand-in for department systems: seeded departments' webhook URLs
// point here. It records every delivery (headers and raw body) and can be told to fail the next N
// deliveries with 503, to watch retries, backoff and the dead-letter queue work.
package sink

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Delivery is one received request.
type Delivery struct {
	At      time.Time         `json:"at"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"` // the raw body, byte for byte, so signatures can be checked

	Status int `json:"status"` // what the sink answered
}

// Sink records deliveries per department. Safe for concurrent use.
type Sink struct {
	mu       sync.Mutex
	received map[string][]Delivery
	failNext map[string]int
}

// keep bounds what is remembered per department.
const keep = 1000

// New returns an empty Sink.
func New() *Sink { return &Sink{received: map[string][]Delivery{}, failNext: map[string]int{}} }

// Routes returns the sink's handlers for the local gateway.
func (s *Sink) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /_local/sink/{dept}": http.HandlerFunc(s.receive),
		"GET /_local/sink/{dept}":  http.HandlerFunc(s.list),
		"PUT /_local/sink/{dept}":  http.HandlerFunc(s.list),
	}
}

func (s *Sink) receive(w http.ResponseWriter, r *http.Request) {
	dept := r.PathValue("dept")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	h := map[string]string{}
	for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent"} {
		h[k] = r.Header.Get(k)
	}
	s.mu.Lock()
	status := http.StatusOK
	if s.failNext[dept] > 0 {
		s.failNext[dept]--
		status = http.StatusServiceUnavailable
	}
	list := append(s.received[dept], Delivery{At: time.Now().UTC(), Headers: h, Body: string(body), Status: status})
	if len(list) > keep {
		list = list[len(list)-keep:]
	}
	s.received[dept] = list
	s.mu.Unlock()
	w.WriteHeader(status)
}

// list returns what dept received; ?fail=N makes its next N deliveries fail with 503.
func (s *Sink) list(w http.ResponseWriter, r *http.Request) {
	dept := r.PathValue("dept")
	s.mu.Lock()
	if f := r.URL.Query().Get("fail"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			s.mu.Unlock()
			http.Error(w, `{"error":{"code":"invalid_query","message":"fail must be a whole number"}}`, http.StatusBadRequest)
			return
		}
		s.failNext[dept] = n
	}
	items := append([]Delivery{}, s.received[dept]...)
	failing := s.failNext[dept]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "failNext": failing})
}
