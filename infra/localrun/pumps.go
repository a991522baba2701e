package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/civicsnap/civicsnap/infra/pump"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// startPumps runs the stream, queue and schedule pumps for the template's functions.
func (st *Stack) startPumps(tpl *stack.Template) (*pump.Set, error) {
	hs := pump.Handlers{
		Streams:   map[string]pump.StreamHandler{},
		Queues:    map[string]pump.QueueHandler{},
		Schedules: map[string]pump.ScheduleHandler{},
	}
	for id, h := range st.handlers {
		switch {
		case h.Stream != nil:
			hs.Streams[id] = h.Stream
		case h.Queue != nil:
			hs.Queues[id] = h.Queue
		case h.Schedule != nil:
			hs.Schedules[id] = h.Schedule
		}
	}
	set, err := pump.FromTemplate(tpl, st.Names, st.AWS, hs, st.log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	st.pumpsDone = make(chan struct{})
	go func() {
		defer close(st.pumpsDone)
		if err := set.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, pump.ErrStopped) {
			st.log.Error("pumps stopped", "err", err)
		}
	}()
	// Streams start at LATEST: anything written before the iterators are positioned would never be
	// delivered, so the API opens only once the pumps are ready.
	ready, cancelReady := context.WithTimeout(ctx, 30*time.Second)
	defer cancelReady()
	if err := set.Ready(ready); err != nil {
		cancel()
		return nil, fmt.Errorf("pumps not ready: %w", err)
	}
	return set, nil
}

// Drain waits until the stream and queue pumps have nothing left to deliver (for tests and demos).
func (st *Stack) Drain(ctx context.Context) error { return st.pumps.Drain(ctx) }

// fireSchedule serves POST /_local/schedules/{function}: run a scheduled function now, with the schedule's
// own input, or with the request's JSON body as the input when there is one (e.g. a KPI backfill range).
func (st *Stack) fireSchedule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("function")
	w.Header().Set("Content-Type", "application/json")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	var err error
	if h, ok := st.handlers[id]; ok && h.Schedule != nil && len(bytes.TrimSpace(body)) > 0 {
		err = h.Schedule(r.Context(), json.RawMessage(body))
	} else {
		err = st.pumps.Fire(r.Context(), id)
	}
	switch {
	case errors.Is(err, pump.ErrUnknownFunction):
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "unknown_function", "message": "no scheduled function " + id}})
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "function_error", "message": err.Error()}})
	default:
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "function": id})
	}
}
