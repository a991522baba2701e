package redeemfn_test

import (
	"context"
	"maps"
	"testing"

	"github.com/civicsnap/civicsnap/shared/market"
)

func supermarket() []market.Item {
	return []market.Item{
		goods("mug", 5, 1_000_000, 1),
		goods("umbrella", 5, 1_000_000, 4),
		{ID: "badge", Kind: market.Honor, NameZH: "热心市民", Cost: 50, Title: "热心市民", Active: true},
		{ID: "fund", Kind: market.Charity, NameZH: "图书角", MinAmount: 10, Active: true},
		{ID: "credit", Kind: market.Credit, NameZH: "信用分", Rate: 50, Active: true},
	}
}

type calls = map[string]int

const (
	twi    = "DynamoDB.TransactWriteItems"
	get    = "DynamoDB.GetItem"
	query  = "DynamoDB.Query"
	update = "DynamoDB.UpdateItem"
	batch  = "DynamoDB.BatchGetItem"
)

// TestRedemptionCalls counts the DynamoDB calls of each operation (the target: one
// TransactWriteItems and at most one read per redemption) and logs them.
func TestRedemptionCalls(t *testing.T) {
	h := newHarness(t, supermarket()...)
	u := citizen("u-calls")
	h.give(u.sub, 1_000_000)

	var mug market.Redemption
	steps := []struct {
		name   string
		do     func() (response, error)
		status int
		want   calls // nil: only logged
	}{
		{"goods, cold catalog cache", func() (response, error) { return h.redeem(u, "g0", redeemBody("mug", 0, 0)) }, 201, calls{query: 1, twi: 1}},
		{"goods", func() (response, error) { return h.redeem(u, "g1", redeemBody("mug", 0, 0)) }, 201, calls{twi: 1}},
		{"goods ×3", func() (response, error) { return h.redeem(u, "g2", redeemBody("mug", 3, 0)) }, 201, calls{twi: 1}},
		{"goods, 4 shards", func() (response, error) { return h.redeem(u, "g3", redeemBody("umbrella", 0, 0)) }, 201, calls{twi: 1}},
		{"charity, first gift", func() (response, error) { return h.redeem(u, "c1", redeemBody("fund", 0, 10)) }, 201, calls{get: 1, twi: 1}},
		{"charity, second gift", func() (response, error) { return h.redeem(u, "c2", redeemBody("fund", 0, 20)) }, 201, calls{get: 1, twi: 1}},
		{"honor", func() (response, error) { return h.redeem(u, "h1", redeemBody("badge", 0, 0)) }, 201, calls{twi: 1}},
		{"credit", func() (response, error) { return h.redeem(u, "k1", redeemBody("credit", 0, 100)) }, 201, calls{twi: 1}},
		// The refused transaction returns the key's redemption (ALL_OLD): a replay reads nothing more.
		{"idempotent replay", func() (response, error) { return h.redeem(u, "g1", redeemBody("mug", 0, 0)) }, 201, calls{twi: 1}},
		{"key reused, other body", func() (response, error) { return h.redeem(u, "g1", redeemBody("mug", 2, 0)) }, 422, calls{twi: 1}},
		{"refused: unknown item", func() (response, error) { return h.redeem(u, "x1", redeemBody("nothing", 0, 0)) }, 404, calls{}},
		// The counter's look: the right code reads, a wrong one is counted as at fulfil.
		{"verify", func() (response, error) { return h.verify(mug.ID, mug.PickupCode) }, 200, calls{get: 1}},
		{"verify, wrong code", func() (response, error) { return h.verify(mug.ID, wrongCode(mug.PickupCode, 2)) }, 400, calls{get: 1, update: 1}},
		{"wrong pickup code", func() (response, error) { return h.fulfil(mug.ID, wrongCode(mug.PickupCode, 1)) }, 400, calls{get: 1, update: 1}},
		{"fulfil", func() (response, error) { return h.fulfil(mug.ID, mug.PickupCode) }, 200, calls{get: 1, update: 1}},
		{"cancel", func() (response, error) {
			r, err := h.redeem(u, "g4", redeemBody("mug", 0, 0))
			if err != nil || r.Status != 201 {
				return r, err
			}
			h.calls.Reset()
			return h.cancel(u, r.redemption().ID)
		}, 200, calls{get: 1, twi: 1}},
		{"catalog", func() (response, error) {
			return h.call(h.fn, caller{}, "GET", "GET /v1/catalog", "/v1/catalog", nil, nil)
		}, 200, calls{query: 1, batch: 1}},
		{"my redemptions", func() (response, error) {
			return h.call(h.fn, u, "GET", "GET /v1/me/redemptions", "/v1/me/redemptions?limit=5", nil, nil)
		}, 200, calls{query: 1}},
	}
	for _, s := range steps {
		h.calls.Reset()
		r := h.must(s.do())
		got := h.calls.Snapshot()
		if got == nil {
			got = calls{}
		}
		t.Logf("%-26s %d  %v", s.name, r.Status, got)
		if r.Status != s.status {
			t.Errorf("%s: %s, want status %d", s.name, r, s.status)
		}
		if !maps.Equal(got, s.want) {
			t.Errorf("%s: calls %v, want %v", s.name, got, s.want)
		}
		if s.name == "goods, cold catalog cache" {
			mug = r.redemption()
		}
	}

	_, totals, err := h.store.Stocks(context.Background(), []market.Item{{ID: "fund", Kind: market.Charity}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := totals["fund"], (market.Totals{Total: 30, Donations: 2, Donors: 1}); got != want {
		t.Errorf("fund totals %+v, want %+v", got, want)
	}
	h.checkBooks([]string{u.sub})
}
