package dynamostore_test

import (
	"context"
	"testing"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/shared/market"
)

// A restock writes the catalog item and every stock shard in one TransactWriteItems (at most 100 actions):
// the most shards an admin may ask for must fit, and their stock must add up.
func TestRestockWithMostShardsFitsOneTransaction(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	it := market.Item{ID: "rice-5kg", Kind: market.Goods, NameZH: "大米", NameEN: "Rice", Cost: 60, Stock: 1000,
		Shards: market.MaxShards, Active: true, PickupLocation: "centre"}
	if err := it.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := e.plain.PutItem(context.Background(), it, true); err != nil {
		t.Fatalf("restock with %d shards: %v", market.MaxShards, err)
	}
	stocks, err := e.plain.ShardStocks(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, v := range stocks {
		sum += v
	}
	if len(stocks) != market.MaxShards || sum != it.Stock {
		t.Fatalf("%d shards holding %d, want %d holding %d", len(stocks), sum, market.MaxShards, it.Stock)
	}
	it.Shards = market.MaxShards + 1
	if err := it.Validate(); err == nil {
		t.Fatalf("%d shards validated", it.Shards)
	}
}
