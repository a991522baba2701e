package market_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/market"
)

// planStore records the plans it is asked to write.
type planStore struct {
	fakeStore
	plans []market.Plan
}

func (s *planStore) Redeem(_ context.Context, p market.Plan) error {
	s.plans = append(s.plans, p)
	return nil
}

func (s *planStore) IsDonor(context.Context, string, string) (bool, error) { return false, nil }

// A redemption's quantity and amount are checked per kind before anything is written: a quantity sent as
// 0 is not read as 1, and a negative one is refused for every kind (it was charged for honor, charity and
// credit).
func TestRedeemChecksQuantityAndAmount(t *testing.T) {
	items := []market.Item{
		{ID: "rice", Kind: market.Goods, NameZH: "大米", Active: true, Cost: 60, Stock: 100},
		{ID: "hero", Kind: market.Honor, NameZH: "荣誉", Active: true, Cost: 200, Title: "热心市民"},
		{ID: "books", Kind: market.Charity, NameZH: "图书角", Active: true, MinAmount: 10},
		{ID: "credit", Kind: market.Credit, NameZH: "信用", Active: true, Rate: 50},
	}
	tests := []struct {
		body string
		cost int64 // 0: refused with invalid_redemption
	}{
		{`{"itemId":"rice"}`, 60},
		{`{"itemId":"rice","quantity":3}`, 180},
		{`{"itemId":"rice","quantity":10}`, 600},
		{`{"itemId":"rice","quantity":0}`, 0},
		{`{"itemId":"rice","quantity":-1}`, 0},
		{`{"itemId":"rice","quantity":11}`, 0},
		{`{"itemId":"rice","amount":0}`, 0},
		{`{"itemId":"rice","amount":60}`, 0},
		{`{"itemId":"hero"}`, 200},
		{`{"itemId":"hero","quantity":1}`, 200},
		{`{"itemId":"hero","quantity":0}`, 0},
		{`{"itemId":"hero","quantity":-1}`, 0},
		{`{"itemId":"hero","quantity":2}`, 0},
		{`{"itemId":"hero","amount":0}`, 0},
		{`{"itemId":"books","amount":10}`, 10},
		{`{"itemId":"books","amount":25,"quantity":1}`, 25},
		{`{"itemId":"books","amount":100000}`, 100000},
		{`{"itemId":"books"}`, 0},
		{`{"itemId":"books","amount":9}`, 0},
		{`{"itemId":"books","amount":-10}`, 0},
		{`{"itemId":"books","amount":100001}`, 0},
		{`{"itemId":"books","amount":10,"quantity":-1}`, 0},
		{`{"itemId":"books","amount":10,"quantity":0}`, 0},
		{`{"itemId":"credit","amount":100}`, 100},
		{`{"itemId":"credit","amount":75}`, 0},
		{`{"itemId":"credit","amount":-50}`, 0},
		{`{"itemId":"credit","amount":0}`, 0},
		{`{"itemId":"credit","amount":50,"quantity":-5}`, 0},
		{`{"itemId":"credit"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			st := &planStore{fakeStore: fakeStore{items: items}}
			svc := market.NewService(st, time.UTC, time.Now, func() string { return "r1" }, market.Settings{})
			var req market.Request
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			red, err := svc.Redeem(context.Background(), citizen, "k1", []byte(tt.body), req)
			if tt.cost == 0 {
				if !errors.Is(err, market.ErrInvalidRequest) {
					t.Fatalf("err = %v, want invalid_redemption", err)
				}
				if len(st.plans) != 0 {
					t.Fatalf("a refused request wrote %d plans", len(st.plans))
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(st.plans) != 1 || st.plans[0].Cost != tt.cost || red.Amount != tt.cost {
				t.Fatalf("plans %d, cost %v, amount %d; want one plan costing %d", len(st.plans), st.plans, red.Amount, tt.cost)
			}
		})
	}
}
