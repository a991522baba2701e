package accrualfn_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Points per category are the seed's (infra/seed/categories.json): manhole_cover 10, damaged_road 8,
// rubbish 5, noise 3, other 2.

func rulesWith(f func(*points.Rules)) *points.Rules {
	r := points.DefaultRules()
	f(&r)
	return &r
}

// TestReplayedBatchIsANoOp: a stream batch (awards, a confirmation award, a revocation) delivered three
// times leaves the whole table exactly as the first delivery left it.
func TestReplayedBatchIsANoOp(t *testing.T) {
	h := newHarness(t, rulesWith(func(r *points.Rules) { r.DuplicateAward = 2 }))
	t0 := local(2026, 5, 14, 9, 0)
	r1, res1 := h.resolved("alice", "manhole_cover", t0)
	r2, res2 := h.resolved("alice", "rubbish", t0.Add(time.Hour))
	_, res3 := h.resolved("bob", "damaged_road", t0.Add(2*time.Hour))
	h.markDuplicate(h.submit("carol", "manhole_cover", t0.Add(-time.Hour)), r1.ID)
	_, rev2 := h.revoke(r2, t0.Add(3*time.Hour))
	batch := []events.DynamoDBEventRecord{res1, res2, res3, rev2}

	h.handleOK(batch...)
	first := h.snapshot()
	for range 2 {
		h.handleOK(batch...)
	}
	if third := h.snapshot(); !reflect.DeepEqual(first, third) {
		t.Errorf("the table changed on replay:\nafter 1st %v\nafter 3rd %v", first, third)
	}

	alice, al := h.balanced("alice")
	if alice.Balance != 10 || alice.Merit != 1 || alice.ValidReports != 1 || alice.LifetimeEarned != 10 || len(al) != 3 ||
		count(al, points.KindAward) != 2 || count(al, points.KindReversal) != 1 {
		t.Errorf("alice = %+v ledger %+v, want balance 10, merit 1, two awards and one reversal", alice, al)
	}
	bob, bl := h.balanced("bob")
	if bob.Balance != 8 || bob.Merit != 1 || len(bl) != 1 {
		t.Errorf("bob = %+v ledger %+v, want 8 once", bob, bl)
	}
	carol, cl := h.balanced("carol")
	if carol.Balance != 2 || carol.Merit != 0 || carol.ValidReports != 0 || len(cl) != 1 || cl[0].Kind != points.KindConfirm {
		t.Errorf("carol = %+v ledger %+v, want one confirmation award of 2", carol, cl)
	}
}

// TestOutOfOrder: records that arrive out of order (a retried batch, another shard) still end right.
func TestOutOfOrder(t *testing.T) {
	t.Run("revoked before resolved pays nothing", func(t *testing.T) {
		h := newHarness(t, rulesWith(func(r *points.Rules) { r.DuplicateAward = 2 }))
		at := local(2026, 5, 14, 10, 0)
		r := h.dispatch(h.submit("alice", "manhole_cover", at.Add(-3*time.Hour)))
		h.markDuplicate(h.submit("dave", "manhole_cover", at.Add(-2*time.Hour)), r.ID)
		r, res := h.transition(r, report.Resolved, at, "")
		_, rev := h.revoke(r, at.Add(time.Hour))

		h.handleOK(rev)
		h.handleOK(res)
		paidNothing := func(when string) {
			t.Helper()
			for _, sub := range []string{"alice", "dave"} {
				if p, l := h.balanced(sub); p.Balance != 0 || p.Debt != 0 || p.LifetimeEarned != 0 || p.Merit != 0 || len(l) != 0 {
					t.Errorf("%s: %s was paid for a revoked report: %+v ledger %+v", when, sub, p, l)
				}
			}
		}
		paidNothing("revoked, then resolved")
		h.handleOK(res, rev)
		paidNothing("and replayed in order")
		as := h.awards(r)
		if len(as) != 1 || !as[0].Reversed || as[0].Granted != 0 || as[0].Sub != "alice" {
			t.Errorf("awards = %+v, want alice's reversed placeholder only", as)
		}
	})

	t.Run("two reports in reverse order", func(t *testing.T) {
		h := newHarness(t, nil)
		at := local(2026, 5, 14, 10, 0)
		r1, res1 := h.resolved("alice", "manhole_cover", at)
		_, res2 := h.resolved("alice", "damaged_road", at.Add(time.Hour))
		_, rev1 := h.revoke(r1, at.Add(2*time.Hour))
		h.handleOK(res2, rev1, res1) // r1's revocation even before its resolution
		h.handleOK(res1, res2, rev1)
		p, l := h.balanced("alice")
		if p.Balance != 8 || p.Merit != 1 || p.ValidReports != 1 || len(l) != 1 || l[0].Delta != 8 {
			t.Errorf("alice = %+v ledger %+v, want only r2's 8", p, l)
		}

		_, res3 := h.resolved("bob", "manhole_cover", at)
		_, res4 := h.resolved("bob", "rubbish", at.Add(time.Hour))
		h.handleOK(res4, res3)
		if p, l := h.balanced("bob"); p.Balance != 15 || p.Merit != 2 || len(l) != 2 {
			t.Errorf("bob = %+v ledger %+v, want 10 + 5", p, l)
		}
	})
}

// TestConcurrentAwardsToOneUser: ten resolutions of one citizen's reports processed at once (ten shards,
// ten containers) all land: version-checked writes retry, none is lost or doubled.
func TestConcurrentAwardsToOneUser(t *testing.T) {
	cats := []string{"manhole_cover", "damaged_road", "rubbish", "noise", "other", "manhole_cover", "damaged_road", "rubbish", "noise", "other"}
	tests := []struct {
		name  string
		rules *points.Rules
		cats  []string
		want  int64
	}{
		{"uncapped", rulesWith(func(r *points.Rules) { r.DailyCap, r.MonthlyCap = 1000, 10000 }), cats, 2 * (10 + 8 + 5 + 3 + 2)},
		{"at the daily cap", nil, slices.Repeat([]string{"manhole_cover"}, 10), 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.rules)
			at := local(2026, 5, 14, 10, 0)
			recs := make([]events.DynamoDBEventRecord, len(tt.cats))
			for i, c := range tt.cats {
				_, recs[i] = h.resolved("alice", c, at.Add(time.Duration(i)*time.Minute))
			}
			h.resetCounts()
			start := time.Now()
			var wg sync.WaitGroup
			resps := make([]events.DynamoDBEventResponse, len(recs))
			errs := make([]error, len(recs))
			for i, rec := range recs {
				wg.Go(func() {
					resps[i], errs[i] = h.fn.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
				})
			}
			wg.Wait()
			t.Logf("10 concurrent awards in %v: %v (conflicts retried)", time.Since(start).Round(time.Millisecond), h.calls.Snapshot())
			for i := range recs {
				if errs[i] != nil || len(resps[i].BatchItemFailures) > 0 {
					t.Errorf("record %d: %v %+v", i, errs[i], resps[i].BatchItemFailures)
				}
			}
			p, l := h.balanced("alice")
			if p.Balance != tt.want || p.LifetimeEarned != tt.want || p.DayEarned != tt.want || len(l) != 10 || p.Merit != 10 || p.ValidReports != 10 || p.Version != 10 {
				t.Errorf("alice = %+v with %d ledger entries, want balance %d from 10 entries, merit 10, version 10", p, len(l), tt.want)
			}
			if len(p.Honors) != 1 || p.Honors[0].Title != "文明市民" {
				t.Errorf("honors = %+v, want 文明市民 once (10 valid reports)", p.Honors)
			}
		})
	}
}

// TestCapsAtBoundaries: the daily cap counts local (Asia/Shanghai) days and the monthly cap local months,
// both against the stored profile.
func TestCapsAtBoundaries(t *testing.T) {
	type award struct {
		cat  string
		at   time.Time
		want int64 // granted
	}
	tests := []struct {
		name      string
		rules     *points.Rules
		awards    []award
		wantDay   string
		wantMonth string
	}{
		{"daily cap reached, reset at local midnight", nil, []award{
			{"manhole_cover", local(2026, 5, 14, 9, 0), 10},
			{"manhole_cover", local(2026, 5, 14, 11, 0), 10},
			{"manhole_cover", local(2026, 5, 14, 13, 0), 10},
			{"damaged_road", local(2026, 5, 14, 15, 0), 8},
			{"manhole_cover", local(2026, 5, 14, 17, 0), 10},
			{"manhole_cover", local(2026, 5, 14, 23, 58), 2}, // 48 → 50
			{"manhole_cover", local(2026, 5, 14, 23, 59), 0},
			{"manhole_cover", local(2026, 5, 15, 0, 0), 10}, // 16:00 UTC: still the 14th in UTC
		}, "2026-05-15", "2026-05"},
		{"monthly cap at month end", rulesWith(func(r *points.Rules) {
			r.CategoryPoints, r.MonthlyCap = map[string]int64{"manhole_cover": 30}, 70
		}), []award{
			{"manhole_cover", local(2026, 3, 30, 10, 0), 30},
			{"manhole_cover", local(2026, 3, 31, 10, 0), 30},
			{"manhole_cover", local(2026, 3, 31, 23, 59), 10}, // the month's 70, though the day has 20 left
			{"manhole_cover", local(2026, 4, 1, 0, 0), 30},    // 31 March 16:00 UTC: a new local month
		}, "2026-04-01", "2026-04"},
		{"a late record from before midnight reopens neither day", rulesWith(func(r *points.Rules) {
			r.CategoryPoints = map[string]int64{"manhole_cover": 25}
		}), []award{
			{"manhole_cover", local(2026, 5, 14, 22, 0), 25},
			{"manhole_cover", local(2026, 5, 14, 23, 0), 25},
			{"manhole_cover", local(2026, 5, 15, 0, 0), 25},
			{"manhole_cover", local(2026, 5, 15, 0, 10), 25},
			{"manhole_cover", local(2026, 5, 14, 23, 59), 0}, // from another shard, late: the 14th was full
			{"manhole_cover", local(2026, 5, 15, 0, 20), 0},  // and the 15th still is
		}, "2026-05-15", "2026-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.rules)
			var total int64
			for i, a := range tt.awards {
				r, rec := h.resolved("alice", a.cat, a.at)
				h.handleOK(rec)
				if got := deltas(h.ledger("alice"), points.KindAward)[r.ID]; got != a.want {
					t.Errorf("award %d (%s at %s): granted %d, want %d", i, a.cat, a.at.Format(time.DateTime), got, a.want)
				}
				total += a.want
			}
			p, l := h.balanced("alice")
			if p.Balance != total || len(l) != len(tt.awards) || p.Day != tt.wantDay || p.Month != tt.wantMonth {
				t.Errorf("alice = %+v (%d entries), want balance %d, day %s, month %s", p, len(l), total, tt.wantDay, tt.wantMonth)
			}
			if p.DayEarned > 50 || p.MonthEarned > 500 {
				t.Errorf("counters over the caps: %+v", p)
			}
		})
	}
}

// TestDuplicateConfirmationAward: with a confirmation award in the rules, each reporter of a duplicate
// linked to the original gets it once; without one, accrual does not even look for duplicates.
func TestDuplicateConfirmationAward(t *testing.T) {
	for _, award := range []int64{2, 0} {
		t.Run(fmt.Sprintf("duplicateAward=%d", award), func(t *testing.T) {
			h := newHarness(t, rulesWith(func(r *points.Rules) { r.DuplicateAward = award }))
			at := local(2026, 5, 14, 10, 0)
			orig := h.dispatch(h.submit("alice", "manhole_cover", at.Add(-3*time.Hour)))
			h.markDuplicate(h.submit("bob", "manhole_cover", at.Add(-2*time.Hour)), orig.ID)
			h.markDuplicate(h.submit("carol", "manhole_cover", at.Add(-time.Hour)), orig.ID)
			_, res := h.transition(orig, report.Resolved, at, "")
			_, warm := h.resolved("zed", "other", at) // loads the rules and categories into the caches
			h.handleOK(warm)

			h.resetCounts()
			h.handleOK(res)
			calls := h.calls.Snapshot()
			t.Logf("original resolved, confirmation award %d: %v, transactions of %v items", award, calls, h.tx.get())
			h.handleOK(res, res) // replays

			if p, l := h.balanced("alice"); p.Balance != 10 || len(l) != 1 {
				t.Errorf("alice = %+v ledger %+v", p, l)
			}
			for _, sub := range []string{"bob", "carol"} {
				p, l := h.balanced(sub)
				if award == 0 {
					if p.Version != 0 || len(l) != 0 {
						t.Errorf("%s got something without a confirmation award: %+v %+v", sub, p, l)
					}
					continue
				}
				if p.Balance != award || p.Merit != 0 || p.ValidReports != 0 || len(l) != 1 || l[0].Kind != points.KindConfirm || l[0].ReportID != orig.ID {
					t.Errorf("%s = %+v ledger %+v, want %d once as a duplicate_award for %s", sub, p, l, award, orig.ID)
				}
			}
			// One Query of the reporter's notification settings per notice posted (notices.go): alice's
			// resolution, and bob's and carol's confirmation awards.
			wantQueries, wantNotices := 1, map[string]notify.Kind{"alice": notify.ReportResolved}
			if award > 0 {
				wantQueries = 3 + 1 // + gsi4 DUPOF#<original>, the awards' (the notices are built from what they wrote)
				wantNotices["bob"], wantNotices["carol"] = notify.PointsAwarded, notify.PointsAwarded
			}
			if calls["DynamoDB.Query"] != wantQueries {
				t.Errorf("queries = %d, want %d (%v)", calls["DynamoDB.Query"], wantQueries, calls)
			}
			for _, sub := range []string{"alice", "bob", "carol"} {
				got := h.notices(sub)
				if want, ok := wantNotices[sub]; !ok && len(got) != 0 || ok && (len(got) != 1 || got[0].Kind != want) {
					t.Errorf("%s's inbox: %+v, want %q once", sub, got, want)
				}
			}
		})
	}
}

// TestRevocationExactlyOnceWithDebt: a revocation after the points were partly spent takes the rest of
// the balance and records the shortfall as debt, once however often it is delivered; later awards pay
// the debt first.
func TestRevocationExactlyOnceWithDebt(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	at := local(2026, 5, 14, 10, 0)
	r1, res1 := h.resolved("alice", "manhole_cover", at)
	h.handleOK(res1)

	// Spend 8 in the honor supermarket: a version-checked profile write with its ledger entry.
	p := h.profile("alice")
	spent := p
	spent.Balance, spent.LifetimeRedeemed, spent.Version = p.Balance-8, p.LifetimeRedeemed+8, p.Version+1
	red := points.Entry{ID: "redemption-rd1", At: at.Add(30 * time.Minute).UTC(), Delta: -8, Kind: points.KindRedemption, RedemptionID: "rd1"}
	if err := h.store.Repair(ctx, spent, p.Version, red); err != nil {
		t.Fatal(err)
	}

	_, rev := h.revoke(r1, at.Add(time.Hour))
	h.handleOK(rev)
	h.handleOK(rev, rev)
	p, l := h.balanced("alice")
	if p.Balance != 0 || p.Debt != 8 || p.LifetimeEarned != 0 || p.LifetimeRedeemed != 8 || p.Merit != 0 || p.ValidReports != 0 {
		t.Errorf("after revocation: %+v, want balance 0, debt 8", p)
	}
	if n := count(l, points.KindReversal); n != 1 || deltas(l, points.KindReversal)[r1.ID] != -2 {
		t.Errorf("reversal entries: %d, %+v; want exactly one of -2", n, l)
	}

	steps := []struct {
		balance, debt, delta int64
	}{{0, 3, 0}, {2, 0, 2}}
	for i, s := range steps {
		r, rec := h.resolved("alice", "rubbish", at.Add(time.Duration(2+i)*time.Hour))
		h.handleOK(rec)
		h.handleOK(rec)
		p, l := h.balanced("alice")
		if p.Balance != s.balance || p.Debt != s.debt || deltas(l, points.KindAward)[r.ID] != s.delta {
			t.Errorf("award %d of 5: %+v, entry %d; want balance %d, debt %d, entry %d", i+1, p, deltas(l, points.KindAward)[r.ID], s.balance, s.debt, s.delta)
		}
	}
}

// TestPoisonRecordIsolated: a record the function cannot process is reported by its SequenceNumber; the
// records before it are done and not redone, the ones after it come again with it.
func TestPoisonRecordIsolated(t *testing.T) {
	h := newHarness(t, nil)
	at := local(2026, 5, 14, 10, 0)
	r1, good1 := h.resolved("alice", "manhole_cover", at)
	_, good2 := h.resolved("bob", "rubbish", at)
	// The lead's assignment item of r1 changing to resolved: not a report.
	r0 := h.dispatch(h.submit("carol", "noise", at.Add(-time.Hour)))
	old := h.item("REPORT#"+r0.ID, "ASSIGN#municipal")
	h.transition(r0, report.Resolved, at, "")
	poison := h.record(old, h.item("REPORT#"+r0.ID, "ASSIGN#municipal"))
	if poison.Change.NewImage["type"].String() != "assignment" {
		t.Fatalf("poison image is a %s", poison.Change.NewImage["type"].String())
	}

	resp := h.handle(good1, poison, good2)
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: poison.Change.SequenceNumber}}
	if !reflect.DeepEqual(resp.BatchItemFailures, want) {
		t.Fatalf("failures = %+v, want only the poison's %s", resp.BatchItemFailures, poison.Change.SequenceNumber)
	}
	if p := h.profile("alice"); p.Balance != 10 || len(h.awards(r1)) != 1 {
		t.Errorf("the record before the poison was not processed: %+v", p)
	}
	if p := h.profile("bob"); p.Version != 0 {
		t.Errorf("a record after the failed one was processed in the same invocation: %+v", p)
	}

	// Lambda retries from the failed record and bisects; alone, the poison keeps failing (and goes to the
	// on-failure queue once retries run out), the good record after it goes through.
	if resp := h.handle(poison); len(resp.BatchItemFailures) != 1 {
		t.Errorf("poison alone: %+v", resp.BatchItemFailures)
	}
	h.handleOK(good2)
	h.handleOK(good1)
	if p, _ := h.balanced("alice"); p.Balance != 10 {
		t.Errorf("alice = %+v", p)
	}
	if p, _ := h.balanced("bob"); p.Balance != 5 {
		t.Errorf("bob = %+v", p)
	}
	if p := h.profile("carol"); p.Version != 0 {
		t.Errorf("the assignment record awarded something: %+v", p)
	}
}

// TestAwardCalls counts the DynamoDB calls of one award: with the rules and categories cached, one
// GetItem (the profile) and one TransactWriteItems of two items (profile, and the ledger entry whose key
// is the award's identity); then the reporter's notice (notices.go): the award read back (BatchGetItem),
// the profile's honors (GetItem), the notice's conditional PutItem and the notification settings' Query.
func TestAwardCalls(t *testing.T) {
	h := newHarness(t, nil)
	at := local(2026, 5, 14, 10, 0)
	_, first := h.resolved("alice", "manhole_cover", at)
	_, plain := h.resolved("alice", "rubbish", at.Add(time.Hour))
	_, newUser := h.resolved("bob", "rubbish", at.Add(time.Hour))
	h.resetCounts()
	h.handleOK(first)
	t.Logf("cold container, first award: %v", h.calls.Snapshot())

	check := func(what string, rec events.DynamoDBEventRecord, want map[string]int, wantTx []int) {
		t.Helper()
		h.resetCounts()
		h.handleOK(rec)
		got, tx := h.calls.Snapshot(), h.tx.get()
		t.Logf("%s: %v, transactions of %v items", what, got, tx)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(tx, wantTx) {
			t.Errorf("%s: calls %v transactions %v, want %v and %v", what, got, tx, want, wantTx)
		}
	}
	// The first delivery: the profile's GetItem, the award's transaction, the notice's settings Query and
	// PutItem; the notice is built from what the award wrote (no reads of it).
	one := map[string]int{"DynamoDB.GetItem": 1, "DynamoDB.TransactWriteItems": 1, "DynamoDB.PutItem": 1, "DynamoDB.Query": 1}
	check("award", plain, one, []int{2})
	check("award to a citizen without a profile", newUser, one, []int{2})
	// A redelivery: the transaction is cancelled by the award's identity, so the notice reads the award
	// (BatchGetItem) and the profile's honors (GetItem) and posts the same notice, which the inbox keeps once.
	check("redelivered award", plain, map[string]int{"DynamoDB.GetItem": 2, "DynamoDB.TransactWriteItems": 1,
		"DynamoDB.BatchGetItem": 1, "DynamoDB.PutItem": 1, "DynamoDB.Query": 1}, []int{2})

	// A revocation: one Query (the report's duplicates), one BatchGetItem (the awards at their keys), then
	// per award the profile and one transaction (the award's mark, profile, reversal entry).
	r3, res3 := h.resolved("alice", "noise", at.Add(2*time.Hour))
	h.handleOK(res3)
	_, rev := h.revoke(r3, at.Add(3*time.Hour))
	check("revocation", rev, map[string]int{"DynamoDB.Query": 1, "DynamoDB.BatchGetItem": 1, "DynamoDB.GetItem": 1, "DynamoDB.TransactWriteItems": 1}, []int{3})
	check("redelivered revocation", rev, map[string]int{"DynamoDB.Query": 1, "DynamoDB.BatchGetItem": 1}, nil)
}
