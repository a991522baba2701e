package dynamostore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/report"
)

// countingDB counts a store's Queries.
type countingDB struct {
	dynamostore.API
	queries atomic.Int64
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.API.Query(ctx, in, opts...)
}

// queueFixture loads assignments of roads (and one of parks) in several statuses, the i-th due i hours
// after base, and returns the ids of each status in deadline order.
func queueFixture(t *testing.T, st *dynamostore.Store, base time.Time) map[report.Status][]string {
	t.Helper()
	// Open statuses interleaved, so a filtered page skips entries of the others.
	statuses := []report.Status{report.Dispatched, report.Accepted, report.Dispatched, report.InProgress, report.Dispatched,
		report.Accepted, report.Dispatched, report.Dispatched, report.Accepted, report.Dispatched, report.Resolved, report.Dispatched}
	want := map[report.Status][]string{}
	var items []dynamostore.Item
	add := func(id, dept string, s report.Status, closed bool, due time.Time) {
		r := report.Report{ID: id, Status: s, Category: "rubbish", Description: "d", ReporterSub: "u1", LeadDept: dept,
			Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: base, UpdatedAt: base}
		it, err := st.AssignmentItem(r, report.Assignment{Dept: dept, Role: report.Lead, Status: s, AssignedAt: base, SLADeadline: due, Closed: closed})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	for i, s := range statuses {
		id := fmt.Sprintf("q%02d", i)
		add(id, "roads", s, false, base.Add(time.Duration(i+1)*time.Hour))
		want[s] = append(want[s], id)
	}
	add("closed", "roads", report.Rejected, true, base.Add(time.Hour)) // closed: in no queue
	add("parks1", "parks", report.Dispatched, false, base)             // another department's
	if err := st.BatchPut(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	return want
}

// A queue of one open status is the department's open partition filtered by astatus: every page holds at
// most limit entries of that status, the pages together hold each exactly once in deadline order, and a
// page that skips entries of other statuses reads on (in growing pages) instead of coming back short.
// casework.AllOpen lists the open partition as it is, each entry with its own status.
func TestQueueOfOneOpenStatusFiltersTheOpenPartition(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	db := &countingDB{API: e.db}
	st := dynamostore.New(db, e.table, time.UTC)
	base := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	want := queueFixture(t, st, base)
	statusOf := map[string]report.Status{}
	for s, ids := range want {
		for _, id := range ids {
			statusOf[id] = s
		}
	}
	for _, tc := range []struct {
		status report.Status
		limit  int
	}{
		{report.Dispatched, 2}, {report.Dispatched, 100}, {report.Accepted, 1}, {report.Accepted, 2},
		{report.InProgress, 1}, {report.Reopened, 5}, {report.NeedsTriage, 1}, {report.Resolved, 10}, {report.Rejected, 10},
		{casework.AllOpen, 3}, {casework.AllOpen, 100},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.status, tc.limit), func(t *testing.T) {
			var got []string
			cursor, pages := "", 0
			db.queries.Store(0)
			for {
				page, next, err := st.Queue(t.Context(), "roads", tc.status, tc.limit, cursor)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page) > tc.limit {
					t.Fatalf("page of %d, limit %d", len(page), tc.limit)
				}
				if next != "" && len(page) < tc.limit {
					t.Errorf("page %d holds %d of %d with more to come: a filtered page must read on", pages, len(page), tc.limit)
				}
				for _, it := range page {
					st := tc.status
					if st == casework.AllOpen {
						st = statusOf[it.ReportID]
					}
					if it.Status != st || it.Role != report.Lead || it.Category != "rubbish" {
						t.Errorf("item %+v, want status %s", it, st)
					}
					got = append(got, it.ReportID)
				}
				if next == "" {
					break
				}
				if pages > 20 {
					t.Fatal("no end of the queue")
				}
				cursor = next
			}
			if tc.status == casework.AllOpen {
				want[tc.status] = slices.SortedFunc(slices.Values(slices.Concat(want[report.Dispatched], want[report.Accepted], want[report.InProgress])), strings.Compare)
			}
			if !slices.Equal(got, want[tc.status]) {
				t.Errorf("queue %s = %v, want %v", tc.status, got, want[tc.status])
			}
			// Each call reads the partition once at most (its pages grow): the open partition holds 11.
			if q := db.queries.Load(); q > int64(pages*4) {
				t.Errorf("%d Queries for %d pages", q, pages)
			}
		})
	}
}

// Acceptance keeps the assignment in the open partition (its key does not move: one index write unit, not
// two) and moves it from the dispatched to the accepted queue; resolution moves it out.
func TestAcceptanceKeepsTheQueueEntrysKey(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	base := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	queueFixture(t, st, base)
	gsi2pk := func() string {
		t.Helper()
		out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": s("REPORT#q00"), "sk": s("ASSIGN#roads")}})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := out.Item["gsi2pk"].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	in := func(status report.Status) bool {
		t.Helper()
		q, _, err := st.Queue(ctx, "roads", status, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(q, func(it casework.QueueItem) bool { return it.ReportID == "q00" })
	}
	before := gsi2pk()
	// The fixture wrote assignments only: Apply's condition needs the report, dispatched.
	if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: map[string]types.AttributeValue{
		"pk": s("REPORT#q00"), "sk": s("REPORT"), "type": s("report"), "id": s("q00"), "status": s("dispatched")}}); err != nil {
		t.Fatal(err)
	}
	change := func(to report.Status, at time.Time) {
		t.Helper()
		r, _, err := st.ReportForDept(ctx, "q00")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Assignments) != 1 {
			t.Fatalf("assignments %+v", r.Assignments)
		}
		as := []report.Assignment{r.Assignments[0]}
		as[0].Status = to
		if err := st.Apply(ctx, casework.ChangeSet{Report: r, To: to, LeadDept: "roads", Assignments: as,
			Entry: report.TimelineEntry{At: at, Status: to, Actor: "roads"}}); err != nil {
			t.Fatal(err)
		}
	}
	change(report.Accepted, base.Add(time.Minute))
	if after := gsi2pk(); after != before || after != "QUEUE#roads#OPEN" {
		t.Errorf("accepted: gsi2pk %q, was %q: want it kept in the open partition", after, before)
	}
	if in(report.Dispatched) || !in(report.Accepted) {
		t.Errorf("accepted: in the dispatched queue %v, in the accepted queue %v", in(report.Dispatched), in(report.Accepted))
	}
	change(report.Resolved, base.Add(2*time.Minute))
	if after := gsi2pk(); after != "QUEUE#roads#resolved" {
		t.Errorf("resolved: gsi2pk %q, want QUEUE#roads#resolved", after)
	}
	if in(report.Accepted) || !in(report.Resolved) {
		t.Errorf("resolved: in the accepted queue %v, in the resolved queue %v", in(report.Accepted), in(report.Resolved))
	}
}

// Queue entries written before the open partition (QUEUE#<dept>#<open status>, some before astatus too)
// are moved into it once: a second run moves nothing, and the queues list them by their status.
func TestMigrateQueueKeysMovesLegacyEntriesOnce(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	legacy := func(id, dept, status string, astatus bool) {
		t.Helper()
		it := map[string]types.AttributeValue{
			"pk": s("REPORT#" + id), "sk": s("ASSIGN#" + dept), "type": s("assignment"), "reportId": s(id), "dept": s(dept),
			"role": s("lead"), "category": s("rubbish"), "slaDeadline": s("2026-12-01T00:00:00.000Z"),
			"gsi2pk": s("QUEUE#" + dept + "#" + status), "gsi2sk": s("2026-12-01T00:00:00.000Z#" + id),
		}
		if astatus {
			it["astatus"] = s(status)
		} else {
			it["status"] = s(status)
		}
		if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	legacy("m1", "roads", "dispatched", false)
	legacy("m2", "roads", "accepted", true)
	legacy("m3", "roads", "reopened", false)
	legacy("m4", "parks", "in_progress", true)
	legacy("m5", "roads", "resolved", true) // not open: stays where it is
	for run, want := range []int{4, 0} {
		n, err := st.MigrateQueueKeys(ctx, []string{"roads", "parks"})
		if err != nil || n != want {
			t.Fatalf("run %d moved %d, %v; want %d", run+1, n, err, want)
		}
	}
	for _, tc := range []struct {
		dept   string
		status report.Status
		want   []string
	}{
		{"roads", report.Dispatched, []string{"m1"}}, {"roads", report.Accepted, []string{"m2"}}, {"roads", report.Reopened, []string{"m3"}},
		{"parks", report.InProgress, []string{"m4"}}, {"roads", report.Resolved, []string{"m5"}}, {"roads", report.InProgress, nil},
	} {
		q, _, err := st.Queue(ctx, tc.dept, tc.status, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range q {
			got = append(got, it.ReportID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s queue = %v, want %v", tc.dept, tc.status, got, tc.want)
		}
	}
}
