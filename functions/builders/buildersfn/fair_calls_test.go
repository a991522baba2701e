package buildersfn_test

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/infra/cost"
)

// TestFairCalls counts the DynamoDB calls (exact) and write units (infra/cost's counting: the table's and
// each index's, transactions doubled) of a registration, a check-in, a booking and a served consultation;
// README "Builders' home" quotes the log.
func TestFairCalls(t *testing.T) {
	const (
		twi   = "DynamoDB.TransactWriteItems"
		get   = "DynamoDB.GetItem"
		query = "DynamoDB.Query"
		batch = "DynamoDB.BatchGetItem"
	)
	h, clk := newFairHarness(t)
	rec := cost.NewRecorder(h.e.DB, cost.SchemaOf(h.e.Template.Tables["Table"]))
	cfg := h.e.Counted.Copy()
	cfg.APIOptions = slices.Clone(h.e.Counted.APIOptions)
	rec.Attach("builders", &cfg)
	b := h.e.BaseOn(cfg, "BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil)))
	b.Now = clk.now
	fn, err := buildersfn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	h.fn = fn
	h.workers("w1", "w2")
	start := fairStart()
	f := h.publishFair("calls", fairBody(start, 10, nil, []string{"staff1"}))
	h.must(200, admin, "PUT /v1/admin/desks/{id}", "/v1/admin/desks/law1", map[string]any{"name": "法律援助", "kind": "legal", "staff": []string{"law1"}}, nil)
	slotStart := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	slotID := slotStart.Format("20060102T150405Z")
	h.must(201, citizen("law1"), "POST /v1/desks/{id}/slots", "/v1/desks/law1/slots",
		map[string]any{"slots": []map[string]any{{"start": slotStart, "end": slotStart.Add(time.Hour), "capacity": 2}}}, nil)
	clk.set(start.Add(-10 * time.Minute))
	code := h.fairCode(citizen("staff1"), f.ID)
	fairPath := "/v1/fairs/" + f.ID
	bookPath := "/v1/desks/law1/slots/" + slotID + "/bookings"
	steps := []struct {
		name   string
		c      caller
		route  string
		path   string
		body   any
		status int
		want   map[string]int
	}{
		{"register for a fair", citizen("w1"), "POST /v1/fairs/{id}/registrations", fairPath + "/registrations", nil, 201, map[string]int{batch: 1, twi: 1}},
		{"re-sent registration", citizen("w1"), "POST /v1/fairs/{id}/registrations", fairPath + "/registrations", nil, 200, map[string]int{batch: 1}},
		{"check in with the code", citizen("w1"), "POST /v1/fairs/{id}/checkin", fairPath + "/checkin", punchAt(code), 200, map[string]int{get: 2, twi: 1}},
		{"re-sent check-in", citizen("w1"), "POST /v1/fairs/{id}/checkin", fairPath + "/checkin", punchAt(code), 200, map[string]int{get: 2}},
		{"register w2", citizen("w2"), "POST /v1/fairs/{id}/registrations", fairPath + "/registrations", nil, 201, map[string]int{batch: 1, twi: 1}},
		{"the staff check w2 in", citizen("staff1"), "POST /v1/fairs/{id}/registrations/{sub}/checkin", fairPath + "/registrations/w2/checkin", nil, 200, map[string]int{get: 2, twi: 1}},
		{"book a consultation", citizen("w1"), "POST /v1/desks/{id}/slots/{slotId}/bookings", bookPath, map[string]any{"topic": "欠薪"}, 201, map[string]int{batch: 1, twi: 1}},
		{"mark it served", citizen("law1"), "POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served", bookPath + "/w1/served", nil, 200, map[string]int{get: 2, twi: 1}},
		{"re-sent served", citizen("law1"), "POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served", bookPath + "/w1/served", nil, 200, map[string]int{get: 2}},
		{"my fairs", citizen("w1"), "GET /v1/me/fairs", "/v1/me/fairs", nil, 200, map[string]int{query: 1, batch: 1}},
		{"my bookings", citizen("w1"), "GET /v1/me/bookings", "/v1/me/bookings", nil, 200, map[string]int{query: 1, batch: 1}},
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
		report = append(report, fmt.Sprintf("%-32s %v, %.0f write units", s.name, got, wcu))
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + strings.Join(report, "\n"))
}
