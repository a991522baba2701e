package volunteerfn_test

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/functions/volunteer/volunteerfn"
	"github.com/civicsnap/civicsnap/infra/cost"
)

const (
	twi    = "DynamoDB.TransactWriteItems"
	get    = "DynamoDB.GetItem"
	query  = "DynamoDB.Query"
	update = "DynamoDB.UpdateItem"
	batch  = "DynamoDB.BatchGetItem"
)

// TestCalls counts each operation's DynamoDB calls (exact) and write units (infra/cost's counting: the
// table's and each index's, transactions doubled), and logs them: README "Volunteers" quotes the log.
func TestCalls(t *testing.T) {
	h := newHarness(t)
	rec := cost.NewRecorder(h.e.DB, cost.SchemaOf(h.e.Template.Tables["Table"]))
	cfg := h.e.Counted.Copy()
	cfg.APIOptions = slices.Clone(h.e.Counted.APIOptions)
	rec.Attach("volunteer", &cfg)
	fn, err := volunteerfn.New(h.e.BaseOn(cfg, "VolunteerFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	h.fn = fn
	h.team("t1", "org1")
	h.volunteers("org1", "a", "b", "c", "d")
	act := h.publish(citizen("org1"), "calls", activityBody("t1", 2, lat0, lng0, tomorrow()))[0].ID
	signups := "/v1/activities/" + act + "/signups"
	steps := []struct {
		name   string
		c      caller
		route  string
		path   string
		body   any
		status int
		want   map[string]int
	}{
		{"opt in", citizen("e"), "PUT /v1/me/volunteer", "/v1/me/volunteer", map[string]any{"name": "e"}, 200, map[string]int{update: 1}},
		{"join a team", citizen("e"), "POST /v1/teams/{id}/members", "/v1/teams/t1/members", nil, 200, map[string]int{get: 2, twi: 1}},
		{"sign up: a place", citizen("a"), "POST /v1/activities/{id}/signups", signups, nil, 201, map[string]int{batch: 1, twi: 1}},
		{"sign up: the last place", citizen("b"), "POST /v1/activities/{id}/signups", signups, nil, 201, map[string]int{batch: 1, twi: 1}},
		{"sign up: the waitlist", citizen("c"), "POST /v1/activities/{id}/signups", signups, nil, 201, map[string]int{batch: 1, update: 1, twi: 1}},
		{"sign up: the waitlist again", citizen("d"), "POST /v1/activities/{id}/signups", signups, nil, 201, map[string]int{batch: 1, update: 1, twi: 1}},
		{"re-sent sign-up", citizen("a"), "POST /v1/activities/{id}/signups", signups, nil, 200, map[string]int{batch: 1}},
		{"cancel a place: the first waiter moves up", citizen("a"), "DELETE /v1/activities/{id}/signups/me", signups + "/me", nil, 200, map[string]int{get: 1, query: 1, twi: 1}},
		{"cancel a place in the waitlist", citizen("d"), "DELETE /v1/activities/{id}/signups/me", signups + "/me", nil, 200, map[string]int{get: 1, twi: 1}},
		{"cancel a place, no waiter", citizen("b"), "DELETE /v1/activities/{id}/signups/me", signups + "/me", nil, 200, map[string]int{get: 1, query: 1, twi: 1}},
		{"the activity", citizen("c"), "GET /v1/activities/{id}", "/v1/activities/" + act, nil, 200, map[string]int{batch: 1, get: 1}},
		{"my activities", citizen("c"), "GET /v1/me/volunteer/activities", "/v1/me/volunteer/activities", nil, 200, map[string]int{query: 1, batch: 1}},
		{"the day near a point", citizen("c"), "GET /v1/activities", "/v1/activities?date=" + tomorrow().Format("2006-01-02") + fmt.Sprintf("&near=%f,%f", lat0, lng0), nil, 200, nil},
		{"publish", citizen("org1"), "POST /v1/activities", "/v1/activities", activityBody("t1", 50, lat0, lng0, tomorrow()), 201, map[string]int{get: 1, twi: 1}},
	}
	var report []string
	for _, s := range steps {
		h.e.Calls.Reset()
		rec.Reset()
		var headers map[string]string
		if strings.HasPrefix(s.route, "POST /v1/activities") && s.body != nil {
			headers = map[string]string{"Idempotency-Key": "calls-publish"}
		}
		h.must(s.status, s.c, s.route, s.path, s.body, headers)
		got := h.e.Calls.Snapshot()
		if s.want != nil && !maps.Equal(got, s.want) {
			t.Errorf("%s: calls %v; want %v", s.name, got, s.want)
		}
		var wcu float64
		for _, l := range rec.Lines() {
			wcu += l.WCU()
		}
		report = append(report, fmt.Sprintf("%-45s %v, %.0f write units", s.name, got, wcu))
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + strings.Join(report, "\n"))
}
