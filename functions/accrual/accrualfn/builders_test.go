package accrualfn_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Builders' home records (issue 16) against moto: the points policy, off by default, awards the worker of
// a completed hire or a served consultation once per record when an admin turned it on.

// putBuildersRecord writes a builders_record in the contract's shape and returns its INSERT stream record.
func (h *harness) putBuildersRecord(kind, eventID, sub, detail string, at time.Time) events.DynamoDBEventRecord {
	h.t.Helper()
	pk := "BLDREC#" + kind + "#" + eventID
	item := map[string]types.AttributeValue{
		"pk": s(pk), "sk": s("BLDREC"), "type": s("builders_record"), "kind": s(kind), "n": n(1), "sub": s(sub),
		"ref": s(eventID), "at": s(ms(at)),
		"gsi1pk": s("BLDREC#" + at.In(shanghai).Format(time.DateOnly)), "gsi1sk": s(ms(at) + "#" + kind + "#" + eventID),
	}
	if detail != "" {
		item["detail"] = s(detail)
	}
	if _, err := h.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &h.table, Item: item}); err != nil {
		h.t.Fatal(err)
	}
	return h.e.Record(h.item(pk, "BLDREC"))
}

func buildersEntries(es []points.Entry) []points.Entry {
	var out []points.Entry
	for _, e := range es {
		if e.Kind == points.KindBuildersAward {
			out = append(out, e)
		}
	}
	return out
}

// Off by default: a completed hire and a consultation award nothing and write nothing; the only call is
// the rules' read.
func TestBuildersPolicyOffAwardsNothing(t *testing.T) {
	h := newHarness(t, nil)
	at := local(2026, 11, 28, 19, 0)
	hire := h.putBuildersRecord("hire_completed", "job1#wang", "wang", "", at)
	consult := h.putBuildersRecord("consultation", "desk1#slot1#wang", "wang", "legal", at)
	h.resetCounts()
	h.handleOK(hire, consult, hire)
	if calls := h.calls.Snapshot(); calls["DynamoDB.TransactWriteItems"] != 0 || calls["DynamoDB.PutItem"] != 0 || calls["DynamoDB.UpdateItem"] != 0 {
		t.Errorf("the policy off, the records made %v", calls)
	}
	if p := h.profile("wang"); p.Version != 0 || p.Balance != 0 {
		t.Errorf("the policy off, the worker has %+v", p)
	}
}

// On: a completed hire awards hireCompleted once however often it is delivered; a consultation its
// points; both under the daily cap; no merit; the ledger sums to the balance.
func TestBuildersPolicyOnAwardsOncePerRecord(t *testing.T) {
	rules := points.DefaultRules()
	rules.Builders = &points.BuildersRules{Enabled: true, HireCompleted: 20, Consultation: 5}
	h := newHarness(t, &rules)
	at := local(2026, 11, 28, 19, 0)
	hire := h.putBuildersRecord("hire_completed", "job1#wang", "wang", "", at)
	h.handleOK(h.putBuildersRecord("hire_completed", "job0#warm", "warm", "", at)) // the container's first record reads the rules

	h.resetCounts()
	h.handleOK(hire)
	// The profile's read and the award's transaction (profile and ledger entry).
	want := map[string]int{"DynamoDB.GetItem": 1, "DynamoDB.TransactWriteItems": 1}
	if calls := h.calls.Snapshot(); !reflect.DeepEqual(calls, want) || !reflect.DeepEqual(h.tx.get(), []int{2}) {
		t.Errorf("a record made %v (transactions of %v items), want %v", calls, h.tx.get(), want)
	}
	// Delivered twice more (the stream re-sends; a batch retried whole), and in one batch with itself.
	h.handleOK(hire)
	h.handleOK(hire, hire)
	p, l := h.balanced("wang")
	if es := buildersEntries(l); p.Balance != 20 || p.Merit != 0 || len(es) != 1 || es[0].Delta != 20 || es[0].ID != "award-BLDREC#hire_completed#job1#wang#wang#builders" {
		t.Fatalf("after a hire delivered 4 times: %+v, entries %+v", p, es)
	}

	// A consultation: 5 points; the hire of another job: 20 more; the fourth award reaches the daily cap.
	h.handleOK(h.putBuildersRecord("consultation", "desk1#slot1#wang", "wang", "medical", at.Add(time.Minute)))
	h.handleOK(h.putBuildersRecord("hire_completed", "job2#wang", "wang", "", at.Add(2*time.Minute)))
	h.handleOK(h.putBuildersRecord("hire_completed", "job3#wang", "wang", "", at.Add(3*time.Minute)))
	p, l = h.balanced("wang")
	if es := buildersEntries(l); p.Balance != 50 || len(es) != 4 || es[0].Delta != 5 || es[0].Note != "5 points for a completed hire (builders' home) (capped from 20)" {
		t.Errorf("after four records the worker has %+v, entries %+v", p, es)
	}
}

// A builders_record without a worker fails as a batch item, writing nothing.
func TestMalformedBuildersRecordFails(t *testing.T) {
	rules := points.DefaultRules()
	rules.Builders = &points.BuildersRules{Enabled: true, HireCompleted: 20}
	h := newHarness(t, &rules)
	bad := h.putBuildersRecord("hire_completed", "job1#", "", "", local(2026, 11, 28, 19, 0))
	h.resetCounts()
	resp := h.handle(bad)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != bad.Change.SequenceNumber {
		t.Errorf("response %+v", resp)
	}
	if calls := h.calls.Snapshot(); calls["DynamoDB.TransactWriteItems"] != 0 || calls["DynamoDB.PutItem"] != 0 || calls["DynamoDB.UpdateItem"] != 0 {
		t.Errorf("a malformed record made %v", calls)
	}
}

// The template's FilterCriteria deliver the INSERTs of builders' records of a completed hire or a
// consultation to accrual, and no other kind, and no MODIFY.
func TestTheStreamFilterPassesBuildersRecords(t *testing.T) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Functions["AccrualFunction"]
	if !ok || len(fn.StreamEvents) != 1 {
		t.Fatalf("AccrualFunction with one stream event: %+v", fn)
	}
	filters, err := eventfilter.CompileAll(fn.StreamEvents[0].FilterPatterns)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil)
	at := local(2026, 11, 28, 19, 0)
	hire := h.putBuildersRecord("hire_completed", "job1#li", "li", "", at)
	modify := hire
	modify.EventName, modify.Change.OldImage = "MODIFY", hire.Change.NewImage
	for _, tc := range []struct {
		name string
		rec  events.DynamoDBEventRecord
		want bool
	}{
		{"a completed hire's INSERT", hire, true},
		{"a consultation's INSERT", h.putBuildersRecord("consultation", "d1#s1#li", "li", "legal", at), true},
		{"a completed hire's MODIFY", modify, false},
		{"a hire's INSERT", h.putBuildersRecord("hire", "job1#li", "li", "", at), false},
		{"a search's INSERT", h.putBuildersRecord("search", "2026-11-28#li#q", "li", "", at), false},
	} {
		doc, err := json.Marshal(tc.rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := eventfilter.MatchAny(filters, doc); got != tc.want {
			t.Errorf("%s: delivered %v, want %v", tc.name, got, tc.want)
		}
	}
}
