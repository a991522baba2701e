package dispatchfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
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

// fixture is a fresh environment with the dispatch function built over it as main builds it.
type fixture struct {
	*testenv.Env
	fn *dispatchfn.Function
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	e := moto.New(t, testenv.Options{})
	fn, err := dispatchfn.New(e.Base("DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Env: e, fn: fn}
}

// with returns the fixture reporting to t (a subtest).
func (f *fixture) with(t testing.TB) *fixture { return &fixture{Env: f.Env.With(t), fn: f.fn} }

// handle delivers one stream batch to the function, as the event source mapping does.
func (f *fixture) handle(recs ...events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	f.T.Helper()
	resp, err := f.fn.Handle(context.Background(), testenv.Event(recs...))
	if err != nil {
		f.T.Fatalf("handler error: %v", err)
	}
	return resp
}

// submit writes a submitted report as intake does and returns it with its stream record.
func (f *fixture) submit(r report.Report) (report.Report, events.DynamoDBEventRecord) {
	f.T.Helper()
	r = f.CreateReport(r)
	return r, f.ReportRecord(r.ID)
}

func (f *fixture) get(id string) report.Report {
	f.T.Helper()
	r, err := f.Store.GetReport(context.Background(), id)
	if err != nil {
		f.T.Fatalf("get report %s: %v", id, err)
	}
	return r
}

// Places in Mengzi (see infra/seed/areas.json).
var (
	oldTown   = report.Location{Lat: 23.3720, Lng: 103.3760} // in the old_town area, outside its lake hole
	outskirts = report.Location{Lat: 23.4500, Lng: 103.2500} // in no area
)

// offset moves l by metres north and east.
func offset(l report.Location, north, east float64) report.Location {
	return report.Location{Lat: l.Lat + north/111_320, Lng: l.Lng + east/(111_320*math.Cos(l.Lat*math.Pi/180))}
}

// payload is the body of a report.dispatched notification, as a department receives it.
type payload struct {
	Type string `json:"type"`
	Data struct {
		Report struct {
			ID       string `json:"id"`
			Status   string `json:"status"`
			Category string `json:"category"`
			Reporter string `json:"reporter"`
		} `json:"report"`
		Role        string    `json:"role"`
		SLADeadline time.Time `json:"slaDeadline"`
		Reason      string    `json:"reason"`
	} `json:"data"`
}

func decode(t testing.TB, n dispatch.Notification) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(n.Payload, &p); err != nil {
		t.Fatalf("notification %s payload: %v", n.ID, err)
	}
	return p
}

// sees lists the seeded departments granted the reporter's identity (infra/seed/departments.json).
var sees = map[string]bool{"traffic_police": true, "police": true, "command_center": true}

func TestDispatchRoutesByRules(t *testing.T) {
	f := newFixture(t)
	type want struct {
		dept string
		role report.Role
	}
	cases := []struct {
		name        string
		category    string
		description string
		at          report.Location
		anonymous   bool
		status      report.Status
		lead        string
		assignments []want
		sla         time.Duration
		escalation  string
	}{
		{name: "category rule with an assist", category: "damaged_road", at: outskirts,
			status: report.Dispatched, lead: "municipal", assignments: []want{{"municipal", report.Lead}, {"traffic_police", report.Assist}},
			sla: 120 * time.Hour, escalation: dispatch.CommandCenter},
		{name: "area rule with its own SLA and escalation", category: "rubbish", at: oldTown,
			status: report.Dispatched, lead: "sanitation", assignments: []want{{"sanitation", report.Lead}, {"city_mgmt", report.Assist}},
			sla: 12 * time.Hour, escalation: "city_mgmt"},
		{name: "keyword rule", category: "manhole_cover", description: "井盖丢失 the cover is missing", at: offset(outskirts, 500, 0),
			status: report.Dispatched, lead: "municipal",
			assignments: []want{{"municipal", report.Lead}, {"traffic_police", report.Assist}, {"police", report.Assist}},
			sla:         4 * time.Hour, escalation: dispatch.CommandCenter},
		{name: "anonymous report: no department sees the reporter", category: "damaged_road", at: offset(outskirts, 1000, 0), anonymous: true,
			status: report.Dispatched, lead: "municipal", assignments: []want{{"municipal", report.Lead}, {"traffic_police", report.Assist}},
			sla: 120 * time.Hour, escalation: dispatch.CommandCenter},
		{name: "no rule: the command center triages", category: "other", at: oldTown,
			status: report.NeedsTriage, lead: dispatch.CommandCenter, assignments: []want{{dispatch.CommandCenter, report.Lead}},
			sla: 72 * time.Hour, escalation: dispatch.CommandCenter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := f.with(t)
			const reporter = "reporter-7f3a"
			r, rec := f.submit(report.Report{Category: tc.category, Description: tc.description, Location: tc.at,
				ReporterSub: reporter, Anonymous: tc.anonymous})
			before := time.Now().UTC().Truncate(time.Millisecond)
			if failed := testenv.Failed(f.handle(rec)); len(failed) > 0 {
				t.Fatalf("batch item failures %v", failed)
			}
			after := time.Now().UTC()

			got := f.get(r.ID)
			if got.Status != tc.status || got.LeadDept != tc.lead || got.DuplicateOf != "" {
				t.Fatalf("report is %s lead %q dup %q, want %s lead %s", got.Status, got.LeadDept, got.DuplicateOf, tc.status, tc.lead)
			}
			if n := len(got.Timeline); n != 2 || got.Timeline[1].Status != tc.status || got.Timeline[1].Actor != "system" {
				t.Errorf("timeline %+v, want submitted then %s by system", got.Timeline, tc.status)
			}
			if len(got.Assignments) != len(tc.assignments) {
				t.Fatalf("assignments %+v, want %+v", got.Assignments, tc.assignments)
			}
			deadlines := map[string]time.Time{}
			for _, w := range tc.assignments {
				a, ok := got.Assignment(w.dept)
				if !ok || a.Role != w.role || a.Status != tc.status || a.Overdue || a.Escalation != tc.escalation {
					t.Errorf("assignment of %s = %+v (found %v), want role %s status %s escalation %s", w.dept, a, ok, w.role, tc.status, tc.escalation)
				}
				if a.SLADeadline.Before(before.Add(tc.sla)) || a.SLADeadline.After(after.Add(tc.sla)) {
					t.Errorf("%s: SLA deadline %v, want dispatch time + %v (%v – %v)", w.dept, a.SLADeadline, tc.sla, before.Add(tc.sla), after.Add(tc.sla))
				}
				deadlines[w.dept] = a.SLADeadline
			}

			ns := f.Drain(f.OutboxURL)
			if len(ns) != len(tc.assignments) {
				t.Fatalf("%d notifications, want one per department (%d): %+v", len(ns), len(tc.assignments), ns)
			}
			for _, n := range ns {
				wantID := "msg_" + r.ID + "_" + n.Dept + "_dispatched"
				p := decode(t, n)
				if n.ID != wantID || n.Type != "report.dispatched" || n.ReportID != r.ID || p.Type != "report.dispatched" {
					t.Errorf("notification %s (%s, %s), want id %s type report.dispatched", n.ID, n.Type, n.ReportID, wantID)
				}
				if _, ok := deadlines[n.Dept]; !ok {
					t.Errorf("notification to %s, which has no assignment", n.Dept)
				}
				if !p.Data.SLADeadline.Equal(deadlines[n.Dept]) || p.Data.Report.ID != r.ID || p.Data.Report.Status != string(tc.status) {
					t.Errorf("%s payload %+v, want report %s %s, deadline %v", n.Dept, p.Data, r.ID, tc.status, deadlines[n.Dept])
				}
				shows := strings.Contains(string(n.Payload), reporter)
				if wantShown := sees[n.Dept] && !tc.anonymous; shows != wantShown || (p.Data.Report.Reporter == reporter) != wantShown {
					t.Errorf("%s: reporter shown = %v, want %v (seesReporterContact %v, anonymous %v)", n.Dept, shows, wantShown, sees[n.Dept], tc.anonymous)
				}
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	cases := []struct {
		name      string
		original  report.Report // written first; a submitted one is dispatched through the function
		category  string
		north     float64 // metres from the original
		private   bool    // the new report is filed as not public
		duplicate bool
	}{
		{name: "same category, open, 30 m, 1 h", original: report.Report{Category: "rubbish", CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 30, duplicate: true},
		{name: "45 m and 71 h", original: report.Report{Category: "rubbish", CreatedAt: now.Add(-71 * time.Hour)},
			category: "rubbish", north: 45, duplicate: true},
		{name: "original awaiting triage is open", original: report.Report{Category: "other", CreatedAt: now.Add(-time.Hour)},
			category: "other", north: 10, duplicate: true},
		{name: "60 m away", original: report.Report{Category: "rubbish", CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 60},
		{name: "73 h older", original: report.Report{Category: "rubbish", CreatedAt: now.Add(-73 * time.Hour)},
			category: "rubbish", north: 5},
		{name: "other category", original: report.Report{Category: "rubbish", CreatedAt: now.Add(-time.Hour)},
			category: "street_vending", north: 5},
		{name: "original already resolved", original: report.Report{Category: "rubbish", Status: report.Resolved, CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 5},
		{name: "original rejected", original: report.Report{Category: "rubbish", Status: report.Rejected, CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 5},
		// A private report is no original: a public report linked to it would leave the map and name it.
		{name: "public report near a private one", original: report.Report{Category: "rubbish", Public: notPublic(), CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 5},
		{name: "private report near a private one", original: report.Report{Category: "rubbish", Public: notPublic(), CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 5, private: true},
		{name: "private report near a public one", original: report.Report{Category: "rubbish", CreatedAt: now.Add(-time.Hour)},
			category: "rubbish", north: 5, private: true, duplicate: true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := f.with(t)
			// Each case in its own spot, kilometres from the others.
			at := offset(outskirts, float64(-2000*i), 0)
			orig := tc.original
			orig.Location = at
			orig, rec := f.submit(orig)
			if orig.Status == report.Submitted {
				if failed := testenv.Failed(f.handle(rec)); len(failed) > 0 {
					t.Fatalf("dispatch original: failures %v", failed)
				}
			}
			f.Drain(f.OutboxURL)

			nr := report.Report{Category: tc.category, Location: offset(at, tc.north, 0)}
			if tc.private {
				nr.Public = notPublic()
			}
			r, rec := f.submit(nr)
			if failed := testenv.Failed(f.handle(rec)); len(failed) > 0 {
				t.Fatalf("failures %v", failed)
			}
			got := f.get(r.ID)
			ns := f.Drain(f.OutboxURL)
			if tc.duplicate {
				if got.Status != report.Duplicate || got.DuplicateOf != orig.ID || len(got.Assignments) != 0 {
					t.Fatalf("report is %s (duplicateOf %q, %d assignments), want duplicate of %s", got.Status, got.DuplicateOf, len(got.Assignments), orig.ID)
				}
				if last := got.Timeline[len(got.Timeline)-1]; last.Status != report.Duplicate || !strings.Contains(last.Note, orig.ID) {
					t.Errorf("last timeline entry %+v, want duplicate of %s", last, orig.ID)
				}
				if len(ns) != 0 {
					t.Errorf("a duplicate notified %d departments: %+v", len(ns), ns)
				}
				return
			}
			if got.Status == report.Duplicate || got.DuplicateOf != "" || len(got.Assignments) == 0 {
				t.Fatalf("report is %s (duplicateOf %q, %d assignments), want dispatched on its own", got.Status, got.DuplicateOf, len(got.Assignments))
			}
			if len(ns) != len(got.Assignments) {
				t.Errorf("%d notifications for %d assignments", len(ns), len(got.Assignments))
			}
		})
	}
}

func notPublic() *bool { f := false; return &f }

// A public report near both a private report and a later public one is the public one's duplicate: the
// earliest open report that may be an original, not the earliest open report.
func TestDuplicateOfTheEarliestPublicReport(t *testing.T) {
	f := newFixture(t)
	at := offset(outskirts, -30_000, 0)
	private, rec := f.submit(report.Report{Category: "rubbish", Location: at, Public: notPublic(), CreatedAt: time.Now().Add(-2 * time.Hour)})
	f.handle(rec)
	if got := f.get(private.ID); got.Status != report.Dispatched {
		t.Fatalf("the private report is %s, want dispatched", got.Status)
	}
	public, rec := f.submit(report.Report{Category: "rubbish", Location: offset(at, 10, 0), CreatedAt: time.Now().Add(-time.Hour)})
	f.handle(rec)
	if got := f.get(public.ID); got.Status != report.Dispatched || got.DuplicateOf != "" || !report.PublicStatus(got.Status) {
		t.Fatalf("the public report near the private one is %s (duplicateOf %q), want dispatched on its own and on the map", got.Status, got.DuplicateOf)
	}
	r, rec := f.submit(report.Report{Category: "rubbish", Location: offset(at, 20, 0)})
	f.handle(rec)
	got := f.get(r.ID)
	if got.Status != report.Duplicate || got.DuplicateOf != public.ID {
		t.Fatalf("the third report is %s (duplicateOf %q), want a duplicate of the public %s", got.Status, got.DuplicateOf, public.ID)
	}
	for _, e := range got.Timeline {
		if strings.Contains(e.Note, private.ID) {
			t.Errorf("the duplicate's timeline names the private report: %+v", e)
		}
	}
	f.Drain(f.OutboxURL)
}

func TestRedeliveredBatch(t *testing.T) {
	f := newFixture(t)
	a, recA := f.submit(report.Report{Category: "damaged_road", Location: outskirts})
	b, recB := f.submit(report.Report{Category: "other", Location: offset(outskirts, 3000, 0)})
	dup, recDup := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, 20, 0), CreatedAt: a.CreatedAt.Add(time.Second)})
	batch := []events.DynamoDBEventRecord{recA, recB, recDup}

	if failed := testenv.Failed(f.handle(batch...)); len(failed) > 0 {
		t.Fatalf("first delivery: failures %v", failed)
	}
	first := ids(f.Drain(f.OutboxURL))
	want := []string{
		"msg_" + a.ID + "_municipal_dispatched", "msg_" + a.ID + "_traffic_police_dispatched",
		"msg_" + b.ID + "_command_center_dispatched",
	}
	slices.Sort(want)
	if !slices.Equal(first, want) {
		t.Fatalf("first delivery enqueued %v, want %v", first, want)
	}
	if got := f.get(dup.ID); got.Status != report.Duplicate || got.DuplicateOf != a.ID {
		t.Fatalf("third record: %s duplicateOf %q, want duplicate of %s", got.Status, got.DuplicateOf, a.ID)
	}
	parts := map[string][]map[string]types.AttributeValue{}
	for _, id := range []string{a.ID, b.ID, dup.ID} {
		parts[id] = f.Partition(id)
	}

	// Lambda delivers the same batch again (e.g. the first invocation timed out after its work was done).
	f.Calls.Reset()
	if failed := testenv.Failed(f.handle(batch...)); len(failed) > 0 {
		t.Fatalf("redelivery: failures %v", failed)
	}
	t.Logf("redelivery of 3 records (2 dispatched, 1 duplicate): %v", f.Calls.Snapshot())
	for id, before := range parts {
		f.SamePartition(id, before, "redelivery")
	}
	if again := ids(f.Drain(f.OutboxURL)); !slices.Equal(again, want) {
		t.Errorf("redelivery enqueued %v, want the same ids %v", again, want)
	}
}

// A dispatch is not a transaction: the report's conditional write commits it, then the assistants' and
// last the lead's assignments are written (the lead's implies the dispatch's timeline entry). When the function stops after the commit
// (here: those items deleted again, as if never written), Lambda delivers the record again and dispatch
// writes exactly what is missing, the same items as the first time, and enqueues the notifications; a
// duplicate link that lost its timeline entry gets it back.
func TestDispatchStoppedAfterItsCommitIsCompleted(t *testing.T) {
	f := newFixture(t)
	a, recA := f.submit(report.Report{Category: "damaged_road", Location: outskirts})
	dup, recDup := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, 20, 0), CreatedAt: a.CreatedAt.Add(time.Second)})
	if failed := testenv.Failed(f.handle(recA, recDup)); len(failed) > 0 {
		t.Fatalf("first delivery: failures %v", failed)
	}
	f.Drain(f.OutboxURL)
	done := f.get(a.ID)
	full := map[string][]map[string]types.AttributeValue{a.ID: f.Partition(a.ID), dup.ID: f.Partition(dup.ID)}
	deleted := 0
	for _, items := range full {
		for _, it := range items {
			sk := it["sk"].(*types.AttributeValueMemberS).Value
			if strings.HasPrefix(sk, "ASSIGN#") || strings.HasPrefix(sk, "TL#") && strings.Contains(sk, "#system#") {
				if _, err := f.DB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &f.Table,
					Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}}); err != nil {
					t.Fatal(err)
				}
				deleted++
			}
		}
	}
	if deleted != 3 { // a's two assignments (its dispatch entry is implied by the lead's), dup's entry
		t.Fatalf("deleted %d items, want 3", deleted)
	}
	for _, it := range f.Partition(a.ID) {
		if strings.HasPrefix(it["sk"].(*types.AttributeValueMemberS).Value, "ASSIGN#") {
			t.Fatal("an assignment is still there")
		}
	}
	// Stopped between the commit and the lead's assignment (or a read in between, e2e
	// TestOpen311LikeFixMyStreet's empty expected_datetime): a reader still sees the lead, its SLA
	// deadline and the dispatch entry, from the commit.
	mid := f.get(a.ID)
	lead, ok := mid.Assignment("municipal")
	written, _ := done.Assignment("municipal")
	if mid.Status != report.Dispatched || !ok || lead.SLADeadline.IsZero() || !lead.SLADeadline.Equal(written.SLADeadline) ||
		lead.Status != written.Status || lead.Role != report.Lead || !lead.AssignedAt.Equal(written.AssignedAt) {
		t.Errorf("between commit and assignment: %s, lead %+v (%v); want the written %+v", mid.Status, lead, ok, written)
	}
	if !slices.EqualFunc(mid.Timeline, done.Timeline, func(x, y report.TimelineEntry) bool {
		return x.At.Equal(y.At) && x.Status == y.Status && x.Note == y.Note
	}) {
		t.Errorf("timeline between commit and assignment = %+v, want %+v", mid.Timeline, done.Timeline)
	}
	if failed := testenv.Failed(f.handle(recA, recDup)); len(failed) > 0 {
		t.Fatalf("redelivery: failures %v", failed)
	}
	for id, before := range full {
		f.SamePartition(id, before, "completing the dispatch (want exactly the first delivery's items)")
	}
	want := []string{"msg_" + a.ID + "_municipal_dispatched", "msg_" + a.ID + "_traffic_police_dispatched"}
	if got := ids(f.Drain(f.OutboxURL)); !slices.Equal(got, want) {
		t.Errorf("completion enqueued %v, want %v", got, want)
	}
}

func ids(ns []dispatch.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	slices.Sort(out)
	return out
}

func TestPoisonRecordStopsTheBatchThere(t *testing.T) {
	cases := []struct {
		name   string
		poison func(f *fixture) events.DynamoDBEventRecord
	}{
		{name: "an image that is not a report", poison: func(f *fixture) events.DynamoDBEventRecord {
			return f.InsertRecord("CONFIG#CATEGORY", "rubbish")
		}},
		{name: "a report whose write fails", poison: func(f *fixture) events.DynamoDBEventRecord {
			// The image of a report the table does not hold: the conditional dispatch write fails, and
			// so does the re-read that would tell a redelivery from a vanished report.
			item := f.Item("REPORT#"+f.CreateReport(report.Report{Category: "rubbish", Location: offset(outskirts, -900, 0)}).ID, "REPORT")
			ghost := "0190a2b4-1c2d-7e3f-8a9b-00000000dead"
			item["pk"] = &types.AttributeValueMemberS{Value: "REPORT#" + ghost}
			item["id"] = &types.AttributeValueMemberS{Value: ghost}
			return f.Record(item)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			good1, rec1 := f.submit(report.Report{Category: "damaged_road", Location: outskirts})
			poison := tc.poison(f)
			good2, rec2 := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, 900, 0)})

			resp := f.handle(rec1, poison, rec2)
			if failed := testenv.Failed(resp); !slices.Equal(failed, []string{poison.Change.SequenceNumber}) {
				t.Fatalf("batch item failures %v, want exactly the poison record's %s", failed, poison.Change.SequenceNumber)
			}
			if got := f.get(good1.ID); got.Status != report.Dispatched {
				t.Errorf("record before the poison: %s, want dispatched", got.Status)
			}
			// Lambda retries from the failed record, so the one after it is not attempted yet.
			if got := f.get(good2.ID); got.Status != report.Submitted {
				t.Errorf("record after the poison: %s, want still submitted", got.Status)
			}
			for _, n := range f.Drain(f.OutboxURL) {
				if n.ReportID != good1.ID {
					t.Errorf("notification %s for a report not yet handled", n.ID)
				}
			}
		})
	}
}

func TestDispatchCallCounts(t *testing.T) {
	f := newFixture(t)
	// Warm the per-container configuration cache (departments, areas, rules, categories: four Queries).
	_, warm := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, 5000, 0)})
	f.handle(warm)
	f.Drain(f.OutboxURL)

	cases := []struct {
		name     string
		category string
		at       report.Location
		maxDB    int
		sqs      int
	}{
		// At most four geohash cells cover the 50 m circle: ≤ 4 Queries; then the report's UpdateItem, its
		// timeline entry's PutItem and one PutItem per assignment (no transaction: the report's write is the
		// commit); a report with a candidate original within the radius reads its status too (one
		// BatchGetItem: the NEAR entries carry no status, so no status change rewrites them). A report
		// dispatched to a department also posts its reporter's notice (a PutItem the stream's second
		// invocation made before).
		{name: "dispatched (lead + assist)", category: "damaged_road", at: outskirts, maxDB: 4 + 4 + 1, sqs: 1},
		{name: "needs triage", category: "other", at: offset(outskirts, 2000, 0), maxDB: 4 + 3, sqs: 1},
		{name: "duplicate", category: "damaged_road", at: offset(outskirts, 10, 0), maxDB: 4 + 1 + 2, sqs: 0},
	}
	for _, tc := range cases {
		_, rec := f.submit(report.Report{Category: tc.category, Location: tc.at})
		f.Calls.Reset()
		if failed := testenv.Failed(f.handle(rec)); len(failed) > 0 {
			t.Fatalf("%s: failures %v", tc.name, failed)
		}
		db, q := f.Calls.Service("DynamoDB"), f.Calls.Service("SQS")
		t.Logf("%s: %d DynamoDB + %d SQS calls %v", tc.name, db, q, f.Calls.Snapshot())
		if db > tc.maxDB || q != tc.sqs {
			t.Errorf("%s: %d DynamoDB and %d SQS calls, want ≤ %d and %d", tc.name, db, q, tc.maxDB, tc.sqs)
		}
		f.Drain(f.OutboxURL)
	}
}
