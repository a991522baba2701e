package e2e

import (
	"fmt"
	"testing"
	"time"
)

type redemption struct {
	ID          string
	ItemID      string
	Status      string
	PickupCode  string
	Amount      int64
	CreditUnits int64
}

// TestHonorSupermarket: earn points through a resolved report, redeem goods, a clerk fulfils them, donate to
// a cause, convert points to credit (the credit platform's webhook arrives at the sink).
func TestHonorSupermarket(t *testing.T) {
	adm := login(t, "e2e-market-admin", []string{"admin"}, "")
	var rules map[string]any
	if st := adm.call("GET", "/v1/admin/point-rules", nil, nil, &rules); st != 200 {
		t.Fatalf("point rules = %d", st)
	}
	rules["categoryPoints"] = map[string]int{"illegal_building": 150}
	rules["dailyCap"] = 200
	if st := adm.call("PUT", "/v1/admin/point-rules", rules, nil, nil); st != 200 {
		t.Fatalf("put point rules = %d", st)
	}
	time.Sleep(2500 * time.Millisecond) // other containers cache configuration for CONFIG_TTL_SECONDS (2 locally)

	citizen := login(t, "e2e-market-citizen", []string{"citizen"}, "")
	id := fileReport(t, citizen, "illegal_building", "违章搭建 shed on the pavement", 23.3650, 103.4300)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
	resolveViaStaff(t, login(t, "e2e-market-housing", []string{"staff"}, "housing"), id)
	waitProfile(t, citizen, func(p profile) bool { return p.Balance == 150 })

	var catalog struct {
		Items []struct {
			ID, Kind, Availability string
			Totals                 *struct{ Total, Donors int64 }
		}
	}
	if st := (&client{t: t}).call("GET", "/v1/catalog", nil, nil, &catalog); st != 200 || len(catalog.Items) < 4 {
		t.Fatalf("catalog = %d %+v", st, catalog)
	}

	key := func(s string) map[string]string {
		return map[string]string{"Idempotency-Key": fmt.Sprint(s, "-", time.Now().UnixNano())}
	}
	var goods redemption
	k := key("umbrella")
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "umbrella"}, k, &goods); st != 201 || goods.Status != "reserved" || len(goods.PickupCode) != 6 {
		t.Fatalf("redeem goods = %d %+v", st, goods)
	}
	var again redemption
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "umbrella"}, k, &again); st != 201 || again.ID != goods.ID {
		t.Errorf("replay = %d %+v, want the first redemption", st, again)
	}
	var e struct{ Error struct{ Code string } }
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "umbrella", "quantity": 2}, k, &e); st != 422 {
		t.Errorf("same key, other body = %d %s", st, e.Error.Code)
	}
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "umbrella"}, key("umbrella2"), &e); st != 409 || e.Error.Code != "limit_reached" {
		t.Errorf("second umbrella this month = %d %s, want 409 limit_reached", st, e.Error.Code)
	}
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "rice-5kg", "quantity": 3}, key("rice"), &e); st != 409 || e.Error.Code != "insufficient_points" {
		t.Errorf("180 points of rice with 120 points = %d %s, want 409 insufficient_points", st, e.Error.Code)
	}

	clerk := login(t, "e2e-clerk", []string{"clerk"}, "")
	if st := citizen.call("POST", "/v1/redemptions/"+goods.ID+"/fulfil", map[string]any{"pickupCode": goods.PickupCode}, nil, nil); st != 403 {
		t.Errorf("citizen fulfils = %d, want 403", st)
	}
	if st := clerk.call("POST", "/v1/redemptions/"+goods.ID+"/fulfil", map[string]any{"pickupCode": "000000x"}, nil, &e); st != 400 || e.Error.Code != "wrong_pickup_code" {
		t.Errorf("wrong code = %d %s", st, e.Error.Code)
	}
	// The counter's look before the handover: what to hand over, nothing of the citizen; a wrong code is
	// counted as at fulfil.
	var look map[string]any
	if st := clerk.call("POST", "/v1/redemptions/"+goods.ID+"/verify", map[string]any{"pickupCode": goods.PickupCode}, nil, &look); st != 200 ||
		look["status"] != "reserved" || look["itemId"] != goods.ItemID || look["sub"] != nil || look["pickupCode"] != nil {
		t.Errorf("verify = %d %v", st, look)
	}
	if st := clerk.call("POST", "/v1/redemptions/"+goods.ID+"/verify", map[string]any{"pickupCode": "000000x"}, nil, &e); st != 400 || e.Error.Code != "wrong_pickup_code" {
		t.Errorf("verify, wrong code = %d %s", st, e.Error.Code)
	}
	var done redemption
	if st := clerk.call("POST", "/v1/redemptions/"+goods.ID+"/fulfil", map[string]any{"pickupCode": goods.PickupCode}, nil, &done); st != 200 || done.Status != "completed" {
		t.Errorf("fulfil = %d %+v", st, done)
	}
	for _, op := range []string{"verify", "fulfil"} {
		if st := clerk.call("POST", "/v1/redemptions/"+goods.ID+"/"+op, map[string]any{"pickupCode": goods.PickupCode}, nil, &e); st != 409 || e.Error.Code != "already_collected" {
			t.Errorf("%s after fulfil = %d %s, want 409 already_collected", op, st, e.Error.Code)
		}
	}
	if st := citizen.call("POST", "/v1/redemptions/"+goods.ID+"/cancel", nil, nil, &e); st != 409 {
		t.Errorf("cancel after fulfil = %d", st)
	}

	var gift redemption
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "library-fund", "amount": 20}, key("gift"), &gift); st != 201 || gift.Status != "completed" {
		t.Fatalf("donate = %d %+v", st, gift)
	}
	var credit redemption
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "credit-units", "amount": 50}, key("credit"), &credit); st != 201 || credit.CreditUnits != 1 {
		t.Fatalf("credit = %d %+v", st, credit)
	}
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "credit-units", "amount": 30}, key("credit2"), &e); st != 400 {
		t.Errorf("credit not a multiple of the rate = %d", st)
	}
	p := waitProfile(t, citizen, func(p profile) bool { return true })
	if p.Balance != 150-30-20-50 || p.LifetimeRedeemed != 100 {
		t.Errorf("profile after redemptions = %+v", p)
	}

	msg := "msg_" + credit.ID + "_credit"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(150 * time.Millisecond) {
		if _, ok := sinkFor(t, "credit_platform", msg); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the credit platform never received %s", msg)
		}
	}
	(&client{t: t}).call("GET", "/v1/catalog", nil, nil, &catalog)
	for _, it := range catalog.Items {
		if it.ID == "library-fund" && (it.Totals == nil || it.Totals.Total < 20 || it.Totals.Donors < 1) {
			t.Errorf("cause totals = %+v", it.Totals)
		}
	}
	var mine struct{ Items []redemption }
	if st := citizen.call("GET", "/v1/me/redemptions", nil, nil, &mine); st != 200 || len(mine.Items) != 3 {
		t.Errorf("my redemptions = %d %+v", st, mine)
	}
}
