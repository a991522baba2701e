package localrun

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// Lambda delivers a stream record again when a batch fails after the record was handled, or when the
// function timed out; the local pumps do that only on failures. To test that a consumer's effects happen
// once however often a record comes, the stack keeps each stream function's latest records and
// POST /_local/streams/{function}/redeliver?pk=<partition key> hands that function again, as one batch,
// every kept record of the item(s) with that pk: {"records":n,"failures":[sequence numbers]}.

// keptRecords bounds the records kept per function; the oldest go first.
const keptRecords = 500

type streamLog struct {
	mu   sync.Mutex
	recs map[string][]events.DynamoDBEventRecord // by function id
}

func (l *streamLog) keep(fn string, recs []events.DynamoDBEventRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.recs == nil {
		l.recs = map[string][]events.DynamoDBEventRecord{}
	}
	kept := append(l.recs[fn], recs...)
	if len(kept) > keptRecords {
		kept = append([]events.DynamoDBEventRecord(nil), kept[len(kept)-keptRecords:]...)
	}
	l.recs[fn] = kept
}

func (l *streamLog) of(fn, pk string) []events.DynamoDBEventRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []events.DynamoDBEventRecord
	for _, r := range l.recs[fn] {
		if v, ok := r.Change.Keys["pk"]; ok && v.DataType() == events.DataTypeString && v.String() == pk {
			out = append(out, r)
		}
	}
	return out
}

// keepStreams wraps every stream function's handler so that it keeps the records it is handed. Call it
// before the pumps start.
func (st *Stack) keepStreams() {
	for id, h := range st.handlers {
		if h.Stream == nil {
			continue
		}
		next := h.Stream
		h.Stream = func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			st.streams.keep(id, ev.Records)
			return next(ctx, ev)
		}
		st.handlers[id] = h
	}
}

func (st *Stack) serveRedeliver(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fn := r.PathValue("function")
	h, ok := st.handlers[fn]
	if !ok || h.Stream == nil {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "unknown_function", "message": "no stream function " + fn}})
		return
	}
	recs := st.streams.of(fn, r.URL.Query().Get("pk"))
	failures := []string{}
	if len(recs) > 0 {
		resp, err := h.Stream(r.Context(), events.DynamoDBEvent{Records: recs})
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "handler_error", "message": err.Error()}})
			return
		}
		for _, f := range resp.BatchItemFailures {
			failures = append(failures, f.ItemIdentifier)
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"records": len(recs), "failures": failures})
}
