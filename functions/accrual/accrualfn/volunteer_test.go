package accrualfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/functions/accrual/accrualfn"
	"github.com/civicsnap/civicsnap/infra/eventfilter"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Volunteer service records (issue 15) against moto: each record's points exactly once per (activity,
// volunteer, revision), whatever the order and number of deliveries; its export enqueued once.

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue  { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

func ms(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// putRecord writes a service record in the contract's shape (as the volunteer function's confirmation
// transaction does) and returns its INSERT stream record.
func (h *harness) putRecord(r volunteer.Record) events.DynamoDBEventRecord {
	h.t.Helper()
	item := map[string]types.AttributeValue{
		"pk": s("ACT#" + r.ActivityID), "sk": s(fmt.Sprintf("REC#%s#%04d", r.Sub, r.Revision)), "type": s("service_record"),
		"activityId": s(r.ActivityID), "sub": s(r.Sub), "revision": n(r.Revision), "kind": s(r.Kind), "minutes": n(r.Minutes),
		"delta": n(r.Delta), "by": s(r.By), "at": s(ms(r.At)), "teamId": s(r.TeamID), "atype": s(r.Type), "title": s(r.Title),
		"start": s(ms(r.Start)), "end": s(ms(r.End)),
		"gsi1pk": s("VOLREC#" + r.At.In(shanghai).Format(time.DateOnly)), "gsi1sk": s(fmt.Sprintf("%s#%s#%s#%04d", ms(r.At), r.ActivityID, r.Sub, r.Revision)),
	}
	if !r.PrevAt.IsZero() {
		item["prevAt"] = s(ms(r.PrevAt))
	}
	if _, err := h.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &h.table, Item: item}); err != nil {
		h.t.Fatal(err)
	}
	return h.e.Record(h.item("ACT#"+r.ActivityID, fmt.Sprintf("REC#%s#%04d", r.Sub, r.Revision)))
}

// putVolunteer writes sub's volunteer profile with a display name.
func (h *harness) putVolunteer(sub, name string) {
	h.t.Helper()
	_, err := h.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &h.table, Item: map[string]types.AttributeValue{
		"pk": s("VOL#" + sub), "sk": s("PROFILE"), "type": s("volunteer"), "sub": s(sub), "name": s(name), "createdAt": s(ms(time.Now())),
	}})
	if err != nil {
		h.t.Fatal(err)
	}
}

var window = [2]time.Time{local(2026, 11, 28, 8, 0), local(2026, 11, 28, 18, 0)}

// confirmed is revision rev of sub's attendance of act, confirmed with minutes at at.
func confirmed(act, sub string, rev, minutes, delta int64, at, prevAt time.Time) volunteer.Record {
	return volunteer.Record{ActivityID: act, Sub: sub, Revision: rev, Kind: volunteer.RecordConfirmed, Minutes: minutes, Delta: delta,
		PrevAt: prevAt, By: "org1", At: at, TeamID: "team1", Type: "cleanup", Title: "全民清扫日", Start: window[0], End: window[1]}
}

// exported drains the outbox and returns the export notifications in it, failing on anything else.
func (h *harness) exported() []dispatch.Notification {
	h.t.Helper()
	ns := h.e.Drain(h.e.OutboxURL)
	for _, x := range ns {
		if x.Dept != points.VolunteerRegistry || x.Type != accrualfn.ExportType {
			h.t.Errorf("unexpected notification %+v", x)
		}
	}
	return ns
}

func volunteerEntries(es []points.Entry) []points.Entry {
	var out []points.Entry
	for _, e := range es {
		if e.Kind == points.KindVolunteerAward || e.Kind == points.KindVolunteerReversal {
			out = append(out, e)
		}
	}
	return out
}

func TestServiceRecordAwardsOnceAndExportsOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.putVolunteer("vera", "李薇")
	at := local(2026, 11, 28, 19, 0)
	rec := h.putRecord(confirmed("act1", "vera", 1, 165, 165, at, time.Time{}))
	h.handleOK(h.putRecord(confirmed("act0", "warm", 1, 60, 60, at, time.Time{}))) // the container's first record reads the rules
	h.e.Drain(h.e.OutboxURL)

	h.resetCounts()
	h.handleOK(rec)
	// The awards' read, the volunteer's name, the export, the profile, the award's transaction (2 items).
	want := map[string]int{"DynamoDB.BatchGetItem": 1, "DynamoDB.GetItem": 2, "SQS.SendMessageBatch": 1, "DynamoDB.TransactWriteItems": 1}
	if calls := h.calls.Snapshot(); !reflect.DeepEqual(calls, want) || !reflect.DeepEqual(h.tx.get(), []int{2}) {
		t.Errorf("a record made %v (transactions of %v items), want %v", calls, h.tx.get(), want)
	}
	ns := h.exported()
	if len(ns) != 1 || ns[0].ID != "msg_vol_act1_vera_0001" {
		t.Fatalf("exported %+v, want one msg_vol_act1_vera_0001", ns)
	}
	var body struct {
		Type string `json:"type"`
		Data struct {
			RecordID  string `json:"recordId"`
			Volunteer struct{ Sub, Name string }
			Activity  struct {
				ID, Title, Type, TeamID string
				Start, End              time.Time
			}
			Kind        string
			Revision    int64
			Minutes     int64
			Hours       float64
			ConfirmedBy string
			At          time.Time
		} `json:"data"`
	}
	if err := json.Unmarshal(ns[0].Payload, &body); err != nil {
		t.Fatal(err)
	}
	d := body.Data
	if body.Type != "volunteer.service_record" || d.RecordID != "act1#vera#0001" || d.Volunteer.Sub != "vera" || d.Volunteer.Name != "李薇" ||
		d.Activity.ID != "act1" || d.Activity.Title != "全民清扫日" || d.Activity.Type != "cleanup" || d.Activity.TeamID != "team1" ||
		!d.Activity.Start.Equal(window[0]) || !d.Activity.End.Equal(window[1]) || d.Kind != "confirmed" || d.Revision != 1 ||
		d.Minutes != 165 || d.Hours != 2.75 || d.ConfirmedBy != "org1" || !d.At.Equal(at) {
		t.Errorf("payload %s", ns[0].Payload)
	}
	p, l := h.balanced("vera")
	// 165 minutes: 5 × 165 / 60 = 13.75 → 13 points; 2 whole hours → 2 merit.
	if p.Balance != 13 || p.VolunteerMinutes != 165 || p.Merit != 2 || p.ValidReports != 0 {
		t.Errorf("profile %+v", p)
	}
	if vs := volunteerEntries(l); len(vs) != 1 || vs[0].Kind != points.KindVolunteerAward || vs[0].ActivityID != "act1" || vs[0].Delta != 13 || !vs[0].At.Equal(at) {
		t.Errorf("ledger %+v", l)
	}
	// The award's entry is on the KPI's index as points issued of the record's day.
	entry := h.item("USER#vera", "LEDGER#"+ms(at)+"#award-act1#vera#volunteer#1")
	if g, k := entry["gsi3pk"], entry["kind"]; g == nil || g.(*types.AttributeValueMemberS).Value != "POINTS#2026-11-28" || k.(*types.AttributeValueMemberS).Value != "volunteer_award" {
		t.Errorf("ledger item %v", entry)
	}

	// Delivered again (a retry of the batch): nothing written, nothing exported, one read.
	before := h.snapshot()
	h.resetCounts()
	h.handleOK(rec)
	if ns := h.exported(); len(ns) != 0 {
		t.Errorf("a redelivery exported %+v", ns)
	}
	if after := h.snapshot(); !reflect.DeepEqual(before, after) {
		t.Error("a redelivered record changed the table")
	}
	if calls := h.calls.Snapshot(); calls["DynamoDB.BatchGetItem"] != 1 || len(calls) != 1 {
		t.Errorf("a redelivery made %v, want one BatchGetItem", calls)
	}
}

// Two revisions of one attendance (a confirmation, then a correction after a dispute) in every order
// and with repeats: the volunteer ends with revision 2's points and minutes only, and each record is
// exported once.
func TestRevisionsInAnyOrderEndWithTheLast(t *testing.T) {
	at1, at2 := local(2026, 11, 28, 19, 0), local(2026, 11, 29, 10, 0)
	tests := []struct {
		name  string
		order []int // 1: revision 1's record, 2: revision 2's
	}{
		{"in order", []int{1, 2}},
		{"out of order", []int{2, 1}},
		{"out of order, both again", []int{2, 1, 2, 1}},
		{"in order, the first again", []int{1, 2, 1}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			act := fmt.Sprintf("act-order-%d", i)
			recs := map[int]events.DynamoDBEventRecord{
				1: h.putRecord(confirmed(act, "wen", 1, 600, 600, at1, time.Time{})),
				2: h.putRecord(confirmed(act, "wen", 2, 480, -120, at2, at1)),
			}
			h.e.Drain(h.e.OutboxURL)
			exports := map[string]int{}
			for j, r := range tt.order {
				h.resetCounts()
				h.handleOK(recs[r])
				if j == 1 && r == 2 { // revision 2 after revision 1: the reversal's transaction (3 items) and the award's (2)
					want := map[string]int{"DynamoDB.BatchGetItem": 1, "DynamoDB.GetItem": 3, "SQS.SendMessageBatch": 1, "DynamoDB.TransactWriteItems": 2}
					if calls := h.calls.Snapshot(); !reflect.DeepEqual(calls, want) || !reflect.DeepEqual(h.tx.get(), []int{3, 2}) {
						t.Errorf("revision 2 made %v (transactions of %v items), want %v", calls, h.tx.get(), want)
					}
				}
				for _, x := range h.exported() {
					exports[x.ID]++
				}
			}
			want := map[string]int{"msg_vol_" + act + "_wen_0001": 1, "msg_vol_" + act + "_wen_0002": 1}
			if !reflect.DeepEqual(exports, want) {
				t.Errorf("exports %v, want %v", exports, want)
			}
			p, l := h.balanced("wen")
			// Revision 2: 8 h → 40 points, 8 merit; revision 1's 50 points (10 h, the daily cap) gone.
			if p.Balance != 40 || p.VolunteerMinutes != 480 || p.Merit != 8 || p.Debt != 0 || p.LifetimeEarned != 40 {
				t.Errorf("profile %+v", p)
			}
			var got []string
			for _, e := range volunteerEntries(l) {
				got = append(got, fmt.Sprintf("%s %d", e.Kind, e.Delta))
			}
			// Newest first; revision 1's reversal and revision 2's award are both timed at revision 2's record.
			wantLedger := []string{"volunteer_reversal -50", "volunteer_award 40", "volunteer_award 50"}
			if tt.order[0] == 2 {
				wantLedger = []string{"volunteer_award 40"} // revision 1's award never happened: its placeholder is not listed
			}
			if !reflect.DeepEqual(got, wantLedger) {
				t.Errorf("ledger %v, want %v", got, wantLedger)
			}
		})
	}
}

func TestRevokedRecordReversesAndExports(t *testing.T) {
	h := newHarness(t, nil)
	at1, at2 := local(2026, 11, 28, 19, 0), local(2026, 12, 2, 9, 0)
	first := h.putRecord(confirmed("act-rev", "yun", 1, 240, 240, at1, time.Time{}))
	revoked := volunteer.Record{ActivityID: "act-rev", Sub: "yun", Revision: 2, Kind: volunteer.RecordRevoked, Minutes: 0, Delta: -240,
		PrevAt: at1, By: "org1", At: at2, TeamID: "team1", Type: "cleanup", Title: "全民清扫日", Start: window[0], End: window[1]}
	rec := h.putRecord(revoked)
	h.e.Drain(h.e.OutboxURL)
	h.handleOK(first)
	if ns := h.exported(); len(ns) != 1 {
		t.Fatalf("exported %+v", ns)
	}
	for i := range 2 { // the revocation, then again
		h.handleOK(rec)
		ns := h.exported()
		if i == 0 && (len(ns) != 1 || ns[0].ID != "msg_vol_act-rev_yun_0002") || i == 1 && len(ns) != 0 {
			t.Fatalf("delivery %d exported %+v", i+1, ns)
		}
	}
	p, l := h.balanced("yun")
	if p.Balance != 0 || p.VolunteerMinutes != 0 || p.Merit != 0 || p.Debt != 0 || p.LifetimeEarned != 0 {
		t.Errorf("profile %+v", p)
	}
	vs := volunteerEntries(l)
	if len(vs) != 2 || vs[0].Kind != points.KindVolunteerReversal || vs[0].Delta != -20 || !vs[0].At.Equal(at2) || vs[0].ActivityID != "act-rev" {
		t.Errorf("ledger %+v", vs)
	}
}

// A revocation delivered before the confirmation it revokes: the confirmation's award identity is taken
// by a placeholder, so nothing is ever granted; both records are exported.
func TestRevocationBeforeItsConfirmation(t *testing.T) {
	h := newHarness(t, nil)
	at1, at2 := local(2026, 11, 28, 19, 0), local(2026, 11, 28, 21, 0)
	first := h.putRecord(confirmed("act-early", "zhi", 1, 120, 120, at1, time.Time{}))
	rec := h.putRecord(volunteer.Record{ActivityID: "act-early", Sub: "zhi", Revision: 2, Kind: volunteer.RecordRevoked, Delta: -120,
		PrevAt: at1, By: "org1", At: at2, Start: window[0], End: window[1]})
	h.e.Drain(h.e.OutboxURL)
	h.handleOK(rec, first)
	if ns := h.exported(); len(ns) != 2 {
		t.Errorf("exported %+v, want both records", ns)
	}
	p, l := h.balanced("zhi")
	if p.Balance != 0 || p.VolunteerMinutes != 0 || p.Merit != 0 || len(volunteerEntries(l)) != 0 {
		t.Errorf("profile %+v, ledger %+v", p, l)
	}
}

// Stars: cumulative confirmed hours reaching 100 h earn 一星志愿者 once.
func TestStarAtOneHundredHours(t *testing.T) {
	h := newHarness(t, nil)
	day := local(2026, 11, 1, 19, 0)
	var recs []events.DynamoDBEventRecord
	for i := range 10 { // ten 10-hour activities on ten days
		recs = append(recs, h.putRecord(confirmed(fmt.Sprintf("act-star-%d", i), "xia", 1, 600, 600, day.AddDate(0, 0, i), time.Time{})))
	}
	h.handleOK(recs[:9]...)
	if p := h.profile("xia"); p.VolunteerMinutes != 90*60 || p.HasHonor("一星志愿者") {
		t.Fatalf("after 90 h: %+v", p)
	}
	h.handleOK(recs[9])
	p, _ := h.balanced("xia")
	if p.VolunteerMinutes != 100*60 || len(p.Honors) != 1 || p.Honors[0].Title != "一星志愿者" || !p.Honors[0].At.Equal(day.AddDate(0, 0, 9)) {
		t.Errorf("after 100 h: %+v", p)
	}
	if p.Balance != 500 || p.Merit != 100 { // 50 a day (the cap), 10 days; 1 merit an hour
		t.Errorf("balance %d merit %d", p.Balance, p.Merit)
	}
}

// A record the accrual cannot place (no prevAt after revision 1) fails as a batch item, writing nothing.
func TestMalformedServiceRecordFails(t *testing.T) {
	h := newHarness(t, nil)
	bad := h.putRecord(volunteer.Record{ActivityID: "act-bad", Sub: "qi", Revision: 2, Kind: volunteer.RecordConfirmed, Minutes: 60,
		At: local(2026, 11, 28, 19, 0), Start: window[0], End: window[1]})
	h.e.Drain(h.e.OutboxURL)
	resp := h.handle(bad)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != bad.Change.SequenceNumber {
		t.Errorf("response %+v", resp)
	}
	if p := h.profile("qi"); p.Version != 0 {
		t.Errorf("a malformed record wrote %+v", p)
	}
	if ns := h.exported(); len(ns) != 0 {
		t.Errorf("a malformed record exported %+v", ns)
	}
}

// The template's FilterCriteria (which the local stream pump applies as Lambda does) deliver a service
// record's INSERT to accrual, and not its other changes or other volunteer items.
func TestTheStreamFilterPassesServiceRecords(t *testing.T) {
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
	rec := h.putRecord(confirmed("act-filter", "fei", 1, 60, 60, local(2026, 11, 28, 19, 0), time.Time{}))
	attendance := h.e.Record(map[string]types.AttributeValue{"pk": s("ACT#act-filter"), "sk": s("ATT#fei"), "type": s("attendance"), "activityId": s("act-filter")})
	modify := rec
	modify.EventName, modify.Change.OldImage = "MODIFY", rec.Change.NewImage
	for _, tc := range []struct {
		name string
		rec  events.DynamoDBEventRecord
		want bool
	}{
		{"a service record's INSERT", rec, true},
		{"a service record's MODIFY", modify, false},
		{"an attendance's INSERT", attendance, false},
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
