package sweeperfn_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/sweeper/sweeperfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
)

// The "about to expire" notice against moto, through the sweeper: goods still reserved whose pickup ends
// within PICKUP_EXPIRY_NOTICE_HOURS get one inbox notice and, for a redeemer with a device, one push
// message on the outbox; goods picked up, and goods with days left, get none. A second sweep (and a
// third with the clock 2 h on) writes no notice and queues no push, and reads only from the walk's
// checkpoint.
func TestExpiryNoticeOncePerRedemption(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	ctx := context.Background()
	now := time.Now()
	made := now.Add(-30*24*time.Hour + 20*time.Hour) // the pickup ends in 20 hours
	b := e.Base("SweeperFunction", nil, nil)
	clock := made
	m := market.NewService(e.Store, b.TZ, func() time.Time { return clock }, platform.NewID, market.Settings{})
	if _, err := m.PutItem(ctx, "umbrella", market.Item{Kind: market.Goods, NameZH: "雨伞", Active: true, Cost: 5, Stock: 10, Shards: 1, PickupLocation: "市民中心"}); err != nil {
		t.Fatal(err)
	}
	const sub, other = "u-expiring", "u-pickedup"
	for _, s := range []string{sub, other} {
		p, err := e.Store.Profile(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		a, np, entry := points.Grant(p, "seed-"+s, points.RuleConfirm, 100, 0, points.Rules{DailyCap: 1 << 40, MonthlyCap: 1 << 40}, made.Add(-time.Hour), b.TZ)
		if err := e.Store.ApplyAward(ctx, a, np, p.Version, entry); err != nil {
			t.Fatal(err)
		}
	}
	redeem := func(who, key string) market.Redemption {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"itemId": "umbrella"})
		r, err := m.Redeem(ctx, auth.Principal{Sub: who, Groups: []auth.Role{auth.Citizen}}, key, body, market.Request{ItemID: "umbrella"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	due := redeem(sub, "due")
	picked := redeem(other, "picked")
	if _, err := m.Fulfil(ctx, auth.Principal{Sub: "clerk", Groups: []auth.Role{auth.Clerk}}, picked.ID, picked.PickupCode); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(-24 * time.Hour) // made yesterday: 29 days left
	fresh := redeem(sub, "fresh")
	if err := e.Store.PutDevice(ctx, sub, notify.Device{ID: "phone", Platform: notify.FCM, Token: "fcm-token-expiring", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	e.Drain(e.OutboxURL)

	sweep := func(at time.Time) {
		t.Helper()
		sb := e.Base("SweeperFunction", nil, nil)
		sb.Now = func() time.Time { return at }
		fn, err := sweeperfn.New(sb)
		if err != nil {
			t.Fatal(err)
		}
		e.Calls.Reset()
		if err := fn.Handle(ctx, json.RawMessage(`{}`)); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		t.Logf("sweep: %v", e.Calls.Snapshot())
	}
	sweep(now)
	notices := func(who string) []notify.Notice {
		t.Helper()
		ns, _, err := e.Store.Notices(ctx, who, 50, "", now)
		if err != nil {
			t.Fatal(err)
		}
		var out []notify.Notice
		for _, n := range ns {
			if n.Kind == notify.PickupExpiring {
				out = append(out, n)
			}
		}
		return out
	}
	got := notices(sub)
	if len(got) != 1 || got[0].RedemptionID != due.ID || got[0].PickupLocation != "市民中心" || !got[0].ExpiresAt.Equal(*due.ExpiresAt) {
		t.Fatalf("notices %+v, want one for %s (not %s)", got, due.ID, fresh.ID)
	}
	if n := notices(other); len(n) != 0 {
		t.Errorf("goods picked up were told they expire: %+v", n)
	}
	pushes := e.Drain(e.OutboxURL)
	if len(pushes) != 1 || pushes[0].Type != notify.PushType || pushes[0].ID != "push_"+got[0].ID {
		t.Fatalf("outbox %+v, want one push of %s", pushes, got[0].ID)
	}
	if cp := e.Item("ITEM#umbrella", "PICKUPWARNED"); cp == nil {
		t.Error("the walk left no checkpoint")
	}

	for i, at := range []time.Time{now, now.Add(2 * time.Hour)} {
		sweep(at)
		if n := notices(sub); len(n) != 1 {
			t.Errorf("sweep %d: %d notices, want still 1", i+2, len(n))
		}
		if ns := e.Drain(e.OutboxURL); len(ns) != 0 {
			t.Errorf("sweep %d queued %d messages", i+2, len(ns))
		}
		if puts := e.Calls.Snapshot()["DynamoDB.PutItem"]; puts != 0 {
			t.Errorf("sweep %d made %d PutItem calls: nothing new is due", i+2, puts)
		}
	}
}
