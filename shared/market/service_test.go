package market_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/market"
)

// fakeStore keeps goods stock shards in memory; the methods a test does not override panic (nil Store).
type fakeStore struct {
	market.Store
	mu          sync.Mutex
	items       []market.Item
	shards      map[string][]int64
	refuse      error // when set, every Redeem is refused with it
	redeems     int
	shardReads  int
	expiredPage []market.Redemption
	refunds     int
}

func (f *fakeStore) Items(context.Context) ([]market.Item, error) { return f.items, nil }

func (f *fakeStore) Redeem(_ context.Context, p market.Plan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redeems++
	if f.refuse != nil {
		return f.refuse
	}
	s := f.shards[p.Item.ID]
	if s[p.Redemption.Shard] < p.Redemption.Quantity {
		return market.ErrOutOfStock
	}
	s[p.Redemption.Shard] -= p.Redemption.Quantity
	return nil
}

func (f *fakeStore) ShardStocks(_ context.Context, it market.Item) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shardReads++
	return append([]int64(nil), f.shards[it.ID]...), nil
}

func (f *fakeStore) ExpiredReservations(context.Context, time.Time, int) ([]market.Redemption, error) {
	return f.expiredPage, nil
}

func (f *fakeStore) Refund(context.Context, market.Refund) error {
	f.refunds++
	return market.ErrNotCancellable
}

var citizen = auth.Principal{Sub: "u1", Groups: []auth.Role{auth.Citizen}}

func newService(f *fakeStore) *market.Service {
	n := 0
	return market.NewService(f, time.UTC, time.Now, func() string { n++; return fmt.Sprint("r", n) }, market.Settings{})
}

func redeem(svc *market.Service, itemID string, quantity int64, key string) error {
	body := fmt.Appendf(nil, `{"itemId":%q,"quantity":%d}`, itemID, quantity)
	_, err := svc.Redeem(context.Background(), citizen, key, body, market.Request{ItemID: itemID, Quantity: &quantity})
	return err
}

// A sharded item is sold to the last unit whatever shard each redemption draws first, and only then refused;
// a refusal of a sold-out item costs one transaction and one read of the shards.
func TestRedeemTriesTheShardsThatHaveStock(t *testing.T) {
	it := market.Item{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 3, Shards: 6}
	for round := range 50 {
		f := &fakeStore{items: []market.Item{it}, shards: map[string][]int64{"fan": {0, 0, 0, 3, 0, 0}}}
		svc := newService(f)
		for i := range 3 {
			if err := redeem(svc, "fan", 1, fmt.Sprint("k", i)); err != nil {
				t.Fatalf("round %d, redemption %d: %v", round, i+1, err)
			}
		}
		f.redeems, f.shardReads = 0, 0
		if err := redeem(svc, "fan", 1, "k-last"); !errors.Is(err, market.ErrOutOfStock) {
			t.Fatalf("round %d: sold out: %v", round, err)
		}
		if f.redeems != 1 || f.shardReads != 1 {
			t.Fatalf("round %d: a sold-out refusal took %d transactions and %d reads, want 1 and 1", round, f.redeems, f.shardReads)
		}
	}
}

// A quantity must fit in one shard: shards with less are not tried.
func TestRedeemQuantityFitsInOneShard(t *testing.T) {
	it := market.Item{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 4, Shards: 4}
	f := &fakeStore{items: []market.Item{it}, shards: map[string][]int64{"fan": {1, 1, 1, 1}}}
	if err := redeem(newService(f), "fan", 2, "k"); !errors.Is(err, market.ErrOutOfStock) {
		t.Fatalf("quantity 2 over shards of 1: %v", err)
	}
	if f.redeems != 1 {
		t.Errorf("%d transactions, want 1 (no shard has 2)", f.redeems)
	}
}

// Other refusals are final: no other shard is tried and nothing is read.
func TestRedeemOtherRefusalsAreNotRetried(t *testing.T) {
	it := market.Item{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 40, Shards: 4}
	for _, refusal := range []error{market.ErrInsufficientPoints, market.ErrLimitReached, market.ErrItemUnavailable} {
		f := &fakeStore{items: []market.Item{it}, shards: map[string][]int64{"fan": {10, 10, 10, 10}}, refuse: refusal}
		if err := redeem(newService(f), "fan", 1, "k"); !errors.Is(err, refusal) {
			t.Errorf("got %v, want %v", err, refusal)
		}
		if f.redeems != 1 || f.shardReads != 0 {
			t.Errorf("%v: %d transactions, %d reads; want 1 and 0", refusal, f.redeems, f.shardReads)
		}
	}
}

// A full page of reservations none of which can be expired ends the sweep instead of fetching the same page
// for ever.
func TestExpireReservationsStopsOnAStuckPage(t *testing.T) {
	f := &fakeStore{expiredPage: make([]market.Redemption, 100)}
	done := make(chan struct{})
	var n int
	var err error
	go func() {
		defer close(done)
		n, err = newService(f).ExpireReservations(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ExpireReservations did not return")
	}
	if n != 0 || err != nil || f.refunds != 100 {
		t.Errorf("expired %d, %v, after %d refund attempts; want 0, nil, 100", n, err, f.refunds)
	}
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		stock int64
		n     int
		want  []int64
	}{{5, 4, []int64{2, 1, 1, 1}}, {0, 3, []int64{0, 0, 0}}, {7, 1, []int64{7}}, {8, 8, []int64{1, 1, 1, 1, 1, 1, 1, 1}}} {
		got := market.Split(tt.stock, tt.n)
		var sum int64
		for _, v := range got {
			sum += v
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || sum != tt.stock {
			t.Errorf("Split(%d, %d) = %v, want %v", tt.stock, tt.n, got, tt.want)
		}
	}
}
