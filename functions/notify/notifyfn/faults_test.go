package notifyfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// The delivery log under faults (issue 10, finding 2): the notify function delivers notifications whose
// endpoint answers 503 to the first request of each and 200 after, while infra/faults fails two DynamoDB
// calls in ten (the delivery log's UpdateItem, the directory's reads). Messages are handed over as SQS's
// poller does, again with the next receive count while the function reports them as failures. Batches
// are handed over one after another, so the seed (logged; CIVICSNAP_FAULT_SEED) replays the sequence of
// faults; within a batch the function delivers concurrently, so which of a batch's calls meets a given
// fault may differ between replays.
//
// Then: every notification is delivered; its record lists each receive that reached the endpoint at most
// once (an UpdateItem the SDK re-sent does not append the attempt twice) and never more attempts than the
// endpoint saw requests; and faults did happen.

func TestDeliveryLogUnderFaults(t *testing.T) {
	inj := faults.ForTest(t, 2, faults.Conflict, faults.Throttle, faults.LostResponse, faults.LostResponse)
	var mu sync.Mutex
	requests := map[string]int{} // webhook-id -> requests the endpoint saw
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		id := r.Header.Get(webhook.HeaderID)
		requests[id]++
		first := requests[id] == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	e := moto.New(t, testenv.Options{LocalAPI: srv.URL, WrapHTTP: inj.Wrap, Params: map[string]string{"NotifyMaxAttempts": "20"}})
	fn, err := notifyfn.New(e.Base("NotifyFunction", map[string]string{"ALLOW_LOOPBACK_WEBHOOKS": "true", "NOTIFY_BASE_DELAY_SECONDS": "1"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(inj.Seed(), 5))

	// Thirty notifications, as dispatch enqueues them.
	type pending struct {
		msg      events.SQSMessage
		n        dispatch.Notification
		receives int
	}
	var queue []*pending
	depts := []string{"municipal", "sanitation", "police"}
	now := time.Now().UTC()
	for i := range 30 {
		r := report.Report{ID: fmt.Sprintf("0190a2b4-1c2d-7e3f-8a9b-%012d", i), Status: report.Dispatched, Category: "damaged_road",
			Location: report.Location{Lat: 23.37, Lng: 103.38}, ReporterSub: "citizen1", CreatedAt: now}
		dept := depts[i%len(depts)]
		a := report.Assignment{Dept: dept, Role: report.Lead, Status: report.Dispatched, AssignedAt: now, SLADeadline: now.Add(72 * time.Hour)}
		n := dispatch.AssignmentNotice("dispatched", "", r, a, dispatch.Department{ID: dept}, "", now)
		body, _ := json.Marshal(n)
		queue = append(queue, &pending{n: n, msg: events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), ReceiptHandle: "rh-" + strconv.Itoa(i),
			Body: string(body), EventSource: "aws:sqs", EventSourceARN: e.OutboxARN}})
	}
	all := append([]*pending(nil), queue...)
	for round := 0; len(queue) > 0; round++ {
		if round > 40 {
			t.Fatalf("%d notifications still undelivered after %d rounds", len(queue), round)
		}
		var next []*pending
		for len(queue) > 0 {
			k := min(1+rng.IntN(5), len(queue))
			batch := queue[:k]
			queue = queue[k:]
			ev := events.SQSEvent{}
			byID := map[string]*pending{}
			for _, p := range batch {
				p.receives++
				m := p.msg
				m.Attributes = map[string]string{"ApproximateReceiveCount": strconv.Itoa(p.receives)}
				ev.Records = append(ev.Records, m)
				byID[m.MessageId] = p
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // no deadline faults here: room for a loaded machine
			resp, err := fn.Handle(ctx, ev)
			cancel()
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			for _, f := range resp.BatchItemFailures {
				next = append(next, byID[f.ItemIdentifier])
			}
		}
		queue = next
	}

	for _, p := range all {
		d, ok := deliveryOf(t, e, p.n)
		if !ok {
			t.Errorf("%s: no delivery record", p.n.ID)
			continue
		}
		if d.Status != notify.Delivered {
			t.Errorf("%s: %s, want delivered", p.n.ID, d.Status)
		}
		seen := map[int]bool{}
		for _, a := range d.Attempts {
			if seen[a.Number] {
				t.Errorf("%s: attempt %d recorded twice: %+v", p.n.ID, a.Number, d.Attempts)
			}
			seen[a.Number] = true
		}
		mu.Lock()
		sent := requests[p.n.ID]
		mu.Unlock()
		if len(d.Attempts) > sent || len(d.Attempts) > p.receives {
			t.Errorf("%s: %d attempts recorded, %d requests sent in %d receives", p.n.ID, len(d.Attempts), sent, p.receives)
		}
	}
	st := inj.Stats()
	if st.Calls < 60 || st.Faulted() < st.Calls/10 {
		t.Errorf("faults: %v; want ≥ 60 calls and ≥ 1 in 10 faulted", st)
	}
}

// deliveryOf finds n's record in its department's list (read without faults).
func deliveryOf(t *testing.T, e *testenv.Env, n dispatch.Notification) (notify.Delivery, bool) {
	t.Helper()
	ds, _, err := e.Store.Deliveries(context.Background(), n.Dept, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == n.ID {
			return d, true
		}
	}
	return notify.Delivery{}, false
}
