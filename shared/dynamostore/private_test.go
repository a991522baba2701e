package dynamostore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/open311"
	"github.com/civicsnap/civicsnap/shared/report"
)

// A report filed as not public against moto: stored with private and without the map's index keys (so no
// gsi6 entry), read back as private, absent from the map, from Open311's day lists and from the public
// batch read, and refused a me too (report_not_found) by the service and by the store's own condition,
// with nothing written. Its public twin is everywhere it should be, so the test cannot pass by reading
// nothing.
func TestPrivateReportAgainstMoto(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	loc := report.Location{Lat: 23.37, Lng: 103.39}
	// Report ids have a UUID's shape (Open311's day list reads them from the index's sort key).
	const privateID, publicID = "00000000-0000-5000-8000-00000000000a", "00000000-0000-5000-8000-00000000000b"
	for _, id := range []string{privateID, publicID} {
		r := report.Report{ID: id, Status: report.Dispatched, Category: "rubbish", Location: loc, ReporterSub: "filer",
			CreatedAt: at, UpdatedAt: at, LeadDept: "sanitation"}
		if id == privateID {
			r.Public = report.PublicFlag(new(bool))
		}
		if _, err := e.plain.InsertReport(ctx, r, "ab"); err != nil {
			t.Fatal(err)
		}
	}
	raw := func(id string) map[string]types.AttributeValue {
		out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"pk": s("REPORT#" + id), "sk": s("REPORT")}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	if it := raw(privateID); it["mapCell"] != nil || it["mapKey"] != nil || it["private"] == nil {
		t.Errorf("private report stored with map keys %v %v, private %v", it["mapCell"], it["mapKey"], it["private"])
	}
	if it := raw(publicID); it["mapCell"] == nil || it["private"] != nil {
		t.Errorf("public report stored with map cell %v, private %v", it["mapCell"], it["private"])
	}
	got, err := e.plain.GetReport(ctx, privateID)
	if err != nil || !got.Private() {
		t.Fatalf("read back: private %v, %v", got.Private(), err)
	}
	if pub, err := e.plain.GetReport(ctx, publicID); err != nil || pub.Private() || pub.Public != nil {
		t.Fatalf("public read back: %+v, %v", pub.Public, err)
	}

	svc := report.NewPublicService(e.plain, links{}, func() time.Time { return at })
	page, err := svc.Map(ctx, report.MapQuery{BBox: report.BBox{MinLat: 23.30, MinLng: 103.30, MaxLat: 23.45, MaxLng: 103.45}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != publicID {
		t.Errorf("map shows %+v, want the public one only", page.Items)
	}
	if reps, err := e.plain.PublicReports(ctx, []string{privateID, publicID}); err != nil || len(reps) != 1 || reps[0].ID != publicID {
		t.Errorf("public batch read %+v, %v: want the public one only", reps, err)
	}

	neighbour := auth.Principal{Sub: "neighbour", Groups: []auth.Role{auth.Citizen}}
	if _, err := svc.MeToo(ctx, neighbour, privateID); !errors.Is(err, report.ErrNotFound) {
		t.Errorf("me too on a private report: %v, want report_not_found", err)
	}
	// The store's condition holds on its own (a target read as public).
	if _, err := e.plain.AddMeToo(ctx, report.MeTooTarget{ID: privateID, Status: report.Dispatched}, "neighbour", at); !errors.Is(err, report.ErrNotFound) {
		t.Errorf("AddMeToo on a private report: %v, want report_not_found", err)
	}
	out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"pk": s("METOO#" + privateID), "sk": s("neighbour")}})
	if err != nil || out.Item != nil || raw(privateID)["meToo"] != nil {
		t.Errorf("a refused me too wrote: marker %v, count %v, %v", out.Item, raw(privateID)["meToo"], err)
	}
	if res, err := svc.MeToo(ctx, neighbour, publicID); err != nil || res.Count != 1 {
		t.Errorf("me too on the public twin: %+v, %v", res, err)
	}

	// Open311's day list leaves it out (its keyless GETs list public reports only).
	day, _, err := e.plain.CreatedOn(ctx, at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"),
		open311.DayQuery{From: at.Add(-time.Hour), To: at.Add(time.Hour), Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(day) != 1 || day[0].ID != publicID {
		t.Errorf("Open311 day list %d reports, want the public one only", len(day))
	}
}
