package accrualfn_test

import (
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/points"
)

// BenchmarkAward delivers one resolution per op to a warm function against moto and reports the DynamoDB
// calls and the items per transaction (calls/op and items are exact; ns/op mostly measures moto, which
// copies the whole table on every transaction, so it grows with b.N).
func BenchmarkAward(b *testing.B) {
	h := newHarness(b, rulesWith(func(r *points.Rules) { r.DailyCap, r.MonthlyCap = 1_000_000, 1_000_000 }))
	at := local(2026, 5, 14, 10, 0)
	_, warm := h.resolved("alice", "rubbish", at)
	h.handleOK(warm) // the rules and categories are cached from here on
	var calls, txs, items int
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		_, rec := h.resolved("alice", "rubbish", at.Add(time.Duration(i+1)*time.Second))
		h.resetCounts()
		b.StartTimer()
		h.handleOK(rec)
		b.StopTimer()
		calls += h.calls.Service("DynamoDB")
		for _, n := range h.tx.get() {
			txs++
			items += n
		}
	}
	b.ReportMetric(float64(calls)/float64(b.N), "dynamodb-calls/op")
	b.ReportMetric(float64(txs)/float64(b.N), "transactions/op")
	b.ReportMetric(float64(items)/float64(max(txs, 1)), "items-per-transaction")
	if p := h.profile("alice"); p.Balance != int64(5*(b.N+1)) {
		b.Errorf("balance %d after %d awards of 5", p.Balance, b.N+1)
	}
}
