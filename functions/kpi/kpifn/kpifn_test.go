package kpifn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/kpi/kpifn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

var sh = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

// dataset is a generated month with known outcomes.
type dataset struct {
	reports     []report.Report
	resolvedAt  map[string]time.Time
	deadline    map[string]time.Time
	lead        map[string]string
	items       []dynamostore.Item
	itemsPerDay map[string]int // items the roll-up of a day must read
}

var leads = map[string]string{"rubbish": "sanitation", "street_vending": "city_mgmt", "illegal_parking": "traffic_police",
	"street_light": "municipal", "damaged_road": "municipal", "manhole_cover": "municipal", "uncivil_dog": "police",
	"illegal_building": "housing", "noise": "environment", "other": "command_center"}

func day(t time.Time) string { return t.In(sh).Format(time.DateOnly) }

// generate makes n reports over October 2026 (local days), 7% duplicates, 3% invalid, ~90% of the rest
// resolved 1–200 hours later (some in November), each resolution with a +5 award; a redemption of 3 for
// every tenth award; one registration per reporter.
func generate(t testing.TB, store *dynamostore.Store, n int) dataset {
	rnd := rand.New(rand.NewPCG(42, 6))
	cats := []string{"rubbish", "street_vending", "illegal_parking", "street_light", "damaged_road", "manhole_cover", "uncivil_dog", "illegal_building", "noise", "other"}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, sh)
	ds := dataset{resolvedAt: map[string]time.Time{}, deadline: map[string]time.Time{}, lead: map[string]string{}, itemsPerDay: map[string]int{}}
	add := func(it dynamostore.Item, err error, d string) {
		if err != nil {
			t.Fatal(err)
		}
		ds.items = append(ds.items, it)
		ds.itemsPerDay[d]++
	}
	registered := map[string]bool{}
	for i := range n {
		created := start.Add(time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour))))
		switch i {
		case 0:
			created = time.Date(2026, 10, 14, 23, 59, 59, 0, sh) // the last second of a local day…
		case 1:
			created = time.Date(2026, 10, 15, 0, 0, 0, 0, sh) // …and the first of the next (same UTC day)
		}
		created = created.UTC().Truncate(time.Millisecond)
		sub := fmt.Sprintf("u%04d", rnd.IntN(1500))
		cat := cats[rnd.IntN(len(cats))]
		r := report.Report{ID: fmt.Sprintf("r%05d", i), Status: report.Dispatched, Category: cat, ReporterSub: sub,
			Location:  report.Location{Lat: 23.3 + rnd.Float64()*0.1, Lng: 103.3 + rnd.Float64()*0.1},
			CreatedAt: created, UpdatedAt: created, LeadDept: leads[cat]}
		roll := rnd.Float64()
		switch {
		case roll < 0.07:
			r.Status, r.DuplicateOf, r.LeadDept = report.Duplicate, "r00000", ""
		case roll < 0.10:
			r.Status, r.RejectReason = report.Rejected, "invalid"
		case rnd.Float64() < 0.9:
			r.Status = report.Resolved
			at := created.Add(time.Duration(1+rnd.IntN(200)) * time.Hour).Add(time.Duration(rnd.IntN(3600)) * time.Second)
			ds.resolvedAt[r.ID], ds.deadline[r.ID], ds.lead[r.ID] = at, created.Add(72*time.Hour), r.LeadDept
		}
		ds.reports = append(ds.reports, r)
		if at, ok := ds.resolvedAt[r.ID]; !ok {
			it, err := store.ReportItem(r)
			add(it, err, day(created))
		} else {
			// A resolved report carries its resolution: one item, read on its creation day and on the
			// day it was resolved.
			it, err := store.ResolvedReportItem(r, r.LeadDept, at, ds.deadline[r.ID])
			add(it, err, day(created))
			ds.itemsPerDay[day(at)]++
			it, err = store.LedgerItem(sub, points.Entry{ID: "award-" + r.ID, At: at, Delta: 5, Kind: points.KindAward, ReportID: r.ID})
			add(it, err, day(at))
			if i%10 == 0 {
				// The ledger line and the redemption it records, as the market writes them: the roll-up
				// finds the day's redemptions by their lines and reads each one's kind, points and status.
				red := market.Redemption{ID: r.ID, Sub: sub, ItemID: "umbrella", Kind: market.Goods, Quantity: 1, Amount: 3,
					Status: market.Reserved, CreatedAt: at.Add(time.Hour)}
				it, err = store.LedgerItem(sub, points.Entry{ID: "redemption-" + r.ID, At: red.CreatedAt, Delta: -3, Kind: points.KindRedemption, RedemptionID: r.ID})
				add(it, err, day(red.CreatedAt))
				it, err = store.RedemptionItem(red)
				add(it, err, day(red.CreatedAt))
			}
		}
		if !registered[sub] {
			registered[sub] = true
			it, err := store.ProfileItem(points.Profile{Sub: sub, Version: 1, CreatedAt: created}, created)
			add(it, err, day(created))
		}
	}
	return ds
}

// expected computes the summary of [from, to] straight from the generated data.
type expectation struct {
	received, duplicates, invalid, resolved, resolvedOfReceived, onTime int
	issued, redeemed                                                    int64
	registered, reporters                                               int
	minutes                                                             []int
}

func expect(ds dataset, from, to string) expectation {
	var e expectation
	in := func(t time.Time) bool { d := day(t); return d >= from && d <= to }
	reporters, firstSeen := map[string]bool{}, map[string]string{}
	for i, r := range ds.reports {
		if _, ok := firstSeen[r.ReporterSub]; !ok {
			firstSeen[r.ReporterSub] = day(r.CreatedAt)
		}
		if in(r.CreatedAt) {
			e.received++
			reporters[r.ReporterSub] = true
			switch r.Status {
			case report.Duplicate:
				e.duplicates++
			case report.Rejected:
				e.invalid++
			}
			if _, ok := ds.resolvedAt[r.ID]; ok {
				e.resolvedOfReceived++
			}
		}
		if at, ok := ds.resolvedAt[r.ID]; ok && in(at) {
			e.resolved++
			e.issued += 5
			e.minutes = append(e.minutes, int(math.Round(at.Sub(r.CreatedAt).Minutes())))
			if !at.After(ds.deadline[r.ID]) {
				e.onTime++
			}
		}
		if at, ok := ds.resolvedAt[r.ID]; ok && i%10 == 0 && in(at.Add(time.Hour)) {
			e.redeemed += 3
		}
	}
	for _, d := range firstSeen {
		if d >= from && d <= to {
			e.registered++
		}
	}
	e.reporters = len(reporters)
	slices.Sort(e.minutes)
	return e
}

func TestKPIsOfAGeneratedMonth(t *testing.T) {
	ctx := context.Background()
	env := moto.New(t, testenv.Options{})
	store := env.Store
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	ds := generate(t, store, n)
	loadStart := time.Now()
	if err := store.BatchPut(ctx, ds.items); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d reports (%d items) in %v", n, len(ds.items), time.Since(loadStart).Round(time.Millisecond))

	calls := env.Calls
	calls.Reset()
	today := time.Date(2026, 11, 30, 12, 0, 0, 0, sh)
	b := env.Base("KpiFunction", nil, nil)
	b.Now = func() time.Time { return today }
	fn, err := kpifn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := b.KPI()

	// One day's roll-up reads only that day's items (eleven Queries when each fits a page: the builders'
	// records' since issue 16), then its month's days, its year's months and the years, and writes the
	// day, the month, the year and the totals. (The first roll-up of a fresh table also merges the earlier
	// months of the year, once: it runs before the count.)
	if _, _, err := svc.RollUp(ctx, "2026-10-15"); err != nil {
		t.Fatal(err)
	}
	calls.Reset()
	_, stats, err := svc.RollUp(ctx, "2026-10-15")
	if err != nil {
		t.Fatal(err)
	}
	if stats.Items != ds.itemsPerDay["2026-10-15"] {
		t.Errorf("roll-up of 2026-10-15 read %d items, want exactly that day's %d", stats.Items, ds.itemsPerDay["2026-10-15"])
	}
	if q := calls.Snapshot()["DynamoDB.Query"]; q != stats.Queries || q > 14 || calls.Snapshot()["DynamoDB.PutItem"] != 4 || calls.Service("DynamoDB") != q+4+1 || stats.BatchGets != 1 {
		t.Errorf("calls for one day: %v (stats %+v), want the day's Queries, 3 roll-up Queries, one BatchGetItem of the day's redemptions and 4 PutItems", calls.Snapshot(), stats)
	}
	t.Logf("one day (2026-10-15): %d items read with %d Queries; calls %v", stats.Items, stats.Queries, calls.Snapshot())

	started := time.Now()
	// Resolutions come at most 201 hours after the last report (30 October), so 9 November is the last
	// day with items; the snapshots after it would be empty.
	payload, _ := json.Marshal(map[string]string{"from": "2026-10-01", "to": "2026-11-09"})
	if err := fn.Handle(ctx, payload); err != nil {
		t.Fatal(err)
	}
	t.Logf("backfill of 40 days over %d reports took %v",
		n, time.Since(started).Round(time.Millisecond))

	for _, w := range [][2]string{{"2026-10-01", "2026-10-30"}, {"2026-10-14", "2026-10-14"}, {"2026-10-15", "2026-10-15"}, {"2026-10-01", "2026-11-30"}} {
		got, err := svc.Summary(ctx, w[0], w[1])
		if err != nil {
			t.Fatal(err)
		}
		e := expect(ds, w[0], w[1])
		name := w[0] + ".." + w[1]
		eq := func(what string, got, want any) {
			t.Helper()
			if got != want {
				t.Errorf("%s %s = %v, want %v", name, what, got, want)
			}
		}
		eq("received", got.Received, e.received)
		eq("duplicates", got.Duplicates, e.duplicates)
		eq("invalid", got.Invalid, e.invalid)
		eq("resolved", got.Resolved, e.resolved)
		eq("resolvedOfReceived", got.ResolvedOfReceived, e.resolvedOfReceived)
		eq("onTime", got.OnTime, e.onTime)
		eq("pointsIssued", got.PointsIssued, e.issued)
		eq("pointsRedeemed", got.PointsRedeemed, e.redeemed)
		eq("registeredUsers", got.RegisteredUsers, e.registered)
		eq("activeReporters", got.ActiveReporters, e.reporters)
		if d := e.received - e.duplicates - e.invalid; d > 0 {
			eq("completionRate", *got.CompletionRate, math.Round(float64(e.resolvedOfReceived)/float64(d)*10000)/10000)
		}
		if len(e.minutes) > 0 {
			// Exact up to kpi.ExactDurations resolutions, then within kpi.Alpha (and the rounding to 0.1 h).
			exact := float64(e.minutes[int(math.Ceil(0.5*float64(len(e.minutes))))-1]) / 60
			tol := 0.05
			if len(e.minutes) > kpi.ExactDurations {
				tol += kpi.Alpha * exact
			}
			if math.Abs(*got.MedianHours-exact) > tol+1e-9 {
				t.Errorf("%s medianHours = %v, exact %.3f, want within %.3f", name, *got.MedianHours, exact, tol)
			}
		}
		if w == [2]string{"2026-10-01", "2026-10-30"} {
			t.Logf("October: received %d, resolved %d, completion %.4f, on-time %.4f, median %.1f h, p90 %.1f h",
				got.Received, got.Resolved, *got.CompletionRate, *got.OnTimeRate, *got.MedianHours, *got.P90Hours)
		}
	}

	// The boundary pair: 23:59:59 local counts on the 14th, 00:00:00 on the 15th.
	d14, _ := svc.Summary(ctx, "2026-10-14", "2026-10-14")
	d15, _ := svc.Summary(ctx, "2026-10-15", "2026-10-15")
	e14, e15 := expect(ds, "2026-10-14", "2026-10-14"), expect(ds, "2026-10-15", "2026-10-15")
	if d14.Received != e14.received || d15.Received != e15.received {
		t.Errorf("local-midnight split: %d/%d, want %d/%d", d14.Received, d15.Received, e14.received, e15.received)
	}

	// A range is the sum of its days.
	days, err := svc.DailySeries(ctx, "2026-10-01", "2026-10-30")
	if err != nil {
		t.Fatal(err)
	}
	month, _ := svc.Summary(ctx, "2026-10-01", "2026-10-30")
	var rec, resd, ofRec int
	var issued int64
	for _, d := range days {
		rec += d.Received
		resd += d.Resolved
		ofRec += d.ResolvedOfReceived
		issued += d.PointsIssued
	}
	if rec != month.Received || resd != month.Resolved || ofRec != month.ResolvedOfReceived || issued != month.PointsIssued {
		t.Errorf("sum of days (%d, %d, %d, %d) ≠ range (%d, %d, %d, %d)", rec, resd, ofRec, issued,
			month.Received, month.Resolved, month.ResolvedOfReceived, month.PointsIssued)
	}

	rows, minCases, err := svc.Departments(ctx, "2026-10-01", "2026-10-30")
	if err != nil {
		t.Fatal(err)
	}
	ranked := 0
	for i, r := range rows {
		if r.Rank != nil {
			ranked++
			if *r.Rank != i+1 || r.Assigned < minCases {
				t.Errorf("row %d = %+v", i, r)
			}
		}
	}
	if ranked == 0 {
		t.Errorf("no department ranked: %+v", rows)
	}
}
