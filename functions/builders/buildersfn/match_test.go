package buildersfn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// matchWorker opts sub in as a bricklayer at (lat, lng0) with radius, a daily want, years and availability.
func (h *harness) matchWorker(sub, visibility string, lat float64, radius, want, years int, from string) {
	h.t.Helper()
	b := workerBody("王"+sub, visibility)
	b["area"] = map[string]any{"lat": lat, "lng": lng0, "radiusKm": radius, "name": "蒙自"}
	b["expectedWage"] = map[string]any{"min": want, "unit": builders.UnitDay}
	b["years"] = years
	b["availableFrom"] = from
	h.must(200, citizen(sub), "PUT /v1/me/worker", "/v1/me/worker", b, nil)
}

// TestJobMatches: the job's employer gets the matching workers ranked by the stated score (each score the
// formula's), without a phone; the hard filters (distance, availability, wage), a hidden profile and another
// trade keep workers out; another employer is refused.
func TestJobMatches(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.verifiedEmployer("rival", 2)
	j := h.post(201, "emp", "k", map[string]any{
		"title": "砌墙", "trade": "bricklayer", "place": map[string]any{"lat": lat0, "lng": lng0},
		"wage": map[string]any{"min": 200, "max": 300, "unit": builders.UnitDay}, "headcount": 2,
		"startDate": day(5), "endDate": day(60),
	})
	h.matchWorker("best", builders.VisibilityFull, lat0, 10, 200, 10, today())        // 40 + 30 + 20 + 10 = 100
	h.matchWorker("late", builders.VisibilityProfile, lat0, 10, 200, 10, day(20))     // 15 days late: 40 + 30 + 10 + 10 = 90
	h.matchWorker("far", builders.VisibilityProfile, kmNorth(5), 10, 300, 0, today()) // ≈ 20 + 15 + 20 + 0 = 55
	h.matchWorker("out", builders.VisibilityProfile, kmNorth(12), 10, 200, 10, today())
	h.matchWorker("greedy", builders.VisibilityProfile, lat0, 10, 301, 10, today())
	h.matchWorker("toolate", builders.VisibilityProfile, lat0, 10, 200, 10, day(61))
	h.matchWorker("hidden", builders.VisibilityHidden, lat0, 10, 200, 10, today())
	h.worker("cleaner", "cleaner")

	r := h.must(200, citizen("emp"), "GET /v1/jobs/{id}/matches", "/v1/jobs/"+j.ID+"/matches", nil, nil)
	if strings.Contains(string(r.Body), "13800138000") || strings.Contains(string(r.Body), `"phone"`) {
		t.Errorf("a match carries a phone: %s", r.Body)
	}
	var got struct{ Items []builders.WorkerView }
	r.decode(t, &got)
	var order []string
	for _, v := range got.Items {
		order = append(order, v.Sub)
	}
	if fmt.Sprint(order) != "[best late far]" {
		t.Fatalf("matches %v, want [best late far]", order)
	}
	job := builders.Job{Wage: builders.Wage{Min: 200, Max: 300, Unit: builders.UnitDay}, StartDate: day(5), EndDate: day(60)}
	wantNames := map[string]string{"best": "王best", "late": "王师傅", "far": "王师傅"}
	for _, v := range got.Items {
		e := builders.MatchEntry{Area: v.Area, DailyWant: float64(v.Expected.Min), Years: v.Years, AvailableFrom: v.AvailableFrom}
		want := builders.Score(job, e, builders.DistanceKm(builders.Point{Lat: lat0, Lng: lng0}, builders.Point{Lat: v.Area.Lat, Lng: v.Area.Lng}))
		if v.Score == nil || math.Abs(*v.Score-want) > 0.05 {
			t.Errorf("%s: score %v, want %v", v.Sub, v.Score, want)
		}
		if v.DisplayName != wantNames[v.Sub] {
			t.Errorf("%s: display name %q, want %q", v.Sub, v.DisplayName, wantNames[v.Sub])
		}
	}
	if s := *got.Items[0].Score; s != 100 {
		t.Errorf("best scores %v, want 100", s)
	}
	if s := *got.Items[1].Score; s != 90 {
		t.Errorf("15 days late scores %v, want 90", s)
	}
	if s := *got.Items[2].Score; math.Abs(s-55) > 0.5 {
		t.Errorf("5 km away, wanting the job's daily maximum, no experience scores %v, want about 55", s)
	}

	h.refused(403, "not_your_job", citizen("rival"), "GET /v1/jobs/{id}/matches", "/v1/jobs/"+j.ID+"/matches", nil, nil)
	h.refused(404, "job_not_found", citizen("emp"), "GET /v1/jobs/{id}/matches", "/v1/jobs/nope/matches", nil, nil)
}
