package buildersfn_test

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/infra/cost"
	"github.com/civicsnap/civicsnap/shared/builders"
)

// TestEmployerCalls counts the DynamoDB calls (exact) and write units (infra/cost's counting: the table's
// and each index's, transactions doubled) of H1's operations, and logs them: README "Builders' home" quotes
// the log.
func TestEmployerCalls(t *testing.T) {
	const (
		twi   = "DynamoDB.TransactWriteItems"
		get   = "DynamoDB.GetItem"
		query = "DynamoDB.Query"
		batch = "DynamoDB.BatchGetItem"
		upd   = "DynamoDB.UpdateItem"
		put   = "DynamoDB.PutItem"
	)
	h := newHarness(t)
	rec := cost.NewRecorder(h.e.DB, cost.SchemaOf(h.e.Template.Tables["Table"]))
	cfg := h.e.Counted.Copy()
	cfg.APIOptions = slices.Clone(h.e.Counted.APIOptions)
	rec.Attach("builders", &cfg)
	fn, err := buildersfn.New(h.e.BaseOn(cfg, "BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	h.fn = fn
	h.verifiedEmployer("boss2", 2)
	h.post(201, "boss2", "k1", jobBody("砌墙", "bricklayer", lat0, nil))
	h.post(201, "boss2", "k2", jobBody("贴砖", "tiler", lat0, nil))
	adminPost := func(sub, d string) string { return "/v1/admin/employers/" + sub + "/" + d }
	reason := map[string]any{"reason": "拖欠工资"}
	steps := []struct {
		name   string
		c      caller
		route  string
		path   string
		body   any
		status int
		want   map[string]int
	}{
		{"register", citizen("boss1"), "PUT /v1/me/employer", "/v1/me/employer", employerBody(1), 200, map[string]int{get: 1, twi: 1}},
		{"re-sent registration", citizen("boss1"), "PUT /v1/me/employer", "/v1/me/employer", employerBody(1), 200, map[string]int{get: 1}},
		{"verify", admin, "POST /v1/admin/employers/{sub}/verify", adminPost("boss1", "verify"), map[string]any{}, 200, map[string]int{get: 1, twi: 1}},
		{"re-sent verification", admin, "POST /v1/admin/employers/{sub}/verify", adminPost("boss1", "verify"), map[string]any{}, 200, map[string]int{get: 1}},
		{"suspend (2 open jobs)", admin, "POST /v1/admin/employers/{sub}/suspend", adminPost("boss2", "suspend"), reason, 200, map[string]int{get: 1, twi: 1, query: 1, batch: 1, upd: 2}},
		{"reinstate (2 open jobs)", admin, "POST /v1/admin/employers/{sub}/reinstate", adminPost("boss2", "reinstate"), nil, 200, map[string]int{get: 5, twi: 1, query: 1, batch: 1, upd: 2}},
		{"public view", citizen("c1"), "GET /v1/employers/{sub}", "/v1/employers/boss1", nil, 200, map[string]int{get: 1}},
		{"report", citizen("c1"), "POST /v1/employers/{sub}/reports", "/v1/employers/boss1/reports", reason, 200, map[string]int{get: 2, twi: 1}},
		{"opt in (2 trades)", citizen("w1"), "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "bricklayer", "tiler"), 200, map[string]int{get: 1, twi: 1}},
		{"re-sent profile", citizen("w1"), "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "bricklayer", "tiler"), 200, map[string]int{get: 1}},
		{"drop a trade", citizen("w1"), "PUT /v1/me/worker", "/v1/me/worker", workerBody("张三", builders.VisibilityProfile, "tiler"), 200, map[string]int{get: 1, twi: 1}},
		{"opt out", citizen("w1"), "DELETE /v1/me/worker", "/v1/me/worker", nil, 204, map[string]int{get: 1, twi: 1}},
		{"settings", admin, "PUT /v1/admin/builders/settings", "/v1/admin/builders/settings", map[string]any{"minimumWage": map[string]any{"month": 2000, "day": 93}}, 200, map[string]int{get: 1, put: 1}},
		{"review queue", admin, "GET /v1/admin/employers", "/v1/admin/employers?status=verified", nil, 200, map[string]int{query: 1}},
	}
	var report []string
	for _, s := range steps {
		h.e.Calls.Reset()
		rec.Reset()
		h.must(s.status, s.c, s.route, s.path, s.body, nil)
		got := h.e.Calls.Snapshot()
		if !maps.Equal(got, s.want) {
			t.Errorf("%s: calls %v; want %v", s.name, got, s.want)
		}
		var wcu float64
		for _, l := range rec.Lines() {
			wcu += l.WCU()
		}
		report = append(report, fmt.Sprintf("%-28s %v, %.0f write units", s.name, got, wcu))
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + strings.Join(report, "\n"))
}
