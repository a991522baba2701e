package dynamostore_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Dispatch's commit keeps a copy of the lead's assignment on the report (dispatchedLead) until the
// assignment's item is written; the first casework change after that removes it, so the report item stays
// small (a resolution under 1 KB writes 2 units in its transaction, not 4), and the report reads the same.
func TestCaseworkDropsTheCommittedLeadOnceItsItemIsWritten(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	id := "00000000-0000-5000-8000-0000000000d1"
	r := report.Report{ID: id, Status: report.Submitted, Category: "rubbish", Description: "d", ReporterSub: "u1",
		Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: now, UpdatedAt: now}
	if existing, err := st.InsertReport(ctx, r, idem.Hash([]byte(id))); err != nil || existing != nil {
		t.Fatalf("insert: %v %v", existing, err)
	}
	at := now.Add(time.Minute)
	lead := report.Assignment{Dept: "municipal", Role: report.Lead, Status: report.Dispatched, AssignedAt: at,
		SLADeadline: at.Add(24 * time.Hour), DispatchedAt: at, DispatchedAs: report.Dispatched}
	if err := st.Dispatch(ctx, r, report.Dispatched, "municipal", []report.Assignment{lead}, report.DispatchEntry(at, report.Dispatched, "municipal")); err != nil {
		t.Fatal(err)
	}
	hasCommitted := func() bool {
		t.Helper()
		out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": s("REPORT#" + id), "sk": s("REPORT")}})
		if err != nil {
			t.Fatal(err)
		}
		_, ok := out.Item["dispatchedLead"]
		return ok
	}
	if !hasCommitted() {
		t.Fatal("the dispatched report carries no dispatchedLead: the fixture does not test the removal")
	}
	got, _, err := st.ReportForDept(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	as := make([]report.Assignment, len(got.Assignments))
	for i, a := range got.Assignments {
		a.Status = report.Accepted
		as[i] = a
	}
	cs := casework.ChangeSet{Report: got, To: report.Accepted, LeadDept: "municipal", Assignments: as,
		Entry: report.TimelineEntry{At: at.Add(time.Minute), Status: report.Accepted, Actor: "municipal"}}
	for i := range 2 { // the second is refused by the status condition: the removal is safe to apply twice
		err := st.Apply(ctx, cs)
		if i == 0 && err != nil {
			t.Fatal(err)
		}
	}
	if hasCommitted() {
		t.Error("dispatchedLead is still on the report after a change with the lead's item written")
	}
	after, err := st.GetReport(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := after.Assignment("municipal")
	if after.Status != report.Accepted || !ok || a.Pending || a.Status != report.Accepted || !a.SLADeadline.Equal(lead.SLADeadline) {
		t.Errorf("report %s, lead %+v (found %v), want accepted with municipal's written assignment and its deadline", after.Status, a, ok)
	}
}
