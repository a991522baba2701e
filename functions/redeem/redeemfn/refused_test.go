package redeemfn_test

import (
	"slices"
	"testing"

	"github.com/civicsnap/civicsnap/shared/market"
)

// TestRefusedRedemptionsWriteNothing: every refused redemption leaves the table exactly as it was — the
// refusals of the transaction's conditions (points, stock, limit, item on sale) as well as those decided
// before it (unknown item, bad request, key reused with another body, wrong role).
func TestRefusedRedemptionsWriteNothing(t *testing.T) {
	rice := goods("rice", 10, 100, 1)
	rice.MonthlyLimit = 1
	retired := goods("retired", 1, 10, 1)
	retired.Active = false
	retireLater := goods("retire-later", 1, 10, 2)
	h := newHarness(t, rice, retired, retireLater, goods("sold-out", 1, 0, 1), goods("sold-out-4", 1, 0, 4),
		market.Item{ID: "badge", Kind: market.Honor, NameZH: "热心市民", Cost: 5, Title: "热心市民", Active: true},
		market.Item{ID: "fund", Kind: market.Charity, NameZH: "图书角", MinAmount: 10, Active: true})
	rich, poor := citizen("rich"), citizen("poor")
	h.give(rich.sub, 100)
	h.give(poor.sub, 5)

	// What the refusals below are measured against: rice once this month, the badge once (this also fills
	// the function's catalog cache), then "retire-later" is retired behind the cache's back, so only the
	// transaction's on-sale condition can refuse it.
	for _, r := range []struct{ key, body string }{{"rice-1", `{"itemId":"rice"}`}, {"badge-1", `{"itemId":"badge"}`}} {
		if got := h.must(h.redeem(rich, r.key, []byte(r.body))); got.Status != 201 {
			t.Fatalf("setup %s: %s", r.key, got)
		}
	}
	retireLater.Active = false
	h.putItem(retireLater)

	tests := []struct {
		name   string
		who    caller
		key    string
		body   string
		status int
		code   string
	}{
		{"insufficient points", poor, "p1", `{"itemId":"rice"}`, 409, "insufficient_points"},
		{"insufficient points for a gift", poor, "p2", `{"itemId":"fund","amount":10}`, 409, "insufficient_points"},
		{"out of stock", rich, "r1", `{"itemId":"sold-out"}`, 409, "out_of_stock"},
		{"out of stock, 4 shards", rich, "r2", `{"itemId":"sold-out-4"}`, 409, "out_of_stock"},
		{"monthly limit", rich, "r4", `{"itemId":"rice"}`, 409, "limit_reached"},
		{"honor bought twice", rich, "r5", `{"itemId":"badge"}`, 409, "limit_reached"},
		{"retired item", rich, "r6", `{"itemId":"retired"}`, 409, "item_unavailable"},
		{"retired after the cache was filled", rich, "r7", `{"itemId":"retire-later"}`, 409, "item_unavailable"},
		{"unknown item", rich, "r8", `{"itemId":"no-such-item"}`, 404, "item_unavailable"},
		{"key reused with another body", rich, "rice-1", `{"itemId":"rice","quantity":2}`, 422, "idempotency_key_reused"},
		{"quantity out of range", rich, "r9", `{"itemId":"rice","quantity":11}`, 400, "invalid_redemption"},
		{"donation below the minimum", rich, "r10", `{"itemId":"fund","amount":9}`, 400, "invalid_redemption"},
		{"unknown field", rich, "r11", `{"itemId":"rice","price":1}`, 400, "invalid_json"},
		{"no key", rich, "", `{"itemId":"rice"}`, 400, "idempotency_key_required"},
		{"a clerk cannot redeem", clerk, "c1", `{"itemId":"rice"}`, 403, "forbidden"},
		{"no token", caller{}, "n1", `{"itemId":"rice"}`, 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.scan()
			r := h.must(h.redeem(tt.who, tt.key, []byte(tt.body)))
			if r.Status != tt.status || r.code() != tt.code {
				t.Errorf("got %s, want %d %s", r, tt.status, tt.code)
			}
			if after := h.scan(); !slices.Equal(before, after) {
				t.Errorf("the table changed: %d items before, %d after", len(before), len(after))
			}
		})
	}
	h.checkBooks([]string{rich.sub, poor.sub})
}
