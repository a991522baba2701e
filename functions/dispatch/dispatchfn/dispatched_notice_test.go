package dispatchfn_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

// The invocation that dispatches a report posts its reporter's "dispatched" notice (issue 11: no second
// invocation for the report's change to dispatched, which the stream's filter now leaves out). Every
// redelivery of the report's record posts it again under the same id, whatever the report's status by
// then, so a function stopped after the commit still leaves exactly one notice.
func TestTheDispatchingInvocationPostsTheDispatchedNotice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	r, ins := f.submit(report.Report{ReporterSub: "carol", Category: "street_light", Location: oldTown})
	before := f.Item("REPORT#"+r.ID, "REPORT")
	f.handle(ins)
	f.Drain(f.OutboxURL)
	got := f.get(r.ID)
	if got.Status != report.Dispatched {
		t.Fatalf("status %s", got.Status)
	}
	inbox := func() []notify.Notice {
		t.Helper()
		ns, _, err := f.Store.Notices(ctx, "carol", 10, "", now)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	ns := inbox()
	if len(ns) != 1 || ns[0].Kind != notify.ReportDispatched || ns[0].ReportID != r.ID || ns[0].Dept != got.LeadDept || !ns[0].At.Equal(got.UpdatedAt) {
		t.Fatalf("carol's inbox after the dispatch: %+v (report updated %s, lead %s)", ns, got.UpdatedAt, got.LeadDept)
	}
	// The stream's own record of the change (if one still came: a stack deployed before the filter) posts
	// the same notice: still one.
	f.handle(f.modify(before, f.Item("REPORT#"+r.ID, "REPORT")))
	if again := inbox(); len(again) != 1 || again[0].ID != ns[0].ID {
		t.Fatalf("after the MODIFY record: %+v", again)
	}

	// The function stopped after its writes, before the notice (removed here), and the department accepted
	// the report meanwhile: the redelivered INSERT posts the notice, the same one, once.
	if _, err := f.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.Table, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "USER#carol"}, "sk": &types.AttributeValueMemberS{Value: "NOTE#" + ns[0].ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &f.Table,
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#" + r.ID}, "sk": &types.AttributeValueMemberS{Value: "REPORT"}},
		UpdateExpression:          aws.String("SET #st = :st"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":st": &types.AttributeValueMemberS{Value: string(report.Accepted)}}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if resp := f.handle(ins); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivery failed: %v", resp.BatchItemFailures)
		}
	}
	f.Drain(f.OutboxURL)
	if again := inbox(); len(again) != 1 || again[0].ID != ns[0].ID || again[0].Kind != notify.ReportDispatched {
		t.Fatalf("after redeliveries: %+v, want the one notice %s", again, ns[0].ID)
	}
}

// The template's filter delivers dispatch a report's change to dispatched from any status but submitted
// (the routing invocation's own change, whose notice it posted).
func TestTheStreamFilterLeavesOutDispatchsOwnChange(t *testing.T) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Functions["DispatchFunction"]
	if !ok || len(fn.StreamEvents) != 1 {
		t.Fatalf("DispatchFunction with one stream event: %+v", fn)
	}
	filters, err := eventfilter.CompileAll(fn.StreamEvents[0].FilterPatterns)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	r, ins := f.submit(report.Report{ReporterSub: "dave", Category: "street_light", Location: offset(oldTown, 900, 900)})
	before := f.Item("REPORT#"+r.ID, "REPORT")
	f.handle(ins)
	after := f.Item("REPORT#"+r.ID, "REPORT")
	for _, tc := range []struct {
		name     string
		from, to report.Status
		want     bool
	}{
		{"submitted to dispatched", report.Submitted, report.Dispatched, false},
		{"needs_triage to dispatched", report.NeedsTriage, report.Dispatched, true},
		{"rejected to dispatched", report.Rejected, report.Dispatched, true},
		{"dispatched to accepted", report.Dispatched, report.Accepted, true},
		{"resolved to reopened", report.Resolved, report.Reopened, true},
		{"accepted to in_progress", report.Accepted, report.InProgress, false},
	} {
		doc, err := json.Marshal(f.modify(withStatus(before, tc.from), withStatus(after, tc.to)))
		if err != nil {
			t.Fatal(err)
		}
		if got := eventfilter.MatchAny(filters, doc); got != tc.want {
			t.Errorf("%s: delivered %v, want %v", tc.name, got, tc.want)
		}
	}
	if doc, _ := json.Marshal(ins); !eventfilter.MatchAny(filters, doc) {
		t.Error("a new report is not delivered")
	}
}
