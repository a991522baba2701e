package redeemfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/market"
)

// TestVerifyBeforeHandover: against moto, the counter's look answers what to hand over and writes nothing;
// a pickup that cannot happen answers the code of its redemption's status, look and handover alike, and
// neither writes.
func TestVerifyBeforeHandover(t *testing.T) {
	it := goods("kettle", 4, 10, 1)
	it.NameZH, it.NameEN, it.PickupLocation = "电水壶", "Kettle", "文澜社区超市"
	h := newHarness(t, it)
	u := citizen("u-verify")
	h.give(u.sub, 40)
	reds := make([]market.Redemption, 4)
	for i := range reds {
		reds[i] = h.must(h.redeem(u, fmt.Sprint("k", i), redeemBody(it.ID, 2, 0))).redemption()
	}

	before := h.scan()
	r := h.must(h.verify(reds[0].ID, reds[0].PickupCode))
	if r.Status != 200 {
		t.Fatalf("verify: %s", r)
	}
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": reds[0].ID, "itemId": "kettle", "nameZh": "电水壶", "nameEn": "Kettle", "quantity": 2.0, "amount": 8.0,
		"pickupLocation": "文澜社区超市", "status": "reserved", "createdAt": reds[0].CreatedAt.Format(time.RFC3339Nano),
		"expiresAt": reds[0].ExpiresAt.Format(time.RFC3339Nano)}
	if fmt.Sprint(v) != fmt.Sprint(want) {
		t.Errorf("verify answered %s\nwant %v", r.Body, want)
	}
	if strings.Contains(string(r.Body), u.sub) || strings.Contains(string(r.Body), reds[0].PickupCode) {
		t.Errorf("verify answered the citizen or the code: %s", r.Body)
	}
	if after := h.scan(); !slices.Equal(before, after) {
		t.Error("verify with the right code wrote to the table")
	}

	// reds[1] collected, reds[2] cancelled, reds[3] expired by the sweep (a month later).
	if r := h.must(h.fulfil(reds[1].ID, reds[1].PickupCode)); r.Status != 200 {
		t.Fatalf("fulfil: %s", r)
	}
	if r := h.must(h.cancel(u, reds[2].ID)); r.Status != 200 {
		t.Fatalf("cancel: %s", r)
	}
	later := func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	sweeper := market.NewService(h.store, tz, later, func() string { return "sweep" }, market.Settings{})
	if _, err := sweeper.ExpireReservations(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The sweep expired reds[0] too (its window ended as well): reds[3]'s code and reds[0]'s say so.
	tests := []struct {
		name string
		red  market.Redemption
		code string
	}{
		{"collected", reds[1], "already_collected"},
		{"cancelled", reds[2], "redemption_cancelled"},
		{"expired", reds[3], "redemption_expired"},
	}
	for _, tt := range tests {
		for _, op := range []string{"verify", "fulfil"} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				before := h.scan()
				send := h.fulfil
				if op == "verify" {
					send = h.verify
				}
				for _, code := range []string{tt.red.PickupCode, wrongCode(tt.red.PickupCode, 1)} {
					if r := h.must(send(tt.red.ID, code)); r.Status != 409 || r.code() != tt.code {
						t.Errorf("%s: %s, want 409 %s", op, r, tt.code)
					}
				}
				if after := h.scan(); !slices.Equal(before, after) {
					t.Error("the table changed")
				}
			})
		}
	}
	h.checkBooks([]string{u.sub})
}

// TestVerifyWrongCodesLock: wrong codes at the look count toward the lock with the handover's; the fifth,
// whichever sent it, locks the redemption, and the right code then shows nothing.
func TestVerifyWrongCodesLock(t *testing.T) {
	it := goods("cup", 3, 10, 1)
	h := newHarness(t, it)
	u := citizen("u-verify-lock")
	h.give(u.sub, 30)
	red := h.must(h.redeem(u, "k", redeemBody(it.ID, 0, 0))).redemption()
	sends := []func(string, string) (response, error){h.verify, h.fulfil, h.verify, h.verify}
	for n, send := range sends {
		if r := h.must(send(red.ID, wrongCode(red.PickupCode, n))); r.Status != 400 || r.code() != "wrong_pickup_code" {
			t.Fatalf("wrong code %d: %s", n+1, r)
		}
		if got := h.redemption(red.ID).WrongCodes; got != n+1 {
			t.Fatalf("after wrong code %d: %d counted", n+1, got)
		}
	}
	if r := h.must(h.verify(red.ID, wrongCode(red.PickupCode, 5))); r.Status != 409 || r.code() != "redemption_locked" {
		t.Fatalf("fifth wrong code at the look: %s", r)
	}
	for _, send := range []func(string, string) (response, error){h.verify, h.fulfil} {
		if r := h.must(send(red.ID, red.PickupCode)); r.Status != 409 || r.code() != "redemption_locked" {
			t.Fatalf("right code after the lock: %s", r)
		}
	}
	if got := h.redemption(red.ID); got.Status != market.Locked || got.WrongCodes != 5 {
		t.Errorf("redemption %s with %d wrong codes, want locked with 5", got.Status, got.WrongCodes)
	}
	// Refused before it reads: another role, bad input.
	for _, c := range []struct {
		who    caller
		body   string
		status int
		code   string
	}{
		{u, `{"pickupCode":"123456"}`, 403, "forbidden"},
		{clerk, `{"pickupCode":"12 34"}`, 400, "invalid_field"},
		{clerk, `{"code":"123456"}`, 400, "invalid_json"},
	} {
		before := h.scan()
		r := h.must(h.call(h.fn, c.who, "POST", "POST /v1/redemptions/{id}/verify", "/v1/redemptions/"+red.ID+"/verify", []byte(c.body), nil))
		if r.Status != c.status || r.code() != c.code {
			t.Errorf("%s as %s: %s, want %d %s", c.body, c.who.sub, r, c.status, c.code)
		}
		if after := h.scan(); !slices.Equal(before, after) {
			t.Errorf("%s: the table changed", c.body)
		}
	}
	h.checkBooks([]string{u.sub})
}
