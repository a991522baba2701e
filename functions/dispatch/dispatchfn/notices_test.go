package dispatchfn_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

// modify is the MODIFY stream record of an item that changed from old to new.
func (f *fixture) modify(old, new map[string]types.AttributeValue) events.DynamoDBEventRecord {
	f.T.Helper()
	rec := f.Record(new)
	oldImg, err := testenv.StreamImage(old)
	if err != nil {
		f.T.Fatal(err)
	}
	rec.EventName, rec.Change.OldImage = "MODIFY", oldImg
	return rec
}

// pushes takes every message off the outbox and returns the push messages (Drain would refuse the
// repeated ids this test expects).
func (f *fixture) pushes() []dispatch.Notification {
	f.T.Helper()
	ms := f.Receive(f.OutboxURL, 30)
	f.Delete(f.OutboxURL, ms...)
	var out []dispatch.Notification
	for _, m := range ms {
		var n dispatch.Notification
		if err := json.Unmarshal([]byte(*m.Body), &n); err != nil {
			f.T.Fatal(err)
		}
		if n.Type == notify.PushType {
			out = append(out, n)
		}
	}
	return out
}

// A report's status changes reach its reporter's inbox once however often the record is delivered; a
// reporter with a device gets one push message per delivery that finds the notice unpushed (notify
// claims before it sends); a change the reporter is not told of, or to another user, writes nothing.
func TestStatusChangesReachTheReportersInboxOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := f.Store.PutDevice(ctx, "alice", notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-aaaaaaaa", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	r, ins := f.submit(report.Report{ReporterSub: "alice", Category: "street_light", Location: oldTown})
	before := f.Item("REPORT#"+r.ID, "REPORT")
	f.handle(ins)
	after := f.Item("REPORT#"+r.ID, "REPORT")
	if got := f.get(r.ID).Status; got != report.Dispatched {
		t.Fatalf("status %s", got)
	}
	f.Drain(f.OutboxURL) // the departments' webhooks

	rec := f.modify(before, after)
	if resp := f.handle(rec, rec); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	f.handle(rec) // and once more, in another batch

	ns, _, err := f.Store.Notices(ctx, "alice", 10, "", now)
	if err != nil || len(ns) != 1 || ns[0].Kind != notify.ReportDispatched || ns[0].ReportID != r.ID || ns[0].Dept == "" {
		t.Fatalf("alice's inbox: %+v %v", ns, err)
	}
	ps := f.pushes()
	if len(ps) != 3 {
		t.Fatalf("%d push messages, want one per delivery of the unpushed notice (3)", len(ps))
	}
	for _, p := range ps {
		m, err := notify.DecodePush(p)
		if err != nil || m.Notice.ID != ns[0].ID || len(m.Devices) != 1 || m.Devices[0].Token != "tok-aaaaaaaa" {
			t.Fatalf("push message %+v %v", m, err)
		}
	}
	// Once notify has claimed it, a redelivery queues nothing more.
	if ok, err := f.Store.ClaimPush(ctx, "alice", ns[0].ID, "test-claim"); err != nil || !ok {
		t.Fatalf("claim %v %v", ok, err)
	}
	f.handle(rec)
	if ps := f.pushes(); len(ps) != 0 {
		t.Fatalf("a pushed notice was queued again: %d", len(ps))
	}

	// in_progress is not told; bob has no device: inbox only.
	prog := f.modify(after, withStatus(after, report.InProgress))
	f.handle(prog)
	b, bIns := f.submit(report.Report{ReporterSub: "bob", Category: "street_light", Location: offset(oldTown, 500, 500)})
	bBefore := f.Item("REPORT#"+b.ID, "REPORT")
	f.handle(bIns)
	f.Drain(f.OutboxURL)
	f.handle(f.modify(bBefore, f.Item("REPORT#"+b.ID, "REPORT")))
	if ps := f.pushes(); len(ps) != 0 {
		t.Fatalf("bob has no device but %d pushes were queued", len(ps))
	}
	if ns, _, _ := f.Store.Notices(ctx, "alice", 10, "", now); len(ns) != 1 {
		t.Fatalf("alice has %d notices after in_progress and bob's report", len(ns))
	}
	if ns, _, _ := f.Store.Notices(ctx, "bob", 10, "", now); len(ns) != 1 || ns[0].ReportID != b.ID {
		t.Fatalf("bob's inbox: %+v", ns)
	}
}

func withStatus(item map[string]types.AttributeValue, s report.Status) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		out[k] = v
	}
	out["status"] = &types.AttributeValueMemberS{Value: string(s)}
	return out
}
