package market_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/market"
)

// Finding 4 of issue 10, the redemption path: a transaction conflict (nothing written) is sent again a
// few times within the request, then answered 503 write_conflict with Retry-After — never 409
// request_in_flight, which is about the Idempotency-Key; throttling is answered 503 throttled at once.

// contendedStore answers each write with the next of its failures, then succeeds; calls counts the writes.
type contendedStore struct {
	market.Store
	failures []error
	calls    map[string]int
	expired  []market.Redemption
}

func (c *contendedStore) next(op string) error {
	c.calls[op]++
	if len(c.failures) == 0 {
		return nil
	}
	err := c.failures[0]
	c.failures = c.failures[1:]
	return err
}

func (c *contendedStore) Items(context.Context) ([]market.Item, error) {
	return []market.Item{{ID: "tea", Kind: market.Goods, NameZH: "茶", Active: true, Cost: 10, Stock: 5, Shards: 1}}, nil
}

func (c *contendedStore) Redeem(context.Context, market.Plan) error { return c.next("redeem") }

func (c *contendedStore) Redemption(_ context.Context, id string) (market.Redemption, error) {
	return market.Redemption{ID: id, Sub: "u1", ItemID: "tea", Kind: market.Goods, Quantity: 1, Amount: 10, Status: market.Reserved, PickupCode: "123456"}, nil
}

func (c *contendedStore) Refund(context.Context, market.Refund) error { return c.next("refund") }

func (c *contendedStore) WrongCode(context.Context, market.Redemption, string, int) (bool, error) {
	return false, c.next("wrongCode")
}

func (c *contendedStore) Complete(context.Context, market.Redemption, time.Time, string) error {
	return c.next("complete")
}

func (c *contendedStore) Reservations(_ context.Context, _, after string, _ time.Time, _ int, _ string) ([]market.Reservation, string, error) {
	if after != "" {
		return nil, "", nil
	}
	var out []market.Reservation
	for _, r := range c.expired {
		out = append(out, market.Reservation{Redemption: r, Pos: r.ID})
	}
	return out, "", nil
}

func (c *contendedStore) PickupCheckpoint(context.Context, string) (string, error) { return "", nil }

func (c *contendedStore) PutPickupCheckpoint(context.Context, string, string) error { return nil }

var (
	contention = apperr.ErrContention.Wrap(errors.New("TransactionCanceledException: [None, TransactionConflict]"))
	throttled  = apperr.ErrThrottled.Wrap(errors.New("ProvisionedThroughputExceededException"))
)

func TestRequestPathsUnderContention(t *testing.T) {
	clerk := auth.Principal{Sub: "c1", Groups: []auth.Role{auth.Clerk}}
	ops := map[string]func(*market.Service) error{
		"redeem": func(svc *market.Service) error {
			q := int64(1)
			_, err := svc.Redeem(context.Background(), citizen, "k1", []byte(`{"itemId":"tea"}`), market.Request{ItemID: "tea", Quantity: &q})
			return err
		},
		"refund": func(svc *market.Service) error {
			_, err := svc.Cancel(context.Background(), citizen, "r1")
			return err
		},
		"complete": func(svc *market.Service) error {
			_, err := svc.Fulfil(context.Background(), clerk, "r1", "123456")
			return err
		},
		"wrongCode": func(svc *market.Service) error {
			_, err := svc.Fulfil(context.Background(), clerk, "r1", "000000")
			if errors.Is(err, market.ErrWrongCode) {
				return nil // counted: the answer a wrong code gets
			}
			return err
		},
	}
	// The counter's look before the handover counts a wrong code through the same write.
	verify := func(svc *market.Service) error {
		_, err := svc.Verify(context.Background(), clerk, "r1", "000000")
		if errors.Is(err, market.ErrWrongCode) {
			return nil
		}
		return err
	}
	tests := []struct {
		name      string
		failures  []error
		want      error // nil: success
		wantCalls int
	}{
		{"one conflict, then through", []error{contention}, nil, 2},
		{"two conflicts, then through", []error{contention, contention}, nil, 3},
		{"conflicts outlast the tries", []error{contention, contention, contention, contention}, apperr.ErrContention, 3},
		{"throttled: not retried here", []error{throttled}, apperr.ErrThrottled, 1},
		{"unknown outcome: not retried here", []error{apperr.ErrOutcomeUnknown}, apperr.ErrOutcomeUnknown, 1},
	}
	cases := map[string]struct {
		op  string
		run func(*market.Service) error
	}{"verify": {"wrongCode", verify}}
	for op, run := range ops {
		cases[op] = struct {
			op  string
			run func(*market.Service) error
		}{op, run}
	}
	for name, c := range cases {
		op, run := c.op, c.run
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				c := &contendedStore{failures: append([]error(nil), tt.failures...), calls: map[string]int{}}
				n := 0
				svc := market.NewService(c, time.UTC, time.Now, func() string { n++; return fmt.Sprint("id", n) }, market.Settings{})
				err := run(svc)
				if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("%v, want %v", err, tt.want)
				}
				if errors.Is(err, idem.ErrInFlight) {
					t.Errorf("a conflict answered as request_in_flight")
				}
				if tt.want != nil && apperr.As(err).RetryAfter <= 0 {
					t.Errorf("%v carries no Retry-After", err)
				}
				if c.calls[op] != tt.wantCalls {
					t.Errorf("%d writes, want %d", c.calls[op], tt.wantCalls)
				}
			})
		}
	}
}

// The expiry sweep skips a refund that fails transiently, expires the others and reports the skipped one
// (the schedule retries the run).
func TestExpireReservationsSkipsTransientFailures(t *testing.T) {
	late := []market.Redemption{{ID: "a", Status: market.Reserved}, {ID: "b", Status: market.Reserved}, {ID: "c", Status: market.Reserved}}
	c := &contendedStore{failures: []error{nil, throttled}, calls: map[string]int{}, expired: late}
	svc := market.NewService(c, time.UTC, time.Now, func() string { return "x" }, market.Settings{})
	n, err := svc.ExpireReservations(context.Background())
	if n != 2 || !errors.Is(err, apperr.ErrThrottled) {
		t.Errorf("expired %d, %v; want 2 and the throttled refund reported", n, err)
	}
}
