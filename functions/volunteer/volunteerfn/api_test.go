package volunteerfn_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// TestRefusedWriteNothing: bad input and refused callers get a 4xx with a stable code, and the table is
// unchanged.
func TestRefusedWriteNothing(t *testing.T) {
	h := newHarness(t)
	h.team("t1", "org1")
	h.team("t2", "org2")
	h.volunteers("org1", "org2", "v1", "v2")
	start := tomorrow()
	act := h.publish(citizen("org1"), "a1", activityBody("t1", 1, lat0, lng0, start))[0].ID
	h.must(201, citizen("v1"), "POST /v1/activities/{id}/signups", "/v1/activities/"+act+"/signups", nil, nil)
	past := h.publish(citizen("org1"), "a2", activityBody("t1", 5, lat0, lng0, start))[0].ID
	h.must(200, citizen("org1"), "POST /v1/activities/{id}/cancel", "/v1/activities/"+past+"/cancel", nil, nil)

	body := func(change func(m map[string]any)) map[string]any {
		m := activityBody("t1", 10, lat0, lng0, start)
		change(m)
		return m
	}
	key := map[string]string{"Idempotency-Key": "k-refused"}
	long := strings.Repeat("长", volunteer.MaxTitle+1)
	square := `{"type":"Polygon","coordinates":[[[103.37,23.39],[103.38,23.39],[103.38,23.40],[103.37,23.39]]]}`
	cases := []struct {
		name    string
		c       caller
		route   string
		path    string
		body    any
		headers map[string]string
		status  int
		code    string
	}{
		{"profile without a name", citizen("v9"), "PUT /v1/me/volunteer", "/v1/me/volunteer", map[string]any{"name": " "}, nil, 400, "invalid_volunteer_request"},
		{"profile with 11 skills", citizen("v9"), "PUT /v1/me/volunteer", "/v1/me/volunteer", map[string]any{"name": "a", "skills": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}, nil, 400, "invalid_volunteer_request"},
		{"profile, unknown field", citizen("v9"), "PUT /v1/me/volunteer", "/v1/me/volunteer", `{"name":"a","verified":true}`, nil, 400, "invalid_json"},
		{"no profile yet", citizen("v9"), "GET /v1/me/volunteer", "/v1/me/volunteer", nil, nil, 409, "not_a_volunteer"},
		{"team by a citizen", citizen("v1"), "PUT /v1/admin/teams/{id}", "/v1/admin/teams/t9", volunteer.TeamInput{Name: "x", Kind: volunteer.KindGroup}, nil, 403, "forbidden"},
		{"team of an unknown kind", admin, "PUT /v1/admin/teams/{id}", "/v1/admin/teams/t9", volunteer.TeamInput{Name: "x", Kind: "club"}, nil, 400, "invalid_volunteer_request"},
		{"join an unknown team", citizen("v1"), "POST /v1/teams/{id}/members", "/v1/teams/nope/members", nil, nil, 404, "team_not_found"},
		{"join without a profile", citizen("v9"), "POST /v1/teams/{id}/members", "/v1/teams/t1/members", nil, nil, 409, "not_a_volunteer"},
		{"verify by an organiser of another team", citizen("org2"), "POST /v1/volunteers/{sub}/verify", "/v1/volunteers/v1/verify", nil, nil, 403, "not_organiser"},
		{"publish for another team", citizen("org2"), "POST /v1/activities", "/v1/activities", activityBody("t1", 5, lat0, lng0, start), key, 403, "not_organiser"},
		{"publish by a volunteer", citizen("v1"), "POST /v1/activities", "/v1/activities", activityBody("t1", 5, lat0, lng0, start), key, 403, "not_organiser"},
		{"publish for an unknown team", citizen("org1"), "POST /v1/activities", "/v1/activities", activityBody("t9", 5, lat0, lng0, start), key, 404, "team_not_found"},
		{"publish without a key", citizen("org1"), "POST /v1/activities", "/v1/activities", activityBody("t1", 5, lat0, lng0, start), nil, 400, "idempotency_key_required"},
		{"title too long", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["title"] = long }), key, 400, "invalid_volunteer_request"},
		{"unknown type", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["type"] = "party" }), key, 400, "invalid_volunteer_request"},
		{"end before start", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["end"] = start.Add(-time.Hour).Format(time.RFC3339) }), key, 400, "invalid_volunteer_request"},
		{"13 hours", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["end"] = start.Add(13 * time.Hour).Format(time.RFC3339) }), key, 400, "invalid_volunteer_request"},
		{"in the past", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) {
			m["start"], m["end"] = time.Now().Add(-3*time.Hour).Format(time.RFC3339), time.Now().Add(-time.Hour).Format(time.RFC3339)
		}), key, 400, "invalid_volunteer_request"},
		{"capacity 0", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["capacity"] = 0 }), key, 400, "invalid_volunteer_request"},
		{"capacity 1001", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["capacity"] = 1001 }), key, 400, "invalid_volunteer_request"},
		{"radius 10 m", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["place"] = map[string]any{"lat": lat0, "lng": lng0, "radiusM": 10} }), key, 400, "invalid_volunteer_request"},
		{"a radius and a polygon", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) {
			m["place"] = map[string]any{"lat": lat0, "lng": lng0, "radiusM": 100, "geometry": square}
		}), key, 400, "invalid_volunteer_request"},
		{"open polygon", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) {
			m["place"] = map[string]any{"lat": lat0, "lng": lng0, "geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{{103.37, 23.39}, {103.38, 23.39}, {103.38, 23.40}, {103.37, 23.40}}}}}
		}), key, 400, "invalid_volunteer_request"},
		{"a point where a polygon goes", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) {
			m["place"] = map[string]any{"lat": lat0, "lng": lng0, "geometry": map[string]any{"type": "Point", "coordinates": []float64{103.37, 23.39}}}
		}), key, 400, "invalid_volunteer_request"},
		{"53 shifts", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) {
			m["recurrence"] = map[string]any{"everyDays": 7, "count": volunteer.MaxOccurrences + 1}
		}), key, 400, "invalid_volunteer_request"},
		{"every 0 days", citizen("org1"), "POST /v1/activities", "/v1/activities", body(func(m map[string]any) { m["recurrence"] = map[string]any{"everyDays": 0, "count": 3} }), key, 400, "invalid_volunteer_request"},
		{"listing without a date", citizen("v1"), "GET /v1/activities", "/v1/activities", nil, nil, 400, "invalid_volunteer_request"},
		{"listing, bad point", citizen("v1"), "GET /v1/activities", "/v1/activities?date=2030-01-01&near=91,0", nil, nil, 400, "invalid_volunteer_request"},
		{"listing, radius 51 km", citizen("v1"), "GET /v1/activities", "/v1/activities?date=2030-01-01&near=23,103&radiusKm=51", nil, nil, 400, "invalid_volunteer_request"},
		{"unknown activity", citizen("v1"), "GET /v1/activities/{id}", "/v1/activities/nope", nil, nil, 404, "activity_not_found"},
		{"cancel by another team's organiser", citizen("org2"), "POST /v1/activities/{id}/cancel", "/v1/activities/" + act + "/cancel", nil, nil, 403, "not_organiser"},
		{"sign-ups seen by another team's organiser", citizen("org2"), "GET /v1/activities/{id}/signups", "/v1/activities/" + act + "/signups", nil, nil, 403, "not_organiser"},
		{"sign up without a profile", citizen("v9"), "POST /v1/activities/{id}/signups", "/v1/activities/" + act + "/signups", nil, nil, 409, "not_a_volunteer"},
		{"sign up for a cancelled activity", citizen("v2"), "POST /v1/activities/{id}/signups", "/v1/activities/" + past + "/signups", nil, nil, 409, "activity_closed"},
		{"sign up for an unknown activity", citizen("v2"), "POST /v1/activities/{id}/signups", "/v1/activities/nope/signups", nil, nil, 404, "activity_not_found"},
		{"cancel a sign-up one never made", citizen("v2"), "DELETE /v1/activities/{id}/signups/me", "/v1/activities/" + act + "/signups/me", nil, nil, 409, "not_signed_up"},
		{"anonymous", caller{}, "POST /v1/activities/{id}/signups", "/v1/activities/" + act + "/signups", nil, nil, 401, "unauthenticated"},
		{"bad sub in the path", admin, "POST /v1/volunteers/{sub}/verify", "/v1/volunteers/a.b/verify", nil, nil, 400, "invalid_path_parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.dump()
			r, err := h.call(c.c, c.route, c.path, c.body, c.headers)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != c.status || r.code() != c.code {
				t.Errorf("got %s; want %d %s", r, c.status, c.code)
			}
			if after := h.dump(); !slices.Equal(before, after) {
				t.Errorf("a refused request wrote to the table")
			}
		})
	}
}

// TestListingNearestFirst lists a day's activities near a point: nearest first, the ones outside the
// radius, of another day and cancelled left out, and no Scan.
func TestListingNearestFirst(t *testing.T) {
	h := newHarness(t)
	h.team("t1", "org1")
	h.volunteers("org1")
	org := citizen("org1")
	start := tomorrow()
	// About 0.1 km per 0.001° of latitude here.
	far := h.publish(org, "far", activityBody("t1", 5, lat0+0.03, lng0, start))[0]    // ~3.3 km
	near := h.publish(org, "near", activityBody("t1", 5, lat0+0.002, lng0, start))[0] // ~0.2 km
	mid := h.publish(org, "mid", activityBody("t1", 5, lat0-0.01, lng0, start))[0]    // ~1.1 km
	out := h.publish(org, "out", activityBody("t1", 5, lat0+0.1, lng0, start))[0]     // ~11 km
	other := h.publish(org, "other", activityBody("t1", 5, lat0, lng0, start.AddDate(0, 0, 1)))[0]
	gone := h.publish(org, "gone", activityBody("t1", 5, lat0, lng0, start))[0]
	h.must(200, org, "POST /v1/activities/{id}/cancel", "/v1/activities/"+gone.ID+"/cancel", nil, nil)

	day := start.Format("2006-01-02")
	h.e.Calls.Reset()
	r := h.must(200, citizen("v1"), "GET /v1/activities", fmt.Sprintf("/v1/activities?date=%s&near=%f,%f&radiusKm=5", day, lat0, lng0), nil, nil)
	calls := h.e.Calls.Snapshot()
	var got struct {
		Items []struct {
			ID        string  `json:"id"`
			DistanceM float64 `json:"distanceM"`
			Secret    any     `json:"secret"`
		}
	}
	r.decode(t, &got)
	var ids []string
	for _, it := range got.Items {
		ids = append(ids, it.ID)
		if it.Secret != nil || strings.Contains(string(r.Body), "secret") {
			t.Errorf("the listing shows an activity's secret")
		}
	}
	if want := []string{near.ID, mid.ID, far.ID}; !slices.Equal(ids, want) {
		t.Errorf("listing: %v; want %v (out %s, other day %s, cancelled %s)", ids, want, out.ID, other.ID, gone.ID)
	}
	if calls["DynamoDB.Scan"] != 0 || calls["DynamoDB.Query"] < 1 || calls["DynamoDB.Query"] > 4 {
		t.Errorf("listing calls: %v", calls)
	}
	t.Logf("listing calls: %v", calls)
}

// TestRecurrence publishes 4 weekly shifts: 4 activities a week apart in the team's list, one series; a
// re-sent publication answers the same shifts and writes nothing; the same key with another body is 422.
func TestRecurrence(t *testing.T) {
	h := newHarness(t)
	h.team("t1", "org1")
	h.volunteers("org1")
	org := citizen("org1")
	body := activityBody("t1", 3, lat0, lng0, tomorrow())
	body["type"] = volunteer.TypeShift
	body["recurrence"] = map[string]any{"everyDays": 7, "count": 4}
	acts := h.publish(org, "weekly", body)
	if len(acts) != 4 {
		t.Fatalf("%d shifts; want 4", len(acts))
	}
	for i, a := range acts {
		if a.SeriesID == "" || a.SeriesID != acts[0].SeriesID || a.Capacity != 3 || a.Status != volunteer.ActivityOpen {
			t.Errorf("shift %d: %+v", i, a)
		}
		if i > 0 && a.Start.Sub(acts[i-1].Start) != 7*24*time.Hour {
			t.Errorf("shift %d starts %s after the one before", i, a.Start.Sub(acts[i-1].Start))
		}
		if _, err := h.e.Store.Activity(t.Context(), a.ID); err != nil {
			t.Errorf("shift %d not stored: %v", i, err)
		}
	}
	before := h.dump()
	again := h.publish(org, "weekly", body)
	if len(again) != 4 || again[3].ID != acts[3].ID || !slices.Equal(before, h.dump()) {
		t.Errorf("a re-sent publication: %d shifts, wrote %v", len(again), !slices.Equal(before, h.dump()))
	}
	body["capacity"] = 4
	r, err := h.call(org, "POST /v1/activities", "/v1/activities", body, map[string]string{"Idempotency-Key": "weekly"})
	if err != nil || r.Status != 422 || r.code() != "idempotency_key_reused" {
		t.Errorf("same key, other body: %v %s", err, r)
	}
	body["recurrence"] = map[string]any{"everyDays": 1, "count": volunteer.MaxOccurrences}
	if got := h.publish(org, "most", body); len(got) != volunteer.MaxOccurrences {
		t.Errorf("%d shifts; want %d", len(got), volunteer.MaxOccurrences)
	}
}
