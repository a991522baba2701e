package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestAdminConfigAndDeliveries: admins read and replace configuration (validated: a webhook URL pointing at
// a private address is refused), see the delivery log and fire the SLA sweep on demand.
func TestAdminConfigAndDeliveries(t *testing.T) {
	adm := login(t, "e2e-admin", []string{"admin"}, "")
	citizen := login(t, "e2e-admin-citizen", []string{"citizen"}, "")

	var dept map[string]any
	if st := adm.call("GET", "/v1/admin/departments/municipal", nil, nil, &dept); st != 200 || dept["nameZh"] != "市政" {
		t.Fatalf("get department = %d %v", st, dept)
	}
	if st := citizen.call("GET", "/v1/admin/departments/municipal", nil, nil, nil); st != 403 {
		t.Errorf("citizen reads admin config = %d, want 403", st)
	}
	var e struct{ Error struct{ Code string } }
	for _, url := range []string{"http://10.0.0.5/hook", "https://169.254.169.254/latest/meta-data", "ftp://example.com/x"} {
		bad := map[string]any{"id": "municipal", "nameZh": "市政", "webhookUrl": url, "secretRef": "civicsnap/local/dept/municipal"}
		if st := adm.call("PUT", "/v1/admin/departments/municipal", bad, nil, &e); st != 400 || e.Error.Code != "invalid_config" {
			t.Errorf("PUT webhook %s = %d %s, want 400 invalid_config", url, st, e.Error.Code)
		}
	}
	if st := adm.call("GET", "/v1/admin/departments/municipal", nil, nil, &dept); st != 200 || dept["webhookUrl"] == "http://10.0.0.5/hook" {
		t.Errorf("a refused PUT changed the department: %v", dept)
	}
	if st := adm.call("GET", "/v1/admin/rules/no-such-rule", nil, nil, &e); st != 404 || e.Error.Code != "config_not_found" {
		t.Errorf("missing rule = %d %s", st, e.Error.Code)
	}
	rule := map[string]any{"id": "e2e-dogs-uni", "priority": 90, "categories": []string{"uncivil_dog"}, "areas": []string{"university_town"},
		"lead": "city_mgmt", "active": true}
	if st := adm.call("PUT", "/v1/admin/rules/e2e-dogs-uni", rule, nil, nil); st != 200 {
		t.Fatalf("put rule = %d", st)
	}
	rule["lead"] = "nobody"
	if st := adm.call("PUT", "/v1/admin/rules/e2e-dogs-uni", rule, nil, &e); st != 400 {
		t.Errorf("rule with unknown lead = %d", st)
	}
	var area map[string]any
	if st := adm.call("GET", "/v1/admin/areas/university_town", nil, nil, &area); st != 200 {
		t.Fatalf("get area = %d", st)
	}

	// The delivery log: file a report, then find its notification delivered to the lead.
	id := fileReport(t, citizen, "illegal_parking", "车停在盲道上 car on the tactile paving", 23.3600, 103.4200)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
	var deliveries struct {
		Items []struct {
			ID, ReportID, Status string
			Attempts             []struct{ HTTPStatus int }
		}
	}
	found := false
	for deadline := time.Now().Add(10 * time.Second); !found && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		adm.call("GET", "/v1/admin/deliveries?dept=traffic_police&limit=50", nil, nil, &deliveries)
		for _, d := range deliveries.Items {
			if d.ReportID == id && d.Status == "delivered" && len(d.Attempts) == 1 && d.Attempts[0].HTTPStatus == 200 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no delivered notification for %s in %+v", id, deliveries)
	}
	if st := adm.call("GET", "/v1/admin/deliveries", nil, nil, &e); st != 400 {
		t.Errorf("deliveries without dept = %d", st)
	}
	var redrive map[string]int
	if st := adm.call("POST", "/v1/admin/deliveries/redrive", nil, nil, &redrive); st != 200 {
		t.Errorf("redrive = %d", st)
	}

	resp, err := http.Post(api+"/_local/schedules/SweeperFunction", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("fire sweeper = %d", resp.StatusCode)
	}
}
