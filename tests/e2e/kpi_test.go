package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKPIsThroughTheStack: a report filed now shows in today's roll-up (fired on demand), in the public
// stats, and only staff and admins read the KPI API.
func TestKPIsThroughTheStack(t *testing.T) {
	citizen := login(t, "e2e-kpi-citizen", []string{"citizen"}, "")
	staff := login(t, "e2e-kpi-staff", []string{"staff"}, "municipal")
	id := fileReport(t, citizen, "noise", "夜间施工噪音 night construction", 23.3400, 103.3500)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status != "submitted" })

	var before struct{ Received int }
	staff.call("GET", "/v1/kpi/summary", nil, nil, &before)
	resp, err := http.Post(api+"/_local/schedules/KpiFunction", "application/json", strings.NewReader(`{"day":"today"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("roll-up = %d", resp.StatusCode)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	var sum struct {
		From, To       string
		Received       int
		CompletionRate *float64
	}
	if st := staff.call("GET", "/v1/kpi/summary?from="+today+"&to="+today, nil, nil, &sum); st != 200 || sum.Received < 1 || sum.Received < before.Received {
		t.Errorf("summary = %d %+v (before the roll-up: %d)", st, sum, before.Received)
	}
	var daily struct{ Days []struct{ Date string } }
	if st := staff.call("GET", "/v1/kpi/daily?from="+today+"&to="+today, nil, nil, &daily); st != 200 || len(daily.Days) != 1 || daily.Days[0].Date != today {
		t.Errorf("daily = %d %+v", st, daily)
	}
	var league struct {
		MinCases int
		Items    []struct{ Dept string }
	}
	if st := staff.call("GET", "/v1/kpi/departments", nil, nil, &league); st != 200 || league.MinCases < 1 || len(league.Items) == 0 {
		t.Errorf("league = %d %+v", st, league)
	}
	var open struct{ Items []struct{ ID string } }
	if st := staff.call("GET", "/v1/kpi/open-reports", nil, nil, &open); st != 200 {
		t.Errorf("open reports = %d", st)
	}
	var e struct{ Error struct{ Code string } }
	if st := citizen.call("GET", "/v1/kpi/summary", nil, nil, &e); st != 403 {
		t.Errorf("citizen reads KPIs = %d, want 403", st)
	}
	if st := staff.call("GET", "/v1/kpi/summary?from=2026-12-01&to=2026-01-01", nil, nil, &e); st != 400 || e.Error.Code != "invalid_range" {
		t.Errorf("bad range = %d %s", st, e.Error.Code)
	}
	var pub map[string]any
	if st := (&client{t: t}).call("GET", "/v1/public/stats", nil, nil, &pub); st != 200 || pub["received"] == nil {
		t.Errorf("public stats = %d %v", st, pub)
	}
	for _, k := range []string{"reporters", "sub", "reporter"} {
		if _, ok := pub[k]; ok {
			t.Errorf("public stats expose %q", k)
		}
	}
}
