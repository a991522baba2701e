package redeemfn_test

import (
	"fmt"
	"testing"
)

// BenchmarkRedeem redeems goods, gives to a cause and replays a key against moto, and reports the DynamoDB
// calls each makes (calls/op are exact; ns/op mostly measures moto, whose TransactWriteItems copies the
// table it writes, so it grows with the table).
func BenchmarkRedeem(b *testing.B) {
	cases := []struct {
		name string
		key  func(i int) string
		body []byte
	}{
		{"goods", func(i int) string { return fmt.Sprint("g", i) }, redeemBody("mug", 0, 0)},
		{"goods-4-shards", func(i int) string { return fmt.Sprint("u", i) }, redeemBody("umbrella", 0, 0)},
		{"charity", func(i int) string { return fmt.Sprint("c", i) }, redeemBody("fund", 0, 10)},
		{"replay", func(int) string { return "same" }, redeemBody("mug", 0, 0)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b, supermarket()...)
			u := citizen("u-bench")
			h.give(u.sub, 1<<40)
			// Fill the catalog cache (and, for the replay, make the redemption it replays).
			if r := h.must(h.redeem(u, c.key(-1), c.body)); r.Status != 201 {
				b.Fatalf("warm: %s", r)
			}
			h.calls.Reset()
			b.ResetTimer()
			for i := range b.N {
				if r := h.must(h.redeem(u, c.key(i), c.body)); r.Status != 201 {
					b.Fatalf("redeem: %s", r)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(h.calls.Service("DynamoDB"))/float64(b.N), "dynamodb-calls/op")
		})
	}
}
