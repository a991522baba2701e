package market_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/market"
)

// pickupStore holds one redemption and counts wrong codes as the store does (the LockAfter-th locks it);
// writes counts every write.
type pickupStore struct {
	market.Store
	items  []market.Item
	red    market.Redemption
	writes map[string]int
}

func (p *pickupStore) Items(context.Context) ([]market.Item, error) { return p.items, nil }

func (p *pickupStore) Redemption(_ context.Context, id string) (market.Redemption, error) {
	if id != p.red.ID {
		return market.Redemption{}, market.ErrNotFound
	}
	return p.red, nil
}

func (p *pickupStore) WrongCode(_ context.Context, _ market.Redemption, _ string, lockAt int) (bool, error) {
	p.writes["wrongCode"]++
	if p.red.Status != market.Reserved {
		return false, market.NotFulfillable(p.red.Status)
	}
	p.red.WrongCodes++
	if p.red.WrongCodes >= lockAt {
		p.red.Status = market.Locked
	}
	return p.red.Status == market.Locked, nil
}

func (p *pickupStore) Complete(context.Context, market.Redemption, time.Time, string) error {
	p.writes["complete"]++
	p.red.Status = market.Completed
	return nil
}

var clerk = auth.Principal{Sub: "c1", Groups: []auth.Role{auth.Clerk}}

func newPickup(status market.Status) (*pickupStore, *market.Service) {
	exp := time.Date(2026, 12, 30, 4, 0, 0, 0, time.UTC)
	st := &pickupStore{
		items: []market.Item{{ID: "tea", Kind: market.Goods, NameZH: "茶叶", NameEN: "Tea", Active: true, Cost: 10, Stock: 5, PickupLocation: "文澜超市"}},
		red: market.Redemption{ID: "r1", Sub: "u1", ItemID: "tea", Kind: market.Goods, Quantity: 2, Amount: 20, Status: status,
			PickupCode: "123456", PickupAt: "文澜超市", CreatedAt: exp.Add(-30 * 24 * time.Hour), ExpiresAt: &exp},
		writes: map[string]int{},
	}
	n := 0
	return st, market.NewService(st, time.UTC, time.Now, func() string { n++; return fmt.Sprint("a", n) }, market.Settings{})
}

// Each status a redemption cannot be picked up in has its own code, for the look and the handover alike,
// and neither writes for them.
func TestPickupRefusalsByStatus(t *testing.T) {
	tests := []struct {
		status market.Status
		want   *apperr.Error
		code   string
	}{
		{market.Completed, market.ErrCollected, "already_collected"},
		{market.Expired, market.ErrExpired, "redemption_expired"},
		{market.Cancelled, market.ErrCancelled, "redemption_cancelled"},
		{market.Locked, market.ErrLocked, "redemption_locked"},
		{market.Status("mislaid"), market.ErrNotFulfillable, "not_fulfillable"},
	}
	for _, tt := range tests {
		for name, call := range map[string]func(*market.Service) error{
			"verify": func(s *market.Service) error { _, err := s.Verify(t.Context(), clerk, "r1", "123456"); return err },
			"fulfil": func(s *market.Service) error { _, err := s.Fulfil(t.Context(), clerk, "r1", "123456"); return err },
			"verify with a wrong code": func(s *market.Service) error {
				_, err := s.Verify(t.Context(), clerk, "r1", "000000")
				return err
			},
		} {
			t.Run(string(tt.status)+"/"+name, func(t *testing.T) {
				st, svc := newPickup(tt.status)
				err := call(svc)
				if !errors.Is(err, tt.want) || apperr.As(err).Code != tt.code || apperr.KindOf(err) != apperr.Conflict {
					t.Fatalf("%v, want %s (409)", err, tt.code)
				}
				if len(st.writes) != 0 {
					t.Errorf("writes %v, want none", st.writes)
				}
			})
		}
	}
}

// The look answers what to hand over — and nothing of the citizen, nor the code — and writes nothing.
func TestVerifyShowsWhatToHandOver(t *testing.T) {
	st, svc := newPickup(market.Reserved)
	v, err := svc.Verify(t.Context(), clerk, "r1", "123456")
	if err != nil {
		t.Fatal(err)
	}
	want := market.Pickup{ID: "r1", ItemID: "tea", NameZH: "茶叶", NameEN: "Tea", Quantity: 2, Amount: 20, PickupLocation: "文澜超市",
		Status: market.Reserved, CreatedAt: st.red.CreatedAt, ExpiresAt: st.red.ExpiresAt}
	if fmt.Sprint(v) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", v, want)
	}
	b, _ := json.Marshal(v)
	for _, leak := range []string{"u1", "sub", "123456", "pickupCode"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the answer %s carries %q", b, leak)
		}
	}
	if len(st.writes) != 0 || st.red.Status != market.Reserved {
		t.Errorf("writes %v, status %s; want none and reserved", st.writes, st.red.Status)
	}
	// It can be looked at again, and then handed over.
	if _, err := svc.Verify(t.Context(), clerk, "r1", "123456"); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Fulfil(t.Context(), clerk, "r1", "123456"); err != nil || r.Status != market.Completed {
		t.Fatalf("fulfil after the look: %+v, %v", r, err)
	}
	if _, err := svc.Verify(t.Context(), clerk, "r1", "123456"); !errors.Is(err, market.ErrCollected) {
		t.Errorf("the look after the handover: %v, want already_collected", err)
	}
}

// A wrong code at the look counts toward the lock as one at the handover does: looks and handovers
// together lock it at the fifth, so the look is no way to guess codes.
func TestVerifyWrongCodesLock(t *testing.T) {
	st, svc := newPickup(market.Reserved)
	tries := []func() error{
		func() error { _, err := svc.Verify(t.Context(), clerk, "r1", "000001"); return err },
		func() error { _, err := svc.Fulfil(t.Context(), clerk, "r1", "000002"); return err },
		func() error { _, err := svc.Verify(t.Context(), clerk, "r1", "000003"); return err },
		func() error { _, err := svc.Verify(t.Context(), clerk, "r1", "000004"); return err },
	}
	for i, try := range tries {
		if err := try(); !errors.Is(err, market.ErrWrongCode) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	if _, err := svc.Verify(t.Context(), clerk, "r1", "000005"); !errors.Is(err, market.ErrLocked) {
		t.Fatalf("fifth wrong code: %v, want redemption_locked", err)
	}
	if st.writes["wrongCode"] != 5 || st.red.Status != market.Locked {
		t.Errorf("%d counted, %s; want 5 and locked", st.writes["wrongCode"], st.red.Status)
	}
	// The right code no longer helps.
	if _, err := svc.Verify(t.Context(), clerk, "r1", "123456"); !errors.Is(err, market.ErrLocked) {
		t.Errorf("the right code after the lock: %v", err)
	}
}

func TestVerifyNeedsAClerk(t *testing.T) {
	for _, p := range []auth.Principal{citizen, {Sub: "s1", Groups: []auth.Role{auth.Staff}}, {}} {
		st, svc := newPickup(market.Reserved)
		if _, err := svc.Verify(t.Context(), p, "r1", "000000"); err == nil {
			t.Errorf("%+v verified", p)
		}
		if len(st.writes) != 0 {
			t.Errorf("%+v: writes %v", p, st.writes)
		}
	}
	_, svc := newPickup(market.Reserved)
	if _, err := svc.Verify(t.Context(), clerk, "nope", "123456"); !errors.Is(err, market.ErrNotFound) {
		t.Errorf("unknown redemption: %v", err)
	}
}

// An item gone from the catalog still leaves its id: the look does not fail for it.
func TestVerifyItemGoneFromTheCatalog(t *testing.T) {
	st, svc := newPickup(market.Reserved)
	st.items = nil
	v, err := svc.Verify(context.Background(), clerk, "r1", "123456")
	if err != nil || v.ItemID != "tea" || v.NameZH != "" {
		t.Errorf("%+v, %v", v, err)
	}
}
