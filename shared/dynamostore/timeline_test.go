package dynamostore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
)

// A report's timeline is read from its items, but most entries are not items of their own: filing is
// implied by createdAt, the dispatch by the lead's assignment, and a department's status change rides on
// the assignment the change rewrites anyway — within bounds (report.MaxLog entries, notes up to
// report.MaxLoggedNote bytes) and not for Open311 reports, whose updates feed reads timeline items. Replays
// of a signed event are recognised either way.
func TestTimelineEntriesRideOnTheItemsAChangeWrites(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

	// file and dispatch a report to municipal, whose assignment starts with log entries already.
	file := func(id string, log []report.TimelineEntry) report.Report {
		t.Helper()
		r := report.Report{ID: id, Status: report.Submitted, Category: "rubbish", Description: "d", ReporterSub: "u1",
			Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: now, UpdatedAt: now}
		if existing, err := st.InsertReport(ctx, r, idem.Hash([]byte(id))); err != nil || existing != nil {
			t.Fatalf("insert %s: %v %v", id, existing, err)
		}
		at := now.Add(time.Minute)
		lead := report.Assignment{Dept: "municipal", Role: report.Lead, Status: report.Dispatched, AssignedAt: at,
			SLADeadline: at.Add(24 * time.Hour), DispatchedAt: at, DispatchedAs: report.Dispatched, Log: log}
		if err := st.Dispatch(ctx, r, report.Dispatched, "municipal", []report.Assignment{lead}, report.DispatchEntry(at, report.Dispatched, "municipal")); err != nil {
			t.Fatalf("dispatch %s: %v", id, err)
		}
		got, err := st.GetReport(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// apply moves r to `to` as municipal's signed event msg with note, and returns the report as read after.
	apply := func(r report.Report, to report.Status, msg, note string) (report.Report, map[string]bool) {
		t.Helper()
		at := r.UpdatedAt.Add(time.Minute)
		as := make([]report.Assignment, len(r.Assignments))
		for i, a := range r.Assignments {
			a.Status = to
			as[i] = a
		}
		cs := casework.ChangeSet{Report: r, To: to, LeadDept: "municipal", Assignments: as, Attempt: msg, InboundDept: "municipal",
			InboundID: msg, Entry: report.TimelineEntry{At: at, Status: to, Actor: "municipal", Note: note}}
		if err := st.Apply(ctx, cs); err != nil {
			t.Fatalf("apply %s to %s: %v", to, r.ID, err)
		}
		got, seen, err := st.ReportForDept(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got, seen
	}
	timelineItems := func(id string) int {
		t.Helper()
		out, err := e.db.Query(ctx, &dynamodb.QueryInput{TableName: &e.table, KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("REPORT#" + id)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range out.Items {
			if strings.HasPrefix(it["sk"].(*types.AttributeValueMemberS).Value, "TL#") {
				n++
			}
		}
		return n
	}
	statuses := func(r report.Report) string {
		var out []string
		for _, e := range r.Timeline {
			out = append(out, string(e.Status)+" by "+e.Actor)
		}
		return strings.Join(out, ", ")
	}

	r := file("00000000-0000-5000-8000-000000000001", nil)
	r, seen := apply(r, report.Accepted, "msg_1", "on our way")
	if n := timelineItems(r.ID); n != 0 {
		t.Errorf("%d timeline items after filing, dispatch and acceptance, want none", n)
	}
	if got, want := statuses(r), "submitted by citizen, dispatched by system, accepted by municipal"; got != want {
		t.Errorf("timeline %q, want %q", got, want)
	}
	if !seen["municipal#msg_1"] {
		t.Errorf("the acceptance's webhook-id is not seen: %v", seen)
	}
	long := strings.Repeat("路", report.MaxLoggedNote/3+1) // over the bound in bytes
	r, seen = apply(r, report.InProgress, "msg_2", long)
	if n := timelineItems(r.ID); n != 1 {
		t.Errorf("%d timeline items after a change with a %d-byte note, want 1", n, len(long))
	}
	if last := r.Timeline[len(r.Timeline)-1]; last.Note != long || last.Status != report.InProgress || !seen["municipal#msg_2"] {
		t.Errorf("last entry %+v (seen %v), want in_progress with the long note, its webhook-id seen", last, seen)
	}

	// An assignment whose log is full: the entry is an item of its own.
	var full []report.TimelineEntry
	for i := range report.MaxLog {
		full = append(full, report.TimelineEntry{At: now.Add(time.Duration(i) * time.Second), Status: report.Dispatched, Actor: "municipal", Note: "earlier"})
	}
	f := file("00000000-0000-5000-8000-000000000002", full)
	f, _ = apply(f, report.Accepted, "msg_3", "")
	if n := timelineItems(f.ID); n != 1 || len(f.Timeline) != 2+report.MaxLog+1 {
		t.Errorf("full log: %d timeline items and %d entries, want 1 and %d", n, len(f.Timeline), 2+report.MaxLog+1)
	}

	// An Open311 report (a version 8 id) keeps its entries as items: its dispatch's and its changes'.
	o := file(report.NewOpen311ID("00000000-0000-4000-8000-000000000003"), nil)
	o, _ = apply(o, report.Accepted, "msg_4", "")
	if n := timelineItems(o.ID); n != 2 || statuses(o) != "submitted by citizen, dispatched by system, accepted by municipal" {
		t.Errorf("Open311 report: %d timeline items, timeline %q; want 2 and the same three entries", n, statuses(o))
	}
}
