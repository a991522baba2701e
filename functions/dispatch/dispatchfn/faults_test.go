package dispatchfn_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Dispatch exactly once under faults: a dispatch is not a transaction (the report's conditional write
// commits it, its assignments follow), so the function may stop anywhere after the commit. Reports are
// dispatched from stream batches while infra/faults fails two DynamoDB calls in ten — transaction
// conflicts, throttling, answers lost after the write was applied (the SDK re-sends) and calls that take
// until the invocation's deadline. Lambda delivers a batch again from its first failed record, and now and
// then the whole batch again after a success. Half the reports are duplicates (20 m from an earlier one).
//
// Then: every original is dispatched once — municipal leads, traffic_police assists, one dispatch entry in
// its timeline —, every duplicate is linked to its original with one entry, the notifications are exactly
// the assignments' (stable ids, sent at least once), and faults did happen.
func TestDispatchExactlyOnceUnderFaults(t *testing.T) {
	inj := faults.ForTest(t, 2)
	inj.SetEnabled(false) // setup: the seed and the reports
	e := moto.New(t, testenv.Options{WrapHTTP: inj.Wrap})
	fn, err := dispatchfn.New(e.Base("DispatchFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{Env: e, fn: fn}
	rng := rand.New(rand.NewPCG(inj.Seed(), 5))

	var originals, dups []report.Report
	var recs []events.DynamoDBEventRecord
	for i := range 8 {
		a, recA := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, 300*float64(i), 0)})
		d, recD := f.submit(report.Report{Category: "damaged_road", Location: offset(outskirts, 300*float64(i)+20, 0), CreatedAt: a.CreatedAt.Add(time.Second)})
		originals, dups = append(originals, a), append(dups, d)
		recs = append(recs, recA, recD)
	}
	inj.SetEnabled(true)

	sends := 0
	for start := 0; start < len(recs); {
		if sends++; sends > 200 {
			t.Fatalf("records from %d still failing after %d invocations", start, sends)
		}
		end := min(len(recs), start+1+rng.IntN(4)) // batches of 1-4 records
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := fn.Handle(ctx, testenv.Event(recs[start:end]...))
		cancel()
		if err != nil {
			t.Fatalf("handler error: %v", err)
		}
		failed := testenv.Failed(resp)
		if len(failed) == 0 {
			if rng.IntN(4) == 0 {
				continue // the batch again: the invocation timed out after its work was done
			}
			start = end
			continue
		}
		// Lambda retries from the first failed record (the handler stops there).
		i := slices.IndexFunc(recs, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == failed[0] })
		if i < start || i >= end {
			t.Fatalf("failure %s is not a record of the batch", failed[0])
		}
		start = i
	}
	inj.SetEnabled(false)

	var want []string
	for i, a := range originals {
		got := f.get(a.ID)
		if got.Status != report.Dispatched || got.LeadDept != "municipal" {
			t.Errorf("%s: %s lead %q, want dispatched to municipal", a.ID, got.Status, got.LeadDept)
		}
		var depts []string
		for _, as := range got.Assignments {
			depts = append(depts, as.Dept+"/"+string(as.Role)+"/"+string(as.Status))
		}
		slices.Sort(depts)
		if !slices.Equal(depts, []string{"municipal/lead/dispatched", "traffic_police/assist/dispatched"}) {
			t.Errorf("%s: assignments %v", a.ID, depts)
		}
		if n := countEntries(got, report.Dispatched); n != 1 || len(got.Timeline) != 2 {
			t.Errorf("%s: %d dispatch entries in a timeline of %d, want 1 of 2 (submitted, dispatched): %+v", a.ID, n, len(got.Timeline), got.Timeline)
		}
		d := f.get(dups[i].ID)
		if d.Status != report.Duplicate || d.DuplicateOf != a.ID || len(d.Assignments) != 0 {
			t.Errorf("%s: %s of %q with %d assignments, want a duplicate of %s", d.ID, d.Status, d.DuplicateOf, len(d.Assignments), a.ID)
		}
		if n := countEntries(d, report.Duplicate); n != 1 || len(d.Timeline) != 2 {
			t.Errorf("%s: %d duplicate entries in a timeline of %d, want 1 of 2", d.ID, n, len(d.Timeline))
		}
		want = append(want, "msg_"+a.ID+"_municipal_dispatched", "msg_"+a.ID+"_traffic_police_dispatched")
	}
	slices.Sort(want)
	got := ids(f.Drain(f.OutboxURL))
	if !slices.Equal(slices.Compact(got), want) {
		t.Errorf("notifications %v, want each of %v at least once", got, want)
	}
	st := inj.Stats()
	if st.Calls < 100 || st.Faulted() < st.Calls/10 {
		t.Errorf("faults: %v; want ≥ 100 calls and ≥ 1 in 10 faulted", st)
	}
	t.Logf("%d reports, %d invocations", len(recs), sends)
}

func countEntries(r report.Report, status report.Status) int {
	n := 0
	for _, e := range r.Timeline {
		if e.Status == status && e.Actor == "system" {
			n++
		}
	}
	return n
}
