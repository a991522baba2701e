package market_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/market"
)

// countingStore counts the catalog's reads.
type countingStore struct {
	*fakeStore
	reads int
}

func (c *countingStore) Items(ctx context.Context) ([]market.Item, error) {
	c.reads++
	return c.fakeStore.Items(ctx)
}

// An item added after the catalog was cached is sold at once (not refused as unknown until the cache's
// 30 s are over), and ids nobody sells cost at most one catalog read a second.
func TestAnItemAddedMeanwhileIsSold(t *testing.T) {
	fan := market.Item{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 5, Shards: 1}
	pen := market.Item{ID: "pen", Kind: market.Goods, NameZH: "笔", Active: true, Cost: 1, Stock: 5, Shards: 1}
	f := &countingStore{fakeStore: &fakeStore{items: []market.Item{fan}, shards: map[string][]int64{"fan": {5}, "pen": {5}}}}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	n := 0
	svc := market.NewService(f, time.UTC, func() time.Time { return now }, func() string { n++; return fmt.Sprint("r", n) }, market.Settings{})
	quantity := int64(1)
	buy := func(id, key string) error {
		_, err := svc.Redeem(context.Background(), citizen, key, fmt.Appendf(nil, `{"itemId":%q}`, id), market.Request{ItemID: id, Quantity: &quantity})
		return err
	}

	if err := buy("fan", "k1"); err != nil {
		t.Fatal(err)
	}
	f.items = append(f.items, pen) // an admin adds the pen
	now = now.Add(2 * time.Second)
	if err := buy("pen", "k2"); err != nil {
		t.Fatalf("the pen, added 2 s after the catalog was cached: %v", err)
	}
	steps := []struct {
		after     time.Duration
		id        string
		wantErr   error
		wantReads int
	}{
		{0, "nothing", market.ErrItemNotFound, 2},                      // read just now: no new read
		{500 * time.Millisecond, "nothing", market.ErrItemNotFound, 2}, // within the second
		{time.Second, "nothing", market.ErrItemNotFound, 3},            // a second on: one more read
		{0, "fan", nil, 3}, // known items never read
	}
	for i, s := range steps {
		now = now.Add(s.after)
		if err := buy(s.id, fmt.Sprint("s", i)); !errors.Is(err, s.wantErr) && (err != nil || s.wantErr != nil) {
			t.Errorf("step %d (%s): %v, want %v", i, s.id, err, s.wantErr)
		}
		if f.reads != s.wantReads {
			t.Errorf("step %d (%s): %d catalog reads, want %d", i, s.id, f.reads, s.wantReads)
		}
	}
}
