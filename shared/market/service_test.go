package market_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/market"
)

// fakeStore keeps goods stock shards in memory; the methods a test does not override panic (nil Store).
type fakeStore struct {
	market.Store
	mu         sync.Mutex
	items      []market.Item
	shards     map[string][]int64
	refuse     error // when set, every Redeem is refused with it
	redeems    int
	shardReads int
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

// sweepStore keeps one goods item's redemptions (sorted by Pos) and the sweep's checkpoint; refund
// answers each refund (nil: success), by redemption id.
type sweepStore struct {
	fakeStore
	reds       []market.Reservation
	checkpoint string
	refund     map[string]error
	refunded   []string
	read       int // redemptions listed
}

func (f *sweepStore) Items(context.Context) ([]market.Item, error) {
	return []market.Item{{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 9}, {ID: "fund", Kind: market.Charity, Active: true}}, nil
}

func (f *sweepStore) Reservations(_ context.Context, itemID, after string, before time.Time, limit int, cursor string) ([]market.Reservation, string, error) {
	if itemID != "fan" {
		return nil, "", fmt.Errorf("listed %s", itemID)
	}
	var out []market.Reservation
	for _, r := range f.reds {
		if r.Pos > after && r.Pos > cursor && r.CreatedAt.Before(before) {
			out = append(out, r)
		}
	}
	next := ""
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].Pos
	}
	f.read += len(out)
	return out, next, nil
}

func (f *sweepStore) PickupCheckpoint(context.Context, string) (string, error) {
	return f.checkpoint, nil
}

func (f *sweepStore) PutPickupCheckpoint(_ context.Context, _, pos string) error {
	if pos <= f.checkpoint {
		return fmt.Errorf("checkpoint moved back from %s to %s", f.checkpoint, pos)
	}
	f.checkpoint = pos
	return nil
}

func (f *sweepStore) Refund(_ context.Context, r market.Refund) error {
	f.refunded = append(f.refunded, r.Redemption.ID)
	return f.refund[r.Redemption.ID]
}

// The expiry sweep walks a goods item's redemptions from its checkpoint: it expires the open ones made a
// pickup window ago, skips (and reports) a refund that fails transiently, keeps the checkpoint before it,
// and moves it over the closed ones — so the next run reads only what is new or was left, whatever the
// item's history.
func TestExpireReservationsWalksFromACheckpoint(t *testing.T) {
	now := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, d-1) }
	red := func(id string, d int, st market.Status) market.Reservation {
		exp := day(d).Add(30 * 24 * time.Hour)
		return market.Reservation{Redemption: market.Redemption{ID: id, ItemID: "fan", Kind: market.Goods, Status: st, CreatedAt: day(d), ExpiresAt: &exp},
			Pos: fmt.Sprintf("%02d#%s", d, id)}
	}
	var history []market.Reservation
	for i := range 250 { // closed long ago: read by the first run only
		history = append(history, red(fmt.Sprintf("old%03d", i), 1, market.Completed))
	}
	f := &sweepStore{reds: append(history,
		red("a", 2, market.Reserved), red("b", 3, market.Locked), red("c", 4, market.Completed),
		red("d", 5, market.Reserved), // its refund is throttled on the first run
		red("e", 6, market.Cancelled),
		red("f", 45, market.Reserved), // made less than a pickup window ago (December 15)
	)}
	f.refund = map[string]error{"d": apperr.ErrThrottled}
	svc := market.NewService(f, time.UTC, func() time.Time { return now }, func() string { return "x" }, market.Settings{})

	runs := []struct {
		name       string
		expired    int
		failed     bool
		refunded   []string
		checkpoint string
		read       int
	}{
		{"first run", 2, true, []string{"a", "b", "d"}, "04#c", 255},
		{"the throttled one again", 1, false, []string{"d"}, "06#e", 2},
		{"nothing new", 0, false, nil, "06#e", 0},
	}
	for _, r := range runs {
		if r.name == "the throttled one again" {
			f.refund = nil
		}
		f.refunded, f.read = nil, 0
		n, err := svc.ExpireReservations(context.Background())
		if n != r.expired || (err != nil) != r.failed || fmt.Sprint(f.refunded) != fmt.Sprint(r.refunded) ||
			f.checkpoint != r.checkpoint || f.read != r.read {
			t.Errorf("%s: expired %d (%v), refunded %v, checkpoint %q, read %d; want %d (failed %v), %v, %q, %d",
				r.name, n, err, f.refunded, f.checkpoint, f.read, r.expired, r.failed, r.refunded, r.checkpoint, r.read)
		}
		if err != nil && !errors.Is(err, apperr.ErrThrottled) {
			t.Errorf("%s: %v, want the throttled refund reported", r.name, err)
		}
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
