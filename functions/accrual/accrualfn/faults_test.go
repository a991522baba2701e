package accrualfn_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Awards exactly once under faults (issue 10): the accrual function consumes a stream of resolutions
// (with duplicates' confirmation awards) and revocations while infra/faults fails two DynamoDB calls in
// ten — transaction conflicts, throttling, answers lost after the write was applied (the SDK re-sends)
// and calls that take until the invocation's deadline. The stream is delivered as Lambda does: in order,
// in batches; a batch item failure makes the batch be delivered again from that record; and now and then
// a batch that succeeded is delivered again anyway (at least once). The run is sequential, so the seed
// (logged; CIVICSNAP_FAULT_SEED) replays it.
//
// Then: every award and reversal was applied exactly once, balances are what the rules give, every
// ledger sums to its balance, no balance or debt is negative, and faults did happen.

const invocationTimeout = 800 * time.Millisecond

func newInjector(t *testing.T) *faults.Injector { return faults.ForTest(t, 2) }

func TestAwardsExactlyOnceUnderFaults(t *testing.T) {
	inj := newInjector(t)
	rules := points.DefaultRules()
	rules.DailyCap, rules.MonthlyCap, rules.DuplicateAward = 10_000, 100_000, 2
	rules.CategoryPoints = map[string]int64{"rubbish": 5, "street_light": 3}
	h := newHarnessWith(t, testenv.Options{WrapHTTP: inj.Wrap}, &rules)
	rng := rand.New(rand.NewPCG(inj.Seed(), 2))
	users := []string{"fa1", "fa2", "fa3", "fa4"}
	cats := []string{"rubbish", "street_light"}

	// The stream and what it should come to.
	var stream []events.DynamoDBEventRecord
	want := map[string]int64{}        // balance per user
	wantEntries := map[string]int64{} // ledger entry id -> delta, per user+id
	day := local(2026, 11, 3, 9, 0)
	for i := range 22 {
		sub, cat := users[rng.IntN(len(users))], cats[rng.IntN(len(cats))]
		at := day.Add(time.Duration(i) * 10 * time.Minute)
		r := h.submit(sub, cat, at.Add(-3*time.Hour))
		var dupers []string
		if rng.IntN(3) == 0 {
			d := users[rng.IntN(len(users))]
			h.markDuplicate(h.submit(d, cat, at.Add(-2*time.Hour)), r.ID)
			dupers = append(dupers, d)
		}
		r.LeadDept = lead.Dept
		r, rec := h.transition(r, report.Resolved, at, "")
		stream = append(stream, rec)
		revoked := rng.IntN(4) == 0
		if revoked {
			_, rev := h.revoke(r, at.Add(5*time.Minute))
			stream = append(stream, rev)
		}
		if !revoked {
			want[sub] += rules.CategoryPoints[cat]
			for _, d := range dupers {
				want[d] += rules.DuplicateAward
			}
		}
		wantEntries[sub+" award-"+r.ID+"#"+sub+"#"+points.RuleReport] = rules.CategoryPoints[cat]
		for _, d := range dupers {
			wantEntries[d+" award-"+r.ID+"#"+d+"#"+points.RuleConfirm] = rules.DuplicateAward
		}
		if revoked {
			wantEntries[sub+" reversal-"+r.ID+"#"+sub+"#"+points.RuleReport] = -rules.CategoryPoints[cat]
			for _, d := range dupers {
				wantEntries[d+" reversal-"+r.ID+"#"+d+"#"+points.RuleConfirm] = -rules.DuplicateAward
			}
		}
	}

	// Deliver as Lambda's event source mapping does.
	invocations, failures, redelivered := 0, 0, 0
	for pos := 0; pos < len(stream); {
		n := min(1+rng.IntN(4), len(stream)-pos)
		batch := stream[pos : pos+n]
		ctx, cancel := context.WithTimeout(context.Background(), invocationTimeout)
		resp, err := h.fn.Handle(ctx, events.DynamoDBEvent{Records: batch})
		cancel()
		invocations++
		if err != nil {
			t.Fatalf("handler error: %v", err)
		}
		if invocations > 20*len(stream) {
			t.Fatalf("the stream is stuck at record %d of %d", pos, len(stream))
		}
		if len(resp.BatchItemFailures) > 0 {
			failures++
			seqNo := resp.BatchItemFailures[0].ItemIdentifier
			for i, rec := range batch {
				if rec.Change.SequenceNumber == seqNo {
					pos += i
					break
				}
			}
			continue
		}
		if rng.IntN(4) == 0 {
			redelivered++
			continue // delivered again: at least once
		}
		pos += n
	}

	// Exactly once: each award and reversal is one ledger entry with its delta, nothing else.
	for _, sub := range users {
		p, ledger := h.balanced(sub)
		if p.Balance != want[sub] {
			t.Errorf("%s: balance %d, want %d", sub, p.Balance, want[sub])
		}
		seen := map[string]int{}
		for _, e := range ledger {
			seen[e.ID]++
			if d, ok := wantEntries[sub+" "+e.ID]; !ok || d != e.Delta {
				t.Errorf("%s: ledger entry %s of %d, want %v", sub, e.ID, e.Delta, d)
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: ledger entry %s written %d times", sub, id, n)
			}
		}
	}
	for key := range wantEntries {
		sub, id, _ := strings.Cut(key, " ")
		found := false
		for _, e := range h.ledger(sub) {
			found = found || e.ID == id
		}
		if !found {
			t.Errorf("%s: no ledger entry %s", sub, id)
		}
	}
	st := inj.Stats()
	if st.Calls < 100 || st.Faulted() < st.Calls/10 {
		t.Errorf("faults: %v; want ≥ 100 calls and ≥ 1 in 10 faulted", st)
	}
	t.Logf("%d records in %d invocations: %d batch item failures, %d batches delivered again", len(stream), invocations, failures, redelivered)
}
