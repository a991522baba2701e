package e2e

import (
	"testing"
	"time"
)

type profile struct {
	Sub              string
	Balance          int64
	Merit            int64
	Honors           []struct{ Title string }
	LifetimeEarned   int64
	LifetimeRedeemed int64
	Debt             int64
}

type ledgerPage struct {
	Items []struct {
		ID       string
		Delta    int64
		Kind     string
		ReportID string
	}
}

// resolveViaStaff takes a dispatched report through accept and resolve with the lead's staff account,
// once it is in the lead's queue (waitQueued).
func resolveViaStaff(t *testing.T, lead *client, id string) {
	t.Helper()
	waitQueued(t, lead, id)
	if st := lead.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "accepted"}, nil, nil); st != 200 {
		t.Fatalf("accept = %d", st)
	}
	proof := lead.uploadPhoto("image/jpeg", photoJPEG(t))
	if st := lead.call("POST", "/v1/dept/reports/"+id+"/transitions", map[string]any{"to": "resolved", "note": "done", "proofPhotoKeys": []string{proof}}, nil, nil); st != 200 {
		t.Fatalf("resolve = %d", st)
	}
}

// waitProfile polls /v1/me until cond holds (accrual runs from the stream).
func waitProfile(t *testing.T, c *client, cond func(profile) bool) profile {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var p profile
		if st := c.call("GET", "/v1/me", nil, nil, &p); st != 200 {
			t.Fatalf("GET /v1/me = %d", st)
		}
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("profile never reached the expected state; last %+v", p)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// TestPointsForAResolvedReport: report → dispatch → resolve → balance, merit and ledger updated once; an
// admin's revocation reverses it once.
func TestPointsForAResolvedReport(t *testing.T) {
	citizen := login(t, "e2e-points-citizen", []string{"citizen"}, "")
	if p := waitProfile(t, citizen, func(p profile) bool { return true }); p.Balance != 0 || p.Sub != "e2e-points-citizen" {
		t.Fatalf("a new profile = %+v", p)
	}
	id := fileReport(t, citizen, "manhole_cover", "井盖松动 loose manhole cover", 23.3550, 103.3450)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
	resolveViaStaff(t, login(t, "e2e-points-municipal", []string{"staff"}, "municipal"), id)

	started := time.Now()
	p := waitProfile(t, citizen, func(p profile) bool { return p.Balance > 0 })
	t.Logf("points appeared %v after the resolve", time.Since(started).Round(time.Millisecond))
	if p.Balance != 10 || p.Merit != 1 || p.LifetimeEarned != 10 {
		t.Errorf("profile = %+v, want 10 points (manhole cover) and 1 merit", p)
	}
	time.Sleep(time.Second) // a second delivery would have landed by now
	var ledger ledgerPage
	if st := citizen.call("GET", "/v1/me/ledger", nil, nil, &ledger); st != 200 || len(ledger.Items) != 1 || ledger.Items[0].Delta != 10 || ledger.Items[0].ReportID != id {
		t.Fatalf("ledger = %d %+v, want one +10 entry", st, ledger)
	}

	adm := login(t, "e2e-points-admin", []string{"admin"}, "")
	var e struct{ Error struct{ Code string } }
	if st := adm.call("POST", "/v1/admin/reports/"+id+"/revoke", map[string]any{}, nil, &e); st != 400 || e.Error.Code != "reason_required" {
		t.Errorf("revoke without reason = %d %s", st, e.Error.Code)
	}
	if st := adm.call("POST", "/v1/admin/reports/"+id+"/revoke", map[string]any{"reason": "photo reused from another report"}, nil, nil); st != 200 {
		t.Fatalf("revoke = %d", st)
	}
	if st := adm.call("POST", "/v1/admin/reports/"+id+"/revoke", map[string]any{"reason": "again"}, nil, &e); st != 409 {
		t.Errorf("second revoke = %d, want 409", st)
	}
	p = waitProfile(t, citizen, func(p profile) bool { return p.Balance == 0 })
	if p.Merit != 0 || p.Debt != 0 {
		t.Errorf("after revocation = %+v", p)
	}
	time.Sleep(500 * time.Millisecond)
	citizen.call("GET", "/v1/me/ledger", nil, nil, &ledger)
	if len(ledger.Items) != 2 || ledger.Items[0].Kind != "reversal" || ledger.Items[0].Delta != -10 {
		t.Errorf("ledger after revocation = %+v", ledger)
	}
}
