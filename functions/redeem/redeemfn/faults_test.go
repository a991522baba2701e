package redeemfn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/redeem/redeemfn"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Exactly once under faults (issue 10): redemptions, refunds and restocks (cancel), pickups and wrong-code
// counts, run through the redeem function while infra/faults fails at least one DynamoDB call in ten —
// transaction conflicts, throttling, answers lost after the write was applied (the SDK re-sends) and calls
// that take until the invocation's deadline. A client sends each action again after a 5xx (a redemption
// with the same Idempotency-Key; a cancel or pickup after reading back whether the lost one took effect),
// as the app and make demo do. The run is sequential, so the seed (logged; CIVICSNAP_FAULT_SEED) replays
// it call for call.
//
// Then: no double spend, refund or restock; no balance below zero, at any moment; every ledger sums to
// its balance; each key made one redemption; a refused redemption wrote nothing; each wrong code counted
// once; and faults did happen.

// invocationTimeout is each invocation's deadline, as Lambda's context carries it (the Deadline fault
// waits for it).
const invocationTimeout = 800 * time.Millisecond

func newInjector(t *testing.T) *faults.Injector { return faults.ForTest(t, faultsPerTen) }

// callBy is harness.call with the deadline Lambda gives an invocation.
func (h *harness) callBy(fn *redeemfn.Function, c caller, method, routeKey, path string, body []byte, headers map[string]string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	claims := map[string]string{"sub": c.sub, "cognito:groups": c.groups}
	ev := gateway.Event(req, body, routeKey, claims)
	if strings.Contains(routeKey, "{id}") {
		ev.PathParameters = map[string]string{"id": strings.Split(path, "/")[3]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), invocationTimeout)
	defer cancel()
	resp, err := fn.Handle(ctx, ev)
	if err != nil {
		h.t.Fatalf("%s %s: handler error %v", method, path, err)
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	return response{Status: resp.StatusCode, Body: b}
}

// retryable says whether a client sends the request again: a 5xx the service says may be retried. A 500
// is a bug (an error nobody mapped) and fails the test.
func (h *harness) retryable(what string, r response) bool {
	h.t.Helper()
	if r.Status == 500 {
		h.t.Errorf("%s: %s", what, r)
	}
	return r.Status >= 500
}

const maxSends = 20

// actions is how many client actions a suite runs; faultsPerTen how many DynamoDB calls in every ten fail.
const (
	actions      = 60
	faultsPerTen = 2
)

func TestExactlyOnceUnderFaults(t *testing.T) {
	inj := newInjector(t)
	tea, fan := goods("tea", 7, 12, 1), goods("fan", 3, 20, 4)
	h := newHarnessWith(t, testenv.Options{WrapHTTP: inj.Wrap}, tea, fan)
	users := []string{"fu1", "fu2", "fu3"}
	const initial = 60
	h.giveAll(users, initial)
	rng := rand.New(rand.NewPCG(inj.Seed(), 1))

	type held struct {
		id, code, sub string
		wrong         int // wrong codes this test sent and saw counted
	}
	var (
		keys     = map[string]string{} // idempotency key -> redemption id (201)
		refused  = map[string]string{} // key -> refusal code
		owner    = map[string]string{} // key -> sub
		reserved []held
		sends    int
	)
	redeem := func(sub, key string, it market.Item, q int64) {
		owner[key] = sub
		body := redeemBody(it.ID, q, 0)
		for range maxSends {
			sends++
			r := h.callBy(h.fn, citizen(sub), "POST", "POST /v1/redemptions", "/v1/redemptions", body, map[string]string{"Idempotency-Key": key})
			switch {
			case r.Status == 201:
				red := r.redemption()
				if prev, ok := keys[key]; ok && prev != red.ID {
					t.Errorf("key %s answered redemption %s, then %s", key, prev, red.ID)
				}
				keys[key] = red.ID
				if red.Status == market.Reserved && !slices.ContainsFunc(reserved, func(x held) bool { return x.id == red.ID }) {
					reserved = append(reserved, held{id: red.ID, code: red.PickupCode, sub: sub})
				}
				return
			case r.Status == 409 && r.code() == "request_in_flight":
				time.Sleep(50 * time.Millisecond) // a lost send still holds the key; it settles
			case h.retryable("redeem "+key, r):
			default:
				refused[key] = r.code()
				return
			}
		}
		t.Errorf("redeem %s: no answer after %d sends", key, maxSends)
	}
	// settle sends a keyless action until it is answered, reading back after a 5xx whether the lost one
	// took effect (done).
	settle := func(what string, send func() response, done func() bool) response {
		for range maxSends {
			sends++
			r := send()
			if !h.retryable(what, r) {
				return r
			}
			if done() {
				return response{Status: 200}
			}
		}
		t.Errorf("%s: no answer after %d sends", what, maxSends)
		return response{}
	}

	for i := range actions {
		switch op := rng.IntN(10); {
		case op < 5 || len(reserved) == 0:
			it := []market.Item{tea, fan}[rng.IntN(2)]
			redeem(users[rng.IntN(len(users))], fmt.Sprintf("k%d", i), it, int64(1+rng.IntN(2)))
		case op < 7: // cancel: refund and restock
			x := reserved[rng.IntN(len(reserved))]
			r := settle("cancel "+x.id, func() response {
				return h.callBy(h.fn, citizen(x.sub), "POST", "POST /v1/redemptions/{id}/cancel", "/v1/redemptions/"+x.id+"/cancel", nil, nil)
			}, func() bool { return h.redemption(x.id).Status == market.Cancelled })
			if r.Status != 200 {
				t.Errorf("cancel %s: %s", x.id, r)
			}
			reserved = slices.DeleteFunc(reserved, func(y held) bool { return y.id == x.id })
		case op < 9: // a wrong pickup code
			k := rng.IntN(len(reserved))
			x := &reserved[k]
			id := x.id
			before := h.redemption(id).WrongCodes
			r := settle("wrong code "+x.id, func() response {
				return h.callBy(h.fn, clerk, "POST", "POST /v1/redemptions/{id}/fulfil", "/v1/redemptions/"+x.id+"/fulfil",
					[]byte(fmt.Sprintf(`{"pickupCode":%q}`, wrongCode(x.code, i))), nil)
			}, func() bool { return h.redemption(x.id).WrongCodes > before })
			x.wrong++
			if got := h.redemption(id).WrongCodes; got != before+1 {
				t.Errorf("one wrong code on %s moved the count from %d to %d", id, before, got)
			}
			if r.code() == "redemption_locked" || h.redemption(id).Status == market.Locked {
				reserved = slices.Delete(reserved, k, k+1) // x now points at the next one
			} else if r.Status != 400 && r.Status != 200 {
				t.Errorf("wrong code on %s: %s", id, r)
			}
		default: // the right code
			k := rng.IntN(len(reserved))
			x := reserved[k]
			r := settle("fulfil "+x.id, func() response {
				return h.callBy(h.fn, clerk, "POST", "POST /v1/redemptions/{id}/fulfil", "/v1/redemptions/"+x.id+"/fulfil",
					[]byte(fmt.Sprintf(`{"pickupCode":%q}`, x.code)), nil)
			}, func() bool { return h.redemption(x.id).Status == market.Completed })
			if r.Status != 200 {
				t.Errorf("fulfil %s: %s", x.id, r)
			}
			reserved = slices.Delete(reserved, k, k+1)
		}
	}

	// Each key made at most one redemption, and every redemption came from a key answered 201.
	made := map[string]bool{}
	for _, it := range []market.Item{tea, fan} {
		for _, r := range h.byItem(it.ID) {
			if made[r.ID] {
				t.Errorf("redemption %s listed twice", r.ID)
			}
			made[r.ID] = true
		}
	}
	for key, id := range keys {
		if !made[id] {
			t.Errorf("key %s answered %s, which does not exist", key, id)
		}
		delete(made, id)
	}
	for id := range made {
		t.Errorf("redemption %s exists but its request was never answered 201", id)
	}
	// A refused redemption wrote nothing, not even the redemption its key names (the key's record).
	for key := range refused {
		id := market.RedemptionID(owner[key], key)
		if r, err := h.store.Redemption(context.Background(), id); !errors.Is(err, market.ErrNotFound) {
			t.Errorf("refused key %s left %+v (%v)", key, r, err)
		}
	}
	// Money: each balance is the initial credit less what its live redemptions cost; the ledger holds
	// exactly one entry per redemption and per refund; no balance was ever negative.
	for _, sub := range users {
		want := int64(initial)
		entries := map[string]int{}
		for _, it := range []market.Item{tea, fan} {
			for _, r := range h.byItem(it.ID) {
				if r.Sub != sub {
					continue
				}
				entries["redemption-"+r.ID] = 1
				if r.Status == market.Cancelled || r.Status == market.Expired {
					entries["refund-"+r.ID] = 1
				} else {
					want -= r.Amount
				}
			}
		}
		if p := h.profile(sub); p.Balance != want {
			t.Errorf("%s: balance %d, want %d (initial %d less live redemptions)", sub, p.Balance, want, initial)
		}
		got := map[string]int{}
		for _, e := range h.ledger(sub) {
			if e.Kind == points.KindRedemption || e.Kind == points.KindRefund {
				got[e.ID]++
			}
		}
		for id, n := range got {
			if n != entries[id] {
				t.Errorf("%s: ledger entry %s written %d times, want %d", sub, id, n, entries[id])
			}
		}
		if len(got) != len(entries) {
			t.Errorf("%s: %d ledger entries for redemptions and refunds, want %d", sub, len(got), len(entries))
		}
		for _, b := range h.balances(sub) {
			if b < 0 {
				t.Errorf("%s: balance went to %d", sub, b)
			}
		}
	}
	h.checkBooks(users) // ledgers sum to balances; stock left + live units = initial stock
	for _, x := range reserved {
		if got := h.redemption(x.id); got.WrongCodes != x.wrong {
			t.Errorf("%s: %d wrong codes counted, %d sent", x.id, got.WrongCodes, x.wrong)
		}
	}
	st := inj.Stats()
	if st.Calls < 100 || st.Faulted() < st.Calls/10 {
		t.Errorf("faults: %v; want ≥ 100 calls and ≥ 1 in 10 faulted", st)
	}
	t.Logf("%d actions, %d sends, %d redemptions, %d refused (%v)", actions, sends, len(keys), len(refused), refused)
}
