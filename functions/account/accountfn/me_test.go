package accountfn_test

import (
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/account/accountfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/points"
)

// GET /v1/me shows the volunteer service (minutes, hours) and the stars among the honors; the ledger's
// volunteer entries name their activity (issue 15).
func TestMeShowsVolunteerHoursAndStars(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	b := e.Base("AccountFunction", nil, nil)
	fn, err := accountfn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	svc := b.Points()
	at := time.Date(2026, 11, 28, 19, 0, 0, 0, time.UTC)
	// 99 h 45 min, then 30 min more: the first star at 100 h 15.
	for i, minutes := range []int64{99*60 + 45, 30} {
		rec := points.ServiceRecord{ActivityID: []string{"act-a", "act-b"}[i], Sub: "mei", Revision: 1, Kind: points.RecordConfirmed,
			Minutes: minutes, At: at.AddDate(0, 0, i)}
		if _, err := svc.OnServiceRecord(t.Context(), rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	r := call(t, fn, "mei", "GET", "GET /v1/me", "/v1/me", nil, "")
	if r.status != 200 || r.body["volunteerMinutes"] != float64(100*60+15) || r.body["volunteerHours"] != 100.25 {
		t.Fatalf("GET /v1/me = %d %s", r.status, r.raw)
	}
	honors, _ := r.body["honors"].([]any)
	if len(honors) != 1 || honors[0].(map[string]any)["title"] != "一星志愿者" {
		t.Errorf("honors %v", honors)
	}
	l := call(t, fn, "mei", "GET", "GET /v1/me/ledger", "/v1/me/ledger", nil, "")
	items, _ := l.body["items"].([]any)
	if l.status != 200 || len(items) != 2 {
		t.Fatalf("GET /v1/me/ledger = %d %s", l.status, l.raw)
	}
	newest := items[0].(map[string]any)
	if newest["kind"] != "volunteer_award" || newest["activityId"] != "act-b" || newest["delta"] != float64(2) {
		t.Errorf("newest entry %v", newest)
	}

	// Someone who never volunteered: zero minutes and hours, shown all the same.
	r = call(t, fn, "nobody", "GET", "GET /v1/me", "/v1/me", nil, "")
	if r.status != 200 || r.body["volunteerMinutes"] != float64(0) || r.body["volunteerHours"] != float64(0) {
		t.Errorf("GET /v1/me of a non-volunteer = %d %s", r.status, r.raw)
	}
}
