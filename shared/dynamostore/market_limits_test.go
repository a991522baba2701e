package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
)

// clock is a settable time for a service under test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// credit gives sub pts the way accrual does: the profile read, points.Grant, ApplyAward (a whole-profile
// put, version-conditioned).
func credit(t *testing.T, st *dynamostore.Store, sub string, pts int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	p, err := st.Profile(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	rules := points.Rules{DailyCap: 1 << 40, MonthlyCap: 1 << 40}
	a, n, e := points.Grant(p, fmt.Sprint("grant-", p.Version), points.RuleReport, pts, 0, rules, at, time.UTC)
	if err := st.ApplyAward(ctx, a, n, p.Version, e); err != nil {
		t.Fatal(err)
	}
}

// The per-user limits are kept on the profile (no LIMIT# item): a monthly limit counts the month's units
// and starts again in a new month, keeping only that month's counters; a refund gives its units back in
// the month they counted in and touches no counter later; an award's whole-profile put keeps them; an
// honor is bought once.
func TestPerUserLimitsLiveOnTheProfile(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	st := e.plain
	ctx := context.Background()
	rice := market.Item{ID: "rice", Kind: market.Goods, NameZH: "大米", Active: true, Cost: 10, Stock: 100, MonthlyLimit: 2, PickupLocation: "x"}
	oil := market.Item{ID: "oil", Kind: market.Goods, NameZH: "油", Active: true, Cost: 10, Stock: 100, MonthlyLimit: 1, PickupLocation: "x"}
	badge := market.Item{ID: "badge", Kind: market.Honor, NameZH: "徽章", Active: true, Cost: 10, Title: "热心市民"}
	for _, it := range []market.Item{rice, oil, badge} {
		if err := st.PutItem(ctx, it, it.Kind == market.Goods); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)}
	n := 0
	svc := market.NewService(st, time.UTC, clk.now, func() string { n++; return fmt.Sprint("attempt-", n) }, market.Settings{})
	u := auth.Principal{Sub: "lim-user", Groups: []auth.Role{auth.Citizen}}
	credit(t, st, u.Sub, 1000, clk.t)

	redeemed := map[string]market.Redemption{}
	steps := []struct {
		name string
		do   func() error
		want error // nil: succeeds
	}{
		{"rice ×1", func() error { return redeemKey(svc, u, redeemed, "k1", "rice", 1) }, nil},
		{"oil ×1 (another item, same month)", func() error { return redeemKey(svc, u, redeemed, "k2", "oil", 1) }, nil},
		{"rice ×2 exceeds 2", func() error { return redeemKey(svc, u, redeemed, "k3", "rice", 2) }, market.ErrLimitReached},
		{"rice ×1 reaches 2", func() error { return redeemKey(svc, u, redeemed, "k4", "rice", 1) }, nil},
		{"rice ×1 past the limit", func() error { return redeemKey(svc, u, redeemed, "k5", "rice", 1) }, market.ErrLimitReached},
		{"cancel k4: its unit back", func() error { _, err := svc.Cancel(ctx, u, redeemed["k4"].ID); return err }, nil},
		{"rice ×1 again", func() error { return redeemKey(svc, u, redeemed, "k6", "rice", 1) }, nil},
		{"an award's profile put keeps the counters", func() error { credit(t, st, u.Sub, 5, clk.t); return nil }, nil},
		{"still at the limit", func() error { return redeemKey(svc, u, redeemed, "k7", "rice", 1) }, market.ErrLimitReached},
		{"a replay is answered before the limit", func() error { return redeemKey(svc, u, redeemed, "k6", "rice", 1) }, nil},
		{"December: rice ×2", func() error {
			clk.t = time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC)
			return redeemKey(svc, u, redeemed, "k8", "rice", 2)
		}, nil},
		{"December: cancel November's k1 (counts nowhere now)", func() error { _, err := svc.Cancel(ctx, u, redeemed["k1"].ID); return err }, nil},
		{"December: rice still at its limit", func() error { return redeemKey(svc, u, redeemed, "k9", "rice", 1) }, market.ErrLimitReached},
		{"honor", func() error { return redeemKey(svc, u, redeemed, "h1", "badge", 0) }, nil},
		{"honor again", func() error { return redeemKey(svc, u, redeemed, "h2", "badge", 0) }, market.ErrLimitReached},
	}
	for _, s := range steps {
		if err := s.do(); s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}

	p, err := st.Profile(ctx, u.Sub)
	if err != nil {
		t.Fatal(err)
	}
	if p.LimitMonth != "2026-12" || len(p.LimitCounts) != 1 || p.LimitCounts["rice"] != 2 || len(p.BoughtOnce) != 1 || p.BoughtOnce[0] != "badge" {
		t.Errorf("profile limits: month %q counts %v once %v; want December's rice 2 only, and the badge", p.LimitMonth, p.LimitCounts, p.BoughtOnce)
	}
	// Spent: rice k1 (refunded), oil, k4 (refunded), k6, k8 ×2, the badge: 5 units of 10 live.
	if want := int64(1005 - 50); p.Balance != want {
		t.Errorf("balance %d, want %d", p.Balance, want)
	}
	out, err := e.db.Query(ctx, &dynamodb.QueryInput{TableName: &e.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :l)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "USER#" + u.Sub}, ":l": &types.AttributeValueMemberS{Value: "LIMIT#"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Errorf("%d LIMIT# items written; the limits live on the profile", len(out.Items))
	}
}

func redeemKey(svc *market.Service, u auth.Principal, redeemed map[string]market.Redemption, key, item string, q int64) error {
	body := fmt.Appendf(nil, `{"itemId":%q,"quantity":%d}`, item, q)
	req := market.Request{ItemID: item}
	if q > 0 {
		req.Quantity = &q
	}
	r, err := svc.Redeem(context.Background(), u, key, body, req)
	if err == nil {
		if prev, ok := redeemed[key]; ok && prev.ID != r.ID {
			return fmt.Errorf("replay of %s answered %s, first %s", key, r.ID, prev.ID)
		}
		redeemed[key] = r
	}
	return err
}

// A goods item's stock shards carry its active flag, which a redemption checks there (no ConditionCheck
// of the catalog item): retiring the item behind a container's cached catalog refuses the redemption;
// shards a smaller shard count leaves behind stop selling; a shard written before the flag existed is
// still sold from, under the catalog item's condition.
func TestStockShardsCarryTheActiveFlag(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	st := e.plain
	ctx := context.Background()
	u := auth.Principal{Sub: "shard-user", Groups: []auth.Role{auth.Citizen}}
	credit(t, st, u.Sub, 1000, time.Now())
	svc := market.NewService(st, time.UTC, time.Now, func() string { return "a" }, market.Settings{CatalogTTL: time.Hour})
	redeemed := map[string]market.Redemption{}
	fan := market.Item{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 30, Shards: 3, PickupLocation: "x"}
	if err := st.PutItem(ctx, fan, true); err != nil {
		t.Fatal(err)
	}
	if err := redeemKey(svc, u, redeemed, "f1", "fan", 1); err != nil { // fills the catalog cache
		t.Fatal(err)
	}
	shardActive := func(n int) (bool, bool) {
		out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#fan"}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("STOCK#%d", n)}}})
		if err != nil {
			t.Fatal(err)
		}
		v, ok := out.Item["active"].(*types.AttributeValueMemberBOOL)
		return ok && v.Value, ok
	}

	retired := fan
	retired.Active = false
	if err := st.PutItem(ctx, retired, true); err != nil {
		t.Fatal(err)
	}
	for i := range 6 { // whichever shard is drawn
		if err := redeemKey(svc, u, redeemed, fmt.Sprint("r", i), "fan", 1); !errors.Is(err, market.ErrItemUnavailable) {
			t.Fatalf("retired behind the cache: %v, want item_unavailable", err)
		}
	}

	one := fan
	one.Shards = 1
	if err := st.PutItem(ctx, one, true); err != nil {
		t.Fatal(err)
	}
	for n, want := range []bool{true, false, false} {
		if got, ok := shardActive(n); !ok || got != want {
			t.Errorf("after shrinking to 1 shard: shard %d active=%v (set %v), want %v", n, got, ok, want)
		}
	}
	for i := range 6 { // the cache still says 3 shards: a draw of 1 or 2 is refused as retired
		err := redeemKey(svc, u, redeemed, fmt.Sprint("s", i), "fan", 1)
		if err != nil && !errors.Is(err, market.ErrItemUnavailable) {
			t.Fatalf("shrunk behind the cache: %v", err)
		}
	}

	// A shard as written before shards carried the flag: sold from, and refused once the catalog item
	// is retired (its ConditionCheck).
	legacy := func() {
		t.Helper()
		if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, UpdateExpression: aws.String("REMOVE active"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#fan"}, "sk": &types.AttributeValueMemberS{Value: "STOCK#0"}}}); err != nil {
			t.Fatal(err)
		}
	}
	fresh := market.NewService(st, time.UTC, time.Now, func() string { return "a" }, market.Settings{CatalogTTL: time.Hour})
	legacy()
	if err := redeemKey(fresh, u, redeemed, "l1", "fan", 1); err != nil {
		t.Fatalf("legacy shard: %v", err)
	}
	if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, UpdateExpression: aws.String("SET active = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}},
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#fan"}, "sk": &types.AttributeValueMemberS{Value: "ITEM"}}}); err != nil {
		t.Fatal(err)
	}
	if err := redeemKey(fresh, u, redeemed, "l2", "fan", 1); !errors.Is(err, market.ErrItemUnavailable) {
		t.Fatalf("legacy shard of a retired item: %v, want item_unavailable", err)
	}
	if _, ok := shardActive(0); ok {
		t.Errorf("the legacy shard got a flag without a restock")
	}
}

// The expiry sweep's reads: an item's redemptions oldest first, from after a position and before a
// time, a page at a time; its checkpoint only moves forward.
func TestReservationsPageFromACheckpoint(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	st := e.plain
	ctx := context.Background()
	fan := market.Item{ID: "fan", Kind: market.Goods, NameZH: "扇子", Active: true, Cost: 1, Stock: 30, PickupLocation: "x"}
	if err := st.PutItem(ctx, fan, true); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clk := &clock{t: t0}
	svc := market.NewService(st, time.UTC, clk.now, func() string { return "a" }, market.Settings{})
	u := auth.Principal{Sub: "sweep-user", Groups: []auth.Role{auth.Citizen}}
	credit(t, st, u.Sub, 100, t0)
	var made []string
	for i := range 5 {
		clk.t = t0.Add(time.Duration(i) * time.Hour)
		r, err := svc.Redeem(ctx, u, fmt.Sprint("k", i), []byte("{}"), market.Request{ItemID: "fan"})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, r.ID)
	}
	list := func(after string, before time.Time) (ids, pos []string, pages int) {
		t.Helper()
		cursor := ""
		for {
			page, next, err := st.Reservations(ctx, "fan", after, before, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range page {
				ids, pos = append(ids, r.ID), append(pos, r.Pos)
			}
			if next == "" {
				return ids, pos, pages
			}
			cursor = next
		}
	}
	all, pos, pages := list("", t0.AddDate(0, 1, 0))
	if fmt.Sprint(all) != fmt.Sprint(made) || pages < 3 {
		t.Fatalf("listed %v in %d pages, want %v oldest first in pages of 2", all, pages, made)
	}
	if ids, _, _ := list(pos[1], t0.AddDate(0, 1, 0)); fmt.Sprint(ids) != fmt.Sprint(made[2:]) {
		t.Errorf("after the 2nd: %v, want %v", ids, made[2:])
	}
	if ids, _, _ := list(pos[1], t0.Add(3*time.Hour)); fmt.Sprint(ids) != fmt.Sprint(made[2:3]) {
		t.Errorf("after the 2nd, made before 3 h: %v, want %v", ids, made[2:3])
	}
	if ids, _, _ := list(pos[4], t0.Add(time.Hour)); len(ids) != 0 {
		t.Errorf("after the last, before the 2nd: %v, want none", ids)
	}
	for _, p := range []string{pos[3], pos[1]} {
		if err := st.PutPickupCheckpoint(ctx, "fan", p); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.PickupCheckpoint(ctx, "fan"); err != nil || got != pos[3] {
		t.Errorf("checkpoint %q (%v), want %q: it never moves back", got, err, pos[3])
	}
}
