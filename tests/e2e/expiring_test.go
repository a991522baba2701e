package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestExpiringGoodsAreAnnouncedOnce: a citizen with a phone earns 30 points (three resolved reports), reserves
// an umbrella and does not pick it up; with the stack's clock 23 hours before the pickup ends, the sweeper
// (fired twice) posts one redemption.expiring notice to the inbox and SNS gets one push — through the
// outbox and the notify function as every push.
func TestExpiringGoodsAreAnnouncedOnce(t *testing.T) {
	run := time.Now().UnixNano()
	sub := fmt.Sprint("e2e-expiring-", run)
	citizen := login(t, sub, []string{"citizen"}, "")
	if st := citizen.call("PUT", "/v1/me/devices/phone-1", map[string]any{"platform": "fcm", "token": "e2e-fcm-expiring-" + sub}, nil, nil); st != 200 {
		t.Fatalf("register device = %d", st)
	}
	municipal := login(t, "e2e-expiring-municipal", []string{"staff"}, "municipal")
	for i := range 3 { // manhole covers earn 10 points each; 500 m apart, so none is a duplicate
		id := fileReport(t, citizen, "manhole_cover", "井盖缺失 missing manhole cover", 23.30+float64(i)*0.005, 103.30+float64(run%1000)*1e-5)
		waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
		resolveViaStaff(t, municipal, id)
	}
	waitProfile(t, citizen, func(p profile) bool { return p.Balance >= 30 })
	var red struct {
		ID        string
		Status    string
		ExpiresAt time.Time
	}
	if st := citizen.call("POST", "/v1/redemptions", map[string]any{"itemId": "umbrella"}, map[string]string{"Idempotency-Key": fmt.Sprint("e2e-expiring-", run)}, &red); st != 201 || red.Status != "reserved" || red.ExpiresAt.IsZero() {
		t.Fatalf("redeem = %d %+v", st, red)
	}

	expiring := func() (notices, pushes int) {
		t.Helper()
		for _, it := range inbox(t, citizen).Items {
			if it.Kind == "redemption.expiring" {
				notices++
			}
		}
		return notices, pushesTo(t, sub)["redemption.expiring"]
	}
	if n, p := expiring(); n != 0 || p != 0 {
		t.Fatalf("before the sweep: %d notices, %d pushes", n, p)
	}
	// The push message is due at the sweep's time, so the clock stays there until it is pushed.
	setClock(t, red.ExpiresAt.Add(-23*time.Hour))
	defer setClock(t, time.Time{})
	fire := func() {
		t.Helper()
		resp, err := http.Post(api+"/_local/schedules/SweeperFunction", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("fire sweeper = %d", resp.StatusCode)
		}
	}
	fire()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, p := expiring(); p > 0 || time.Now().After(deadline) {
			break
		}
	}
	fire()
	localJSON(t, "POST", "/_local/drain", nil)
	if n, p := expiring(); n != 1 || p != 1 {
		t.Errorf("after two sweeps: %d notices, %d pushes; want one of each", n, p)
	}
	var page struct {
		Items []struct {
			Kind, RedemptionID, PickupLocation string
			ExpiresAt                          time.Time
		}
	}
	if st := citizen.call("GET", "/v1/me/notifications?limit=50", nil, nil, &page); st != 200 {
		t.Fatalf("inbox = %d", st)
	}
	for _, it := range page.Items {
		if it.Kind == "redemption.expiring" && (it.RedemptionID != red.ID || it.PickupLocation == "" || !it.ExpiresAt.Equal(red.ExpiresAt)) {
			t.Errorf("notice %+v, want redemption %s ending %v", it, red.ID, red.ExpiresAt)
		}
	}
}
