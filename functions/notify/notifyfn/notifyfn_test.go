package notifyfn_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/queue"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// maxAttempts is both the outbox's maxReceiveCount (template parameter NotifyMaxAttempts) and the
// function's NOTIFY_MAX_ATTEMPTS, as the template wires them.
const maxAttempts = 3

// endpoint stands for the departments' webhook receivers (the seeded URLs point at it): it verifies every
// request's Standard Webhooks signature with the department's secret and answers with scripted statuses.
type endpoint struct {
	srv     *httptest.Server
	secrets map[string]string

	mu       sync.Mutex
	statuses []int // one per request; the last repeats
	got      []delivery
	hangs    map[string]bool // departments whose endpoint never answers
}

type delivery struct {
	dept, id string
	body     []byte
	verify   error
}

func newEndpoint(t testing.TB, statuses ...int) *endpoint {
	ep := &endpoint{statuses: statuses}
	ep.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		dept := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		ep.mu.Lock()
		d := delivery{dept: dept, id: r.Header.Get(webhook.HeaderID), body: body}
		if secret, ok := ep.secrets[dept]; ok {
			d.verify = webhook.Verify(secret, body, r.Header, time.Now())
		} else {
			d.verify = fmt.Errorf("no secret for %q", dept)
		}
		status := ep.statuses[min(len(ep.got), len(ep.statuses)-1)]
		ep.got = append(ep.got, d)
		hang := ep.hangs[dept]
		ep.mu.Unlock()
		if hang {
			<-r.Context().Done() // until the caller gives up (or the server closes)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(ep.srv.Close)
	return ep
}

func (ep *endpoint) received() []delivery {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return slices.Clone(ep.got)
}

func (ep *endpoint) hang(dept string) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.hangs == nil {
		ep.hangs = map[string]bool{}
	}
	ep.hangs[dept] = true
}

func (ep *endpoint) script(statuses ...int) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.statuses = append(make([]int, len(ep.got)), statuses...)
}

// fixture is a fresh environment whose departments' webhooks point at ep, with the notify function built
// over it as main builds it.
type fixture struct {
	*testenv.Env
	fn *notifyfn.Function
	ep *endpoint
}

func newFixture(t testing.TB, env map[string]string, statuses ...int) *fixture {
	t.Helper()
	ep := newEndpoint(t, statuses...)
	e := moto.New(t, testenv.Options{LocalAPI: ep.srv.URL, Params: map[string]string{"NotifyMaxAttempts": fmt.Sprint(maxAttempts)}})
	ep.secrets = e.DeptSecrets
	vars := map[string]string{"ALLOW_LOOPBACK_WEBHOOKS": "true", "NOTIFY_BASE_DELAY_SECONDS": "1"}
	for k, v := range env {
		vars[k] = v
	}
	fn, err := notifyfn.New(e.Base("NotifyFunction", vars, nil))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Env: e, fn: fn, ep: ep}
}

// enqueue puts a report.dispatched notification for dept on the outbox, as dispatch does.
func (f *fixture) enqueue(dept string) dispatch.Notification {
	f.T.Helper()
	now := time.Now().UTC()
	r := report.Report{ID: "0190a2b4-1c2d-7e3f-8a9b-" + fmt.Sprintf("%012d", now.UnixNano()%1e12), Status: report.Dispatched,
		Category: "damaged_road", Location: report.Location{Lat: 23.37, Lng: 103.38}, ReporterSub: "citizen1", CreatedAt: now}
	a := report.Assignment{Dept: dept, Role: report.Lead, Status: report.Dispatched, AssignedAt: now, SLADeadline: now.Add(120 * time.Hour)}
	n := dispatch.AssignmentNotice("dispatched", "", r, a, dispatch.Department{ID: dept}, "", now)
	if err := queue.NewOutbox(queue.NewClient(f.AWS), f.OutboxURL).Enqueue(context.Background(), []dispatch.Notification{n}); err != nil {
		f.T.Fatal(err)
	}
	return n
}

// deliver receives what the outbox holds (waiting up to wait for a message to become visible), hands it to
// the function as Lambda's SQS poller does, and deletes the messages the function did not report as
// failures, as the poller does.
func (f *fixture) deliver(wait time.Duration) ([]sqstypes.Message, events.SQSEventResponse) {
	f.T.Helper()
	start := time.Now()
	ms := f.ReceiveWithin(f.OutboxURL, 30, wait)
	if len(ms) == 0 {
		f.T.Fatalf("no message on the outbox within %v", wait)
	}
	if waited := time.Since(start); waited > 200*time.Millisecond {
		f.T.Logf("waited %v for the message to become visible", waited.Round(100*time.Millisecond))
	}
	resp, err := f.fn.Handle(context.Background(), f.SQSEvent(f.OutboxARN, ms...))
	if err != nil {
		f.T.Fatalf("handler error: %v", err)
	}
	failed := map[string]bool{}
	for _, fl := range resp.BatchItemFailures {
		failed[fl.ItemIdentifier] = true
	}
	for _, m := range ms {
		if !failed[aws.ToString(m.MessageId)] {
			f.Delete(f.OutboxURL, m)
		}
	}
	return ms, resp
}

// record returns the delivery record of notification id from the department's list.
func (f *fixture) record(dept, id string) notify.Delivery {
	f.T.Helper()
	ds, _, err := f.Store.Deliveries(context.Background(), dept, 50, "")
	if err != nil {
		f.T.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	f.T.Fatalf("no delivery %s in %s's list %+v", id, dept, ds)
	return notify.Delivery{}
}

func (f *fixture) queueDepth(url string) int {
	f.T.Helper()
	out, err := f.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		f.T.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		var k int
		fmt.Sscan(v, &k)
		n += k
	}
	return n
}

func TestDeliveredAndListed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, 200)
	n1 := f.enqueue("municipal")
	_, resp := f.deliver(5 * time.Second) // also warms the configuration and the municipal secret
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	got := f.ep.received()
	if len(got) != 1 || got[0].dept != "municipal" || got[0].id != n1.ID || got[0].verify != nil || !bytes.Equal(got[0].body, n1.Payload) {
		t.Fatalf("endpoint received %+v, want one verified request for municipal with webhook-id %s and the payload", got, n1.ID)
	}
	d := f.record("municipal", n1.ID)
	if d.Status != notify.Delivered || len(d.Attempts) != 1 || d.Attempts[0].Number != 1 || d.Attempts[0].HTTPStatus != 200 ||
		d.Attempts[0].Outcome != "delivered" || d.Type != "report.dispatched" || d.ReportID != n1.ReportID {
		t.Errorf("delivery record %+v, want delivered after one 200 attempt", d)
	}
	if left := f.queueDepth(f.OutboxURL); left != 0 {
		t.Errorf("%d messages left on the outbox", left)
	}

	// Two more, one by one so their records are created in order: the list is per department, newest first.
	time.Sleep(5 * time.Millisecond)
	n2 := f.enqueue("sanitation")
	f.deliver(5 * time.Second)
	time.Sleep(5 * time.Millisecond)
	n3 := f.enqueue("municipal")
	f.Calls.Reset()
	f.deliver(5 * time.Second)
	t.Logf("one delivery attempt, configuration and secret cached: %v", f.Calls.Snapshot())
	if db, q, sm := f.Calls.Service("DynamoDB"), f.Calls.Service("SQS"), f.Calls.Service("Secrets Manager"); db != 1 || q != 0 || sm != 0 {
		t.Errorf("a delivery made %d DynamoDB, %d SQS and %d Secrets Manager calls, want 1 (the attempt's UpdateItem), 0, 0", db, q, sm)
	}

	for _, tc := range []struct {
		dept string
		want []string
	}{
		{"municipal", []string{n3.ID, n1.ID}},
		{"sanitation", []string{n2.ID}},
		{"police", nil},
	} {
		ds, _, err := f.Store.Deliveries(context.Background(), tc.dept, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, d := range ds {
			gotIDs = append(gotIDs, d.ID)
			if d.Dept != tc.dept || d.Status != notify.Delivered {
				t.Errorf("%s lists %+v", tc.dept, d)
			}
		}
		if !slices.Equal(gotIDs, tc.want) {
			t.Errorf("deliveries of %s: %v, want %v (newest first)", tc.dept, gotIDs, tc.want)
		}
	}
}

// failAndReappear delivers attempt number want, which the endpoint fails, and checks that the function
// kept the message and hid it for its backoff: not visible at once, and (the next deliver waits for it)
// back long before the 30 s the poller's receive hid it for, which only the function's
// ChangeMessageVisibility explains.
func (f *fixture) failAndReappear(t *testing.T, want int) {
	t.Helper()
	f.Calls.Reset()
	ms, resp := f.deliver(10 * time.Second)
	if len(ms) != 1 || testenv.ReceiveCount(ms[0]) != want {
		t.Fatalf("attempt %d: received %d messages, receive count %d", want, len(ms), testenv.ReceiveCount(ms[0]))
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != aws.ToString(ms[0].MessageId) {
		t.Fatalf("attempt %d: failures %v, want the message kept for a retry", want, resp.BatchItemFailures)
	}
	if c := f.Calls.Snapshot()["SQS.ChangeMessageVisibility"]; c != 1 {
		t.Errorf("attempt %d: %d ChangeMessageVisibility calls, want 1 (the backoff)", want, c)
	}
	t.Logf("attempt %d failed: %v", want, f.Calls.Snapshot())
	// Hidden for the backoff: not visible at once. (Peeking at it later would count as a receive; the
	// next attempt's receive, which waits at most 10 s for it, shows it came back early.)
	if again := f.Receive(f.OutboxURL, 30); len(again) != 0 {
		t.Fatalf("attempt %d: the message is visible again at once (no backoff)", want)
	}
}

func TestRetriedWithBackoffThenDelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, 503, 503, 200)
	n := f.enqueue("municipal")
	f.failAndReappear(t, 1)
	f.failAndReappear(t, 2)
	ms, resp := f.deliver(10 * time.Second)
	if testenv.ReceiveCount(ms[0]) != 3 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("third attempt: receive count %d, failures %v", testenv.ReceiveCount(ms[0]), resp.BatchItemFailures)
	}

	got := f.ep.received()
	if len(got) != 3 {
		t.Fatalf("endpoint received %d requests, want 3", len(got))
	}
	for i, g := range got {
		if g.id != n.ID || g.verify != nil || !bytes.Equal(g.body, n.Payload) {
			t.Errorf("request %d: webhook-id %s (want %s), verify %v", i+1, g.id, n.ID, g.verify)
		}
	}
	d := f.record("municipal", n.ID)
	if d.Status != notify.Delivered || len(d.Attempts) != 3 {
		t.Fatalf("delivery %+v, want delivered after 3 attempts", d)
	}
	for i, a := range d.Attempts {
		wantStatus, wantOutcome := 503, "retry"
		if i == 2 {
			wantStatus, wantOutcome = 200, "delivered"
		}
		if a.Number != i+1 || a.HTTPStatus != wantStatus || a.Outcome != wantOutcome {
			t.Errorf("attempt %d recorded as %+v, want number %d, %d, %s", i+1, a, i+1, wantStatus, wantOutcome)
		}
	}
	if left := f.queueDepth(f.OutboxURL) + f.queueDepth(f.DLQURL); left != 0 {
		t.Errorf("%d messages left on the queues", left)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, 404)
	n := f.enqueue("municipal")
	if _, resp := f.deliver(5 * time.Second); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v: a 404 must not be retried", resp.BatchItemFailures)
	}
	d := f.record("municipal", n.ID)
	if d.Status != notify.Failed || len(d.Attempts) != 1 || d.Attempts[0].HTTPStatus != 404 || d.Attempts[0].Outcome != "permanent" {
		t.Errorf("delivery %+v, want failed after one 404", d)
	}
	if left := f.queueDepth(f.OutboxURL) + f.queueDepth(f.DLQURL); left != 0 {
		t.Errorf("%d messages left on the queues", left)
	}
	if got := f.ep.received(); len(got) != 1 {
		t.Errorf("endpoint received %d requests, want 1", len(got))
	}
}

func TestDeadLetteredThenRedriven(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, 503)
	n := f.enqueue("municipal")
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		f.failAndReappear(t, attempt)
	}
	d := f.record("municipal", n.ID)
	if d.Status != notify.DeadLettered || len(d.Attempts) != maxAttempts {
		t.Fatalf("delivery %+v, want dead_lettered after %d attempts", d, maxAttempts)
	}

	// moto 5.2.5 applies the redrive policy as SQS does: once the message is visible again after
	// maxReceiveCount receives, the next ReceiveMessage moves it to the dead-letter queue instead of
	// returning it.
	deadline := time.Now().Add(10 * time.Second)
	for f.queueDepth(f.DLQURL) == 0 {
		if ms := f.Receive(f.OutboxURL, 30); len(ms) > 0 {
			t.Fatalf("the outbox handed the message out a %dth time instead of dead-lettering it", testenv.ReceiveCount(ms[0]))
		}
		if time.Now().After(deadline) {
			t.Fatal("the message did not reach the dead-letter queue within 10 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if depth := f.queueDepth(f.OutboxURL); depth != 0 {
		t.Errorf("outbox still holds %d messages", depth)
	}

	moved, err := queue.Redrive(context.Background(), queue.NewClient(f.AWS), f.DLQURL, f.OutboxURL, 10)
	if err != nil || moved != 1 {
		t.Fatalf("redrive moved %d (%v), want 1", moved, err)
	}
	if depth := f.queueDepth(f.DLQURL); depth != 0 {
		t.Errorf("dead-letter queue still holds %d messages", depth)
	}
	f.ep.script(200)
	ms, resp := f.deliver(5 * time.Second)
	if len(ms) != 1 || testenv.ReceiveCount(ms[0]) != 1 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("after redrive: %d messages (receive count %d), failures %v", len(ms), testenv.ReceiveCount(ms[0]), resp.BatchItemFailures)
	}
	if got := testenv.Notifications(t, ms); got[0].ID != n.ID {
		t.Errorf("redriven message is %s, want %s", got[0].ID, n.ID)
	}
	if d := f.record("municipal", n.ID); d.Status != notify.Delivered || len(d.Attempts) != maxAttempts+1 {
		t.Errorf("after redrive the delivery is %s with %d attempts, want delivered with %d", d.Status, len(d.Attempts), maxAttempts+1)
	}
	for _, g := range f.ep.received() {
		if g.id != n.ID || g.verify != nil {
			t.Errorf("request with webhook-id %s (want %s), verify %v", g.id, n.ID, g.verify)
		}
	}
}

func TestEgressRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{"ALLOW_LOOPBACK_WEBHOOKS": ""}, 200)
	municipal, err := f.Store.Department(context.Background(), "municipal")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ dept, url string }{
		{"egress_loopback_http", municipal.WebhookURL}, // the endpoint itself: http on 127.0.0.1
		{"egress_loopback_https", strings.Replace(municipal.WebhookURL, "http://", "https://", 1)},
		{"egress_localhost", "https://localhost:8443/hook"},
		{"egress_private", "https://10.1.2.3/hook"},
		{"egress_metadata", "https://169.254.169.254/latest/meta-data"},
	}
	// A name that resolves to a loopback or private address is refused by the dialer, after DNS. This
	// machine's own host name usually does (/etc/hosts); elsewhere the case is left out.
	if host, err := os.Hostname(); err == nil && resolvesInternal(host) {
		cases = append(cases, struct{ dept, url string }{"egress_resolved", "https://" + host + ":8443/hook"})
	} else {
		t.Logf("host name %q does not resolve to an internal address here: the dialer case is left out", host)
	}
	for _, c := range cases {
		d := municipal
		d.ID, d.WebhookURL = c.dept, c.url
		if err := f.Store.PutDepartment(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	ns := map[string]dispatch.Notification{}
	for _, c := range cases {
		ns[c.dept] = f.enqueue(c.dept)
	}
	ms, resp := f.deliver(5 * time.Second)
	for len(ms) < len(cases) { // a receive returns at most 10 and may return fewer
		more, r := f.deliver(5 * time.Second)
		ms, resp.BatchItemFailures = append(ms, more...), append(resp.BatchItemFailures, r.BatchItemFailures...)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures %v: a refused destination must not be retried", resp.BatchItemFailures)
	}
	for _, c := range cases {
		d := f.record(c.dept, ns[c.dept].ID)
		if d.Status != notify.Failed || len(d.Attempts) != 1 || d.Attempts[0].Outcome != "permanent" ||
			!strings.Contains(d.Attempts[0].Error, "egress_refused") {
			t.Errorf("%s (%s): delivery %+v, want failed permanently with egress_refused", c.dept, c.url, d)
		}
	}
	if got := f.ep.received(); len(got) != 0 {
		t.Errorf("the endpoint received %d requests, want none", len(got))
	}
}

// resolvesInternal reports whether host resolves only to loopback or private addresses.
func resolvesInternal(host string) bool {
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || !(ip.IsLoopback() || ip.IsPrivate()) {
			return false
		}
	}
	return true
}

// TestBatchWithADepartmentThatNeverAnswers is issue 11's done-when for notify: one department's endpoint
// never answers; the others in the same batch are delivered exactly once, the function returns before its
// deadline, and only the hanging department's message is kept for a retry (hidden for its backoff).
func TestBatchWithADepartmentThatNeverAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, 200)
	f.ep.hang("police")
	depts := []string{"municipal", "sanitation", "police", "city_mgmt", "traffic_police", "environment", "command_center", "credit_platform"}
	sent := map[string]dispatch.Notification{}
	for _, d := range depts {
		sent[d] = f.enqueue(d)
	}
	var ms []sqstypes.Message
	for len(ms) < len(depts) { // a receive returns at most 10 and may return fewer
		more := f.ReceiveWithin(f.OutboxURL, 60, 5*time.Second)
		if len(more) == 0 {
			t.Fatalf("received %d of %d messages", len(ms), len(depts))
		}
		ms = append(ms, more...)
	}
	byMsg := map[string]string{} // message id → department
	for i, n := range testenv.Notifications(t, ms) {
		byMsg[aws.ToString(ms[i].MessageId)] = n.Dept
	}

	// Lambda's deadline for this invocation: far shorter than the webhook client's 10 s timeout, so only the
	// deadline can end the hanging call.
	const budget = 4 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	deadline, _ := ctx.Deadline()
	f.Calls.Reset()
	start := time.Now()
	resp, err := f.fn.Handle(ctx, f.SQSEvent(f.OutboxARN, ms...))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("handler error: %v", err)
	}
	t.Logf("batch of %d with one hanging endpoint returned after %v (deadline %v): %v", len(ms), took.Round(time.Millisecond), budget, f.Calls.Snapshot())
	if !time.Now().Before(deadline) {
		t.Fatalf("the function returned after its deadline (%v)", took)
	}
	if len(resp.BatchItemFailures) != 1 || byMsg[resp.BatchItemFailures[0].ItemIdentifier] != "police" {
		t.Fatalf("failures %v, want only police's message", resp.BatchItemFailures)
	}
	// The poller deletes what was not reported.
	for _, m := range ms {
		if byMsg[aws.ToString(m.MessageId)] != "police" {
			f.Delete(f.OutboxURL, m)
		}
	}

	count := map[string]int{}
	for _, g := range f.ep.received() {
		count[g.dept]++
		if g.id != sent[g.dept].ID || g.verify != nil || !bytes.Equal(g.body, sent[g.dept].Payload) {
			t.Errorf("request for %s: webhook-id %s (want %s), verify %v", g.dept, g.id, sent[g.dept].ID, g.verify)
		}
	}
	for _, d := range depts {
		if count[d] != 1 {
			t.Errorf("%s's endpoint received %d requests, want 1", d, count[d])
		}
		rec := f.record(d, sent[d].ID)
		want, outcome := notify.Delivered, "delivered"
		if d == "police" {
			want, outcome = notify.Retrying, "retry"
		}
		if rec.Status != want || len(rec.Attempts) != 1 || rec.Attempts[0].Outcome != outcome {
			t.Errorf("%s: delivery %+v, want %s after one attempt", d, rec, want)
		}
	}
	if c := f.Calls.Snapshot(); c["DynamoDB.UpdateItem"] != len(depts) || c["SQS.ChangeMessageVisibility"] != 1 {
		t.Errorf("calls %v: want %d attempt records and 1 visibility change (police's backoff)", c, len(depts))
	}
	// Only police's message is left, hidden for its backoff rather than for the receive's 60 s.
	again := f.ReceiveWithin(f.OutboxURL, 30, 10*time.Second)
	if len(again) != 1 || testenv.Notifications(t, again)[0].Dept != "police" || testenv.ReceiveCount(again[0]) != 2 {
		t.Fatalf("after the batch the outbox gave %d messages, want police's for its second attempt", len(again))
	}
}
