package redeemfn_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Moto applies requests one at a time, so no two transactions overlap and DynamoDB's TransactionConflict
// (which the API answers with 409 request_in_flight) cannot happen here: every refusal below is the
// business condition that failed, and the tests assert exactly that.

// TestStormOneUserTenUnits: one user with points for exactly 10 units sends 100 concurrent redemptions →
// exactly 10 succeed, 90 are refused with insufficient_points, the balance ends at 0 and was never below 0
// (every value it took is read back from the table's stream), and the ledger sums to it.
func TestStormOneUserTenUnits(t *testing.T) {
	const cost = 7
	it := goods("tea", cost, 1000, 1)
	h := newHarness(t, it)
	u := citizen("u-ten")
	h.give(u.sub, 10*cost)

	rs := storm(t, 100, func(i int) (response, error) {
		return h.redeem(u, fmt.Sprintf("k-%d", i), redeemBody(it.ID, 1, 0))
	})

	want := map[string]int{"201": 10, "409 insufficient_points": 90}
	if got := tally(rs); !maps.Equal(got, want) {
		t.Fatalf("responses %v, want %v", got, want)
	}
	ids := map[string]bool{}
	for _, r := range rs {
		if r.Status == 201 {
			red := r.redemption()
			if red.Status != market.Reserved || red.Amount != cost || len(red.PickupCode) != 6 || ids[red.ID] {
				t.Errorf("redemption %+v", red)
			}
			ids[red.ID] = true
		}
	}
	p := h.profile(u.sub)
	if p.Balance != 0 || p.LifetimeRedeemed != 10*cost {
		t.Errorf("balance %d, redeemed %d; want 0 and %d", p.Balance, p.LifetimeRedeemed, 10*cost)
	}
	// Every balance the profile ever had: the award, then one step of -cost per redemption, down to 0.
	history := h.balances(u.sub)
	wantHistory := []int64{10 * cost}
	for b := int64(9 * cost); b >= 0; b -= cost {
		wantHistory = append(wantHistory, b)
	}
	if !slices.Equal(history, wantHistory) {
		t.Errorf("the balance went %v, want %v", history, wantHistory)
	}
	led := h.ledger(u.sub)
	var redemptions int
	for _, e := range led {
		if e.Kind == points.KindRedemption {
			redemptions++
			if !ids[e.RedemptionID] || e.Delta != -cost {
				t.Errorf("ledger entry %+v", e)
			}
		}
	}
	if redemptions != 10 || len(led) != 11 {
		t.Errorf("ledger has %d entries, %d redemptions; want 11 and 10", len(led), redemptions)
	}
	if got := h.byItem(it.ID); len(got) != 10 {
		t.Errorf("%d redemptions of the item, want 10", len(got))
	}
	if st := h.stock(it); st != 990 {
		t.Errorf("stock %d, want 990", st)
	}
	h.checkBooks([]string{u.sub})
}

// TestStormStockRace: 50 users with plenty of points race for stock 5 → exactly 5 succeed, the other 45 are
// refused with out_of_stock, and stock left + redeemed = initial stock; for an item with one shard, and
// then (the same users again) for one with four, where a redemption must not be refused while another shard
// still has stock.
func TestStormStockRace(t *testing.T) {
	const cost, stock, plenty = 20, 5, 1000
	items := []market.Item{goods("lamp-1", cost, stock, 1), goods("lamp-4", cost, stock, 4)}
	h := newHarness(t, items...)
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf("racer-%02d", i)
	}
	h.giveAll(users, plenty)
	won := map[string]int{}
	for _, it := range items {
		t.Run(fmt.Sprintf("shards=%d", it.ShardCount()), func(t *testing.T) {
			rs := storm(t, len(users), func(i int) (response, error) {
				return h.redeem(citizen(users[i]), "race-"+it.ID, redeemBody(it.ID, 0, 0))
			})
			want := map[string]int{"201": stock, "409 out_of_stock": len(users) - stock}
			if got := tally(rs); !maps.Equal(got, want) {
				t.Fatalf("responses %v, want %v", got, want)
			}
			winners := map[string]bool{}
			for i, r := range rs {
				if r.Status == 201 {
					winners[users[i]] = true
					won[users[i]]++
				}
			}
			reds := h.byItem(it.ID)
			for _, r := range reds {
				if !winners[r.Sub] || r.Status != market.Reserved {
					t.Errorf("redemption %s of %s: %s", r.ID, r.Sub, r.Status)
				}
			}
			if left := h.stock(it); left != 0 || len(reds) != stock {
				t.Errorf("stock left %d, redemptions %d; want 0 and %d", left, len(reds), stock)
			}
			for n := range it.ShardCount() {
				hist := h.history("ITEM#"+it.ID, fmt.Sprintf("STOCK#%d", n), "stock")
				if slices.Min(hist) < 0 || hist[len(hist)-1] != 0 {
					t.Errorf("shard %d went %v", n, hist)
				}
				t.Logf("shard %d went %v", n, hist)
			}
		})
	}
	for _, sub := range users {
		if p := h.profile(sub); p.Balance != int64(plenty-cost*won[sub]) {
			t.Errorf("%s won %d: balance %d", sub, won[sub], p.Balance)
		}
	}
	h.checkBooks(users)
}

// TestStormIdempotentReplay: 20 concurrent requests with the same key and body make one redemption and all
// return it; the same key with another body is refused with 422; the ledger has one redemption entry.
func TestStormIdempotentReplay(t *testing.T) {
	it := goods("kettle", 10, 100, 1)
	h := newHarness(t, it)
	u := citizen("u-replay")
	h.give(u.sub, 100)
	body := redeemBody(it.ID, 1, 0)
	rs := storm(t, 20, func(int) (response, error) { return h.redeem(u, "same-key", body) })
	if got, want := tally(rs), map[string]int{"201": 20}; !maps.Equal(got, want) {
		t.Fatalf("responses %v, want %v", got, want)
	}
	first := rs[0].redemption()
	for _, r := range rs {
		if got := r.redemption(); got.ID != first.ID || got.PickupCode != first.PickupCode || !got.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("replay returned %+v, want %+v", got, first)
		}
	}
	other := h.must(h.redeem(u, "same-key", redeemBody(it.ID, 2, 0)))
	if other.Status != 422 || other.code() != "idempotency_key_reused" {
		t.Errorf("same key, other body: %s", other)
	}
	// A replay after the redemption changed still returns the first result, and changes nothing.
	if r := h.must(h.cancel(u, first.ID)); r.Status != 200 {
		t.Fatalf("cancel: %s", r)
	}
	if r := h.must(h.redeem(u, "same-key", body)); r.Status != 201 || r.redemption().ID != first.ID || r.redemption().Status != market.Reserved {
		t.Errorf("replay after cancel: %s", r)
	}
	var entries []points.Entry
	for _, e := range h.ledger(u.sub) {
		if e.Kind == points.KindRedemption {
			entries = append(entries, e)
		}
	}
	if len(entries) != 1 || entries[0].RedemptionID != first.ID {
		t.Errorf("redemption ledger entries %+v, want one for %s", entries, first.ID)
	}
	if reds := h.byItem(it.ID); len(reds) != 1 {
		t.Errorf("%d redemptions, want 1", len(reds))
	}
	if p := h.profile(u.sub); p.Balance != 100 {
		t.Errorf("balance %d after the cancel, want 100", p.Balance)
	}
	h.checkBooks([]string{u.sub})
}

// TestStormFulfilVersusCancel: for each of 20 reservations a clerk's fulfil and the owner's cancel fire at
// once → exactly one wins; a cancelled one was refunded and restocked exactly once, a fulfilled one not.
func TestStormFulfilVersusCancel(t *testing.T) {
	const cost, initial, perUser = 5, 30, 5
	it := goods("torch", cost, initial, 2)
	h := newHarness(t, it)
	users := []string{"fc-0", "fc-1", "fc-2", "fc-3"}
	h.giveAll(users, cost*perUser)
	var reds []market.Redemption
	for _, sub := range users {
		for k := range perUser {
			r := h.must(h.redeem(citizen(sub), fmt.Sprint("r", k), redeemBody(it.ID, 0, 0)))
			if r.Status != 201 {
				t.Fatalf("reserve: %s", r)
			}
			reds = append(reds, r.redemption())
		}
	}
	rs := storm(t, 2*len(reds), func(i int) (response, error) {
		r := reds[i/2]
		if i%2 == 0 {
			return h.fulfil(r.ID, r.PickupCode)
		}
		return h.cancel(citizen(r.Sub), r.ID)
	})
	fulfilled := map[string]int{}
	for i, r := range reds {
		f, c := rs[2*i], rs[2*i+1]
		got := h.redemption(r.ID)
		switch {
		case f.Status == 200 && c.Status == 409 && c.code() == "not_cancellable":
			if got.Status != market.Completed || f.redemption().Status != market.Completed {
				t.Errorf("%s: fulfil won but the redemption is %s", r.ID, got.Status)
			}
			fulfilled[r.Sub]++
		case c.Status == 200 && f.Status == 409 && f.code() == "redemption_cancelled":
			if got.Status != market.Cancelled || c.redemption().Status != market.Cancelled {
				t.Errorf("%s: cancel won but the redemption is %s", r.ID, got.Status)
			}
		default:
			t.Errorf("%s: fulfil %s, cancel %s; want exactly one 200 and one 409", r.ID, f, c)
		}
	}
	total := 0
	for _, sub := range users {
		total += fulfilled[sub]
		refunds := map[string]int{}
		for _, e := range h.ledger(sub) {
			if e.Kind == points.KindRefund {
				refunds[e.RedemptionID]++
				if e.Delta != cost {
					t.Errorf("refund entry %+v", e)
				}
			}
		}
		for _, r := range reds {
			if r.Sub != sub {
				continue
			}
			want := 0
			if h.redemption(r.ID).Status == market.Cancelled {
				want = 1
			}
			if refunds[r.ID] != want {
				t.Errorf("%s: %d refunds, want %d", r.ID, refunds[r.ID], want)
			}
		}
		if p := h.profile(sub); p.Balance != int64(cost*(perUser-fulfilled[sub])) {
			t.Errorf("%s: balance %d with %d fulfilled", sub, p.Balance, fulfilled[sub])
		}
	}
	if left := h.stock(it); left != int64(initial-total) {
		t.Errorf("stock %d with %d fulfilled, want %d", left, total, initial-total)
	}
	t.Logf("%d fulfilled, %d cancelled", total, len(reds)-total)
	h.checkBooks(users)
}

// TestWrongPickupCodesLock: four wrong codes are refused one by one, the fifth locks the redemption, and the
// right code then no longer releases the goods.
func TestWrongPickupCodesLock(t *testing.T) {
	it := goods("cup", 3, 10, 1)
	h := newHarness(t, it)
	u := citizen("u-codes")
	h.give(u.sub, 30)
	red := h.must(h.redeem(u, "k", redeemBody(it.ID, 0, 0))).redemption()
	for n := 1; n <= 4; n++ {
		if r := h.must(h.fulfil(red.ID, wrongCode(red.PickupCode, n))); r.Status != 400 || r.code() != "wrong_pickup_code" {
			t.Fatalf("wrong code %d: %s", n, r)
		}
	}
	if r := h.must(h.fulfil(red.ID, wrongCode(red.PickupCode, 5))); r.Status != 409 || r.code() != "redemption_locked" {
		t.Fatalf("fifth wrong code: %s", r)
	}
	if r := h.must(h.fulfil(red.ID, red.PickupCode)); r.Status != 409 || r.code() != "redemption_locked" {
		t.Fatalf("right code after the lock: %s", r)
	}
	if got := h.redemption(red.ID); got.Status != market.Locked || got.WrongCodes != 5 {
		t.Errorf("redemption %s with %d wrong codes, want locked with 5", got.Status, got.WrongCodes)
	}
	if p := h.profile(u.sub); p.Balance != 27 {
		t.Errorf("balance %d, want 27 (the locked goods stay reserved to their redeemer)", p.Balance)
	}
	h.checkBooks([]string{u.sub})
}

// TestShardedStockIsNotRefusedWhileStockRemains: with stock 8 over 8 shards, one unit each, eight
// redemptions one after another all succeed although each draws its first shard at random; the ninth is
// refused. (Drawing one shard and refusing when it is empty passes this with a probability of 8!/8⁸ ≈ 0.2 %.)
func TestShardedStockIsNotRefusedWhileStockRemains(t *testing.T) {
	it := goods("fan", 1, 8, 8)
	h := newHarness(t, it)
	u := citizen("u-shards")
	h.give(u.sub, 100)
	h.must(h.redeem(u, "warm", redeemBody("no-such-item", 0, 0))) // fill the catalog cache
	for i := range 8 {
		h.calls.Reset()
		if r := h.must(h.redeem(u, fmt.Sprint("k", i), redeemBody(it.ID, 0, 0))); r.Status != 201 {
			t.Fatalf("redemption %d with %d left: %s", i+1, 8-i, r)
		}
		t.Logf("redemption %d: %v", i+1, h.calls.Snapshot())
	}
	h.calls.Reset()
	if r := h.must(h.redeem(u, "k-last", redeemBody(it.ID, 0, 0))); r.Status != 409 || r.code() != "out_of_stock" {
		t.Fatalf("ninth redemption: %s", r)
	}
	// A sold-out sharded item costs its refusal one transaction and one read of the shards.
	if got, want := h.calls.Snapshot(), map[string]int{"DynamoDB.TransactWriteItems": 1, "DynamoDB.BatchGetItem": 1}; !maps.Equal(got, want) {
		t.Errorf("refusal of a sold-out sharded item: %v, want %v", got, want)
	}
	if got := h.shards(it); !slices.Equal(got, make([]int64, 8)) {
		t.Errorf("shards %v", got)
	}
	h.checkBooks([]string{u.sub})
}

// TestExpiryRefundsReservedAndLocked: the expiry sweep refunds and restocks reservations past their pickup
// window, including one locked by wrong codes (which cannot be picked up any more), exactly once; a fulfilled
// one is untouched.
func TestExpiryRefundsReservedAndLocked(t *testing.T) {
	const cost = 4
	it := goods("bag", cost, 10, 2)
	h := newHarness(t, it)
	u := citizen("u-expiry")
	h.give(u.sub, 3*cost)
	var reds []market.Redemption
	for i := range 3 {
		reds = append(reds, h.must(h.redeem(u, fmt.Sprint("k", i), redeemBody(it.ID, 0, 0))).redemption())
	}
	if r := h.must(h.fulfil(reds[0].ID, reds[0].PickupCode)); r.Status != 200 {
		t.Fatalf("fulfil: %s", r)
	}
	for n := range 5 {
		h.must(h.fulfil(reds[1].ID, wrongCode(reds[1].PickupCode, n)))
	}
	if got := h.redemption(reds[1].ID).Status; got != market.Locked {
		t.Fatalf("after five wrong codes: %s", got)
	}
	later := func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	sweeper := market.NewService(h.store, tz, later, func() string { return "unused" }, market.Settings{})
	for run, want := range []int{2, 0} {
		n, err := sweeper.ExpireReservations(context.Background())
		if err != nil || n != want {
			t.Fatalf("sweep %d: %d expired, %v; want %d", run+1, n, err, want)
		}
	}
	for i, want := range []market.Status{market.Completed, market.Expired, market.Expired} {
		if got := h.redemption(reds[i].ID).Status; got != want {
			t.Errorf("redemption %d: %s, want %s", i, got, want)
		}
	}
	if p := h.profile(u.sub); p.Balance != 2*cost {
		t.Errorf("balance %d, want %d", p.Balance, 2*cost)
	}
	if left := h.stock(it); left != 9 {
		t.Errorf("stock %d, want 9", left)
	}
	h.checkBooks([]string{u.sub})
}
