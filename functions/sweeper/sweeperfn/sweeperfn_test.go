package sweeperfn_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/functions/sweeper/sweeperfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/report"
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

// logs collects a function's JSON log lines.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// escalated returns the "escalated" counts of the sweeps logged so far, in order.
func (l *logs) escalated(t testing.TB) []int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			Escalated *int   `json:"escalated"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %s: %v", sc.Bytes(), err)
		}
		if line.Msg == "sweep done" && line.Escalated != nil {
			out = append(out, *line.Escalated)
		}
	}
	return out
}

// Places in Mengzi (infra/seed/areas.json).
var (
	oldTown     = report.Location{Lat: 23.3720, Lng: 103.3760} // rubbish: sanitation + city_mgmt, 12 h, escalation city_mgmt
	newDistrict = report.Location{Lat: 23.3950, Lng: 103.4000} // rubbish: sanitation, the category's 24 h, escalation city_mgmt
	outskirts   = report.Location{Lat: 23.4500, Lng: 103.2500} // damaged_road: municipal + traffic_police, 120 h
)

func TestSweepEscalatesOverdueAssignmentsOnce(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	d, err := dispatchfn.New(e.BaseOn(e.AWS, "DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	file := func(category string, at report.Location) report.Report {
		r := e.CreateReport(report.Report{Category: category, Location: at})
		resp, err := d.Handle(context.Background(), testenv.Event(e.ReportRecord(r.ID)))
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("dispatch %s: %v %v", category, err, resp.BatchItemFailures)
		}
		got, err := e.Store.GetReport(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a := file("rubbish", oldTown)
	b := file("rubbish", newDistrict)
	c := file("damaged_road", outskirts)
	if len(a.Assignments) != 2 || len(b.Assignments) != 1 || len(c.Assignments) != 2 {
		t.Fatalf("setup: assignments %d, %d, %d", len(a.Assignments), len(b.Assignments), len(c.Assignments))
	}
	e.Drain(e.OutboxURL)

	// A sweeper whose clock runs ahead: the scheduler fires it, its Now is hours later.
	var log logs
	sweep := func(ahead time.Duration) {
		t.Helper()
		base := e.Base("SweeperFunction", nil, slog.New(slog.NewJSONHandler(&log, nil)))
		base.Now = func() time.Time { return time.Now().Add(ahead) }
		fn, err := sweeperfn.New(base)
		if err != nil {
			t.Fatal(err)
		}
		e.Calls.Reset()
		if err := fn.Handle(context.Background(), json.RawMessage(`{}`)); err != nil {
			t.Fatalf("sweep at +%v: %v", ahead, err)
		}
		t.Logf("sweep at +%v: %v", ahead, e.Calls.Snapshot())
	}

	sweep(13 * time.Hour) // past a's 12 h, before b's 24 h and c's 120 h
	want := []string{
		"msg_" + a.ID + "_city_mgmt_escalated_sanitation", "msg_" + a.ID + "_command_center_escalated_sanitation",
		"msg_" + a.ID + "_city_mgmt_escalated_city_mgmt", "msg_" + a.ID + "_command_center_escalated_city_mgmt",
	}
	checkEscalations(t, e.Drain(e.OutboxURL), want)
	got, _ := e.Store.GetReport(context.Background(), a.ID)
	for _, as := range got.Assignments {
		if !as.Overdue {
			t.Errorf("a: %s is not marked overdue", as.Dept)
		}
	}
	var notes []string
	for _, tl := range got.Timeline {
		if strings.HasPrefix(tl.Note, "督办") {
			notes = append(notes, tl.Note)
		}
	}
	if len(notes) != 2 {
		t.Errorf("a's timeline has %d 督办 entries %v, want one per overdue department", len(notes), notes)
	}
	for _, r := range []report.Report{b, c} {
		if got, _ := e.Store.GetReport(context.Background(), r.ID); slices.ContainsFunc(got.Assignments, func(x report.Assignment) bool { return x.Overdue }) {
			t.Errorf("%s (%s) escalated before its deadline", r.ID, r.Category)
		}
	}

	// Again at the same time: nothing more is overdue, nothing is written or sent.
	before := e.Partition(a.ID)
	sweep(13 * time.Hour)
	if ns := e.Drain(e.OutboxURL); len(ns) != 0 {
		t.Errorf("a second sweep sent %d notifications", len(ns))
	}
	e.SamePartition(a.ID, before, "a second sweep")

	sweep(25 * time.Hour) // now b is late too, a is not escalated again
	checkEscalations(t, e.Drain(e.OutboxURL), []string{
		"msg_" + b.ID + "_city_mgmt_escalated_sanitation", "msg_" + b.ID + "_command_center_escalated_sanitation",
	})
	if got := log.escalated(t); !slices.Equal(got, []int{2, 0, 1}) {
		t.Errorf("sweeps escalated %v, want [2 0 1]", got)
	}
}

func checkEscalations(t *testing.T, ns []dispatch.Notification, want []string) {
	t.Helper()
	var ids []string
	for _, n := range ns {
		ids = append(ids, n.ID)
		var p struct {
			Type string `json:"type"`
			Data struct {
				Reason string `json:"reason"`
			} `json:"data"`
		}
		if err := json.Unmarshal(n.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if n.Type != "report.escalated" || p.Type != "report.escalated" || !strings.HasSuffix(p.Data.Reason, "missed its deadline") {
			t.Errorf("notification %s: type %s, reason %q", n.ID, n.Type, p.Data.Reason)
		}
	}
	slices.Sort(ids)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(ids, want) {
		t.Errorf("escalation notifications %v, want %v", ids, want)
	}
}

// staleIndex is the store as a sweep sees it while the SLA index still lists assignments escalated a
// moment ago: Overdue answers with a page read before.
type staleIndex struct {
	*dynamostore.Store
	page []dispatch.OverdueAssignment
}

func (s staleIndex) Overdue(context.Context, time.Time, int, string) ([]dispatch.OverdueAssignment, string, error) {
	return s.page, "", nil
}

// TestEscalationExactlyOnce: four sweeps at once, then one reading a stale index view, then one more:
// every late assignment is escalated once (one mark, one 督办 entry, one notification per target), and a
// sweep that dies holding an assignment's lease delays its escalation by the lease, never loses it.
func TestEscalationExactlyOnce(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	d, err := dispatchfn.New(e.BaseOn(e.AWS, "DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	var reports []report.Report
	for _, p := range []struct {
		cat string
		at  report.Location
	}{{"rubbish", oldTown}, {"rubbish", newDistrict}, {"damaged_road", outskirts}} {
		r := e.CreateReport(report.Report{Category: p.cat, Location: p.at})
		if resp, err := d.Handle(context.Background(), testenv.Event(e.ReportRecord(r.ID))); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("dispatch %s: %v %v", p.cat, err, resp.BatchItemFailures)
		}
		reports = append(reports, r)
	}
	e.Drain(e.OutboxURL)
	a, b := reports[0], reports[1]
	at := time.Now().Add(25 * time.Hour) // a's two assignments and b's one are late; c's are not
	clock := func() time.Time { return at }

	var log logs
	newSweeper := func() *sweeperfn.Function {
		base := e.Base("SweeperFunction", nil, slog.New(slog.NewJSONHandler(&log, nil)))
		base.Now = clock
		fn, err := sweeperfn.New(base)
		if err != nil {
			t.Fatal(err)
		}
		return fn
	}
	stale, _, err := e.Store.Overdue(context.Background(), at, 100, "")
	if err != nil || len(stale) != 3 {
		t.Fatalf("the SLA index lists %d late assignments (%v), want 3", len(stale), err)
	}

	// A sweep that died after claiming b's assignment: its lease holds b back from the others.
	dead := stale[slices.IndexFunc(stale, func(o dispatch.OverdueAssignment) bool { return o.ReportID == b.ID })]
	dead.Claim = "dead-sweep"
	if ok, err := e.Store.ClaimEscalation(context.Background(), dead, at, at.Add(5*time.Minute)); err != nil || !ok {
		t.Fatalf("claim for the dead sweep: %v %v", ok, err)
	}

	e.Calls.Reset()
	var wg sync.WaitGroup
	for range 4 {
		fn := newSweeper()
		wg.Go(func() {
			if err := fn.Handle(context.Background(), json.RawMessage(`{}`)); err != nil {
				t.Errorf("concurrent sweep: %v", err)
			}
		})
	}
	wg.Wait()
	t.Logf("four concurrent sweeps: %v", e.Calls.Snapshot())

	// A sweep reading the index as it was before: it claims nothing, so it writes and sends nothing.
	base := e.Base("SweeperFunction", nil, nil)
	outbox, err := queues.Outbox(base, queues.Client(base))
	if err != nil {
		t.Fatal(err)
	}
	before := e.Partition(a.ID)
	e.Calls.Reset()
	n, err := dispatch.NewService(staleIndex{base.Store, stale}, base.Dir, outbox, dispatch.Settings{}, clock).Escalate(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("the sweep on a stale index escalated %d (%v), want 0", n, err)
	}
	t.Logf("a sweep on a stale index of 3 escalated assignments: %v", e.Calls.Snapshot())
	if c := e.Calls.Snapshot(); c["SQS.SendMessageBatch"]+c["SQS.SendMessage"] != 0 || c["DynamoDB.TransactWriteItems"] != 0 || c["DynamoDB.UpdateItem"] != 3 {
		t.Errorf("calls %v: want 3 refused claims and nothing else", c)
	}
	e.SamePartition(a.ID, before, "a sweep on a stale index")

	checkEscalations(t, e.Drain(e.OutboxURL), []string{
		"msg_" + a.ID + "_city_mgmt_escalated_sanitation", "msg_" + a.ID + "_command_center_escalated_sanitation",
		"msg_" + a.ID + "_city_mgmt_escalated_city_mgmt", "msg_" + a.ID + "_command_center_escalated_city_mgmt",
	})

	// After the dead sweep's lease, the next sweep escalates b, once.
	at = at.Add(6 * time.Minute)
	for range 2 {
		if err := newSweeper().Handle(context.Background(), json.RawMessage(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	checkEscalations(t, e.Drain(e.OutboxURL), []string{
		"msg_" + b.ID + "_city_mgmt_escalated_sanitation", "msg_" + b.ID + "_command_center_escalated_sanitation",
	})
	total := 0
	for _, k := range log.escalated(t) {
		total += k
	}
	if total != 3 {
		t.Errorf("sweeps escalated %v, %d in all, want 3", log.escalated(t), total)
	}
	for _, r := range reports {
		got, err := e.Store.GetReport(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		notes := 0
		for _, tl := range got.Timeline {
			if strings.HasPrefix(tl.Note, "督办") {
				notes++
			}
		}
		overdue := 0
		for _, as := range got.Assignments {
			if as.Overdue {
				overdue++
			}
		}
		want := map[string]int{a.ID: 2, b.ID: 1}[r.ID]
		if notes != want || overdue != want {
			t.Errorf("%s (%s): %d 督办 entries and %d overdue assignments, want %d", r.ID, r.Category, notes, overdue, want)
		}
	}
}
