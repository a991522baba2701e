package dynamostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
)

type links struct{}

func (links) PresignGet(_ context.Context, key, version string, ttl time.Duration) (string, error) {
	return "https://bucket.example/" + key + "?versionId=" + version, nil
}

// The public map against moto: every public report in the box once, across pages of a multi-cell cover,
// through the store's filters; none that is not public; nothing of the reporter.
func TestPublicMapAgainstMoto(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	statuses := map[int]report.Status{3: report.Rejected, 7: report.Revoked, 11: report.Duplicate, 5: report.Resolved}
	want := map[string]bool{}
	for i := range 24 {
		r := report.Report{
			ID: fmt.Sprintf("map-%02d", i), Status: report.Submitted, Category: []string{"street_light", "rubbish"}[i%2],
			Description: "call me on 13800000000", Address: "home",
			Location:    report.Location{Lat: 23.25 + float64(i%6)*0.06, Lng: 103.20 + float64(i/6)*0.1},
			Photos:      []report.Photo{{Key: "photos/2026-11-30/0b6f8f1e-5b9c-4c2a-9a47-3f1f1f1f1f1f.jpg", VersionID: "v1", ContentType: "image/jpeg"}},
			ReporterSub: "reporter-secret", CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at,
		}
		if _, err := e.plain.InsertReport(ctx, r, "ab"); err != nil {
			t.Fatal(err)
		}
		if st, ok := statuses[i]; ok {
			if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table,
				Key:                       map[string]types.AttributeValue{"pk": s("REPORT#" + r.ID), "sk": s("REPORT")},
				UpdateExpression:          aws.String("SET #st = :st"),
				ExpressionAttributeNames:  map[string]string{"#st": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":st": s(string(st))}}); err != nil {
				t.Fatal(err)
			}
			if !report.PublicStatus(st) {
				continue
			}
		}
		want[r.ID] = true
	}
	svc := report.NewPublicService(e.plain, links{}, func() time.Time { return at })
	city := report.BBox{MinLat: 23.20, MinLng: 103.15, MaxLat: 23.60, MaxLng: 103.60}
	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 30 {
			t.Fatal("paging does not end")
		}
		page, err := svc.Map(ctx, report.MapQuery{BBox: city, Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(page)
		for _, secret := range []string{"reporter-secret", "13800000000", "home"} {
			if strings.Contains(string(body), secret) {
				t.Fatalf("page carries %q: %s", secret, body)
			}
		}
		for _, it := range page.Items {
			seen[it.ID]++
			if len(it.Photos) != 1 || !strings.HasSuffix(it.Photos[0].URL, "versionId=v1") {
				t.Errorf("%s photos %+v", it.ID, it.Photos)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("%s seen %d times", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d reports (%v), want %d", len(seen), seen, len(want))
	}

	// Filters run in the store: a box around one column, one category, a since.
	box := report.BBox{MinLat: 23.24, MinLng: 103.19, MaxLat: 23.56, MaxLng: 103.21}
	page, err := svc.Map(ctx, report.MapQuery{BBox: box, Limit: 100, Category: "street_light", Since: at.Add(2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range page.Items {
		got = append(got, it.ID)
	}
	if strings.Join(got, ",") != "map-02,map-04" { // map-00 is before since; odd ones are rubbish
		t.Errorf("filtered page %v, want map-02, map-04", got)
	}

	// A forged store position is invalid_cursor, not a 500.
	if _, _, err := e.plain.MapCell(ctx, "wk3n", report.MapFilter{BBox: city}, 5, "eyJQSyI6IiJ9"); !errors.Is(err, report.ErrInvalidCursor) {
		t.Errorf("forged position: %v", err)
	}
}

// Me too against moto: once per citizen (a second is a no-op), an atomic ADD on the report in the
// marker's transaction, refused on the reporter's own and on a closed report with nothing written.
func TestMeTooAgainstMoto(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	for _, id := range []string{"open-1", "done-1"} {
		r := report.Report{ID: id, Status: report.Dispatched, Category: "rubbish", Location: report.Location{Lat: 23.37, Lng: 103.39},
			ReporterSub: "filer", CreatedAt: at, UpdatedAt: at, LeadDept: "sanitation"}
		if id == "done-1" {
			r.Status = report.Resolved
		}
		if _, err := e.plain.InsertReport(ctx, r, "ab"); err != nil {
			t.Fatal(err)
		}
	}
	svc := report.NewPublicService(e.plain, links{}, func() time.Time { return at })
	neighbour := auth.Principal{Sub: "neighbour", Groups: []auth.Role{auth.Citizen}}
	for i := range 2 {
		res, err := svc.MeToo(ctx, neighbour, "open-1")
		if err != nil || res.Count != 1 {
			t.Fatalf("me too #%d: %+v, %v", i+1, res, err)
		}
	}
	if res, err := svc.MeToo(ctx, auth.Principal{Sub: "other", Groups: []auth.Role{auth.Citizen}}, "open-1"); err != nil || res.Count != 2 {
		t.Fatalf("another citizen: %+v, %v", res, err)
	}
	for _, tt := range []struct {
		p   auth.Principal
		id  string
		err error
	}{
		{auth.Principal{Sub: "filer", Groups: []auth.Role{auth.Citizen}}, "open-1", report.ErrMeTooOwn},
		{neighbour, "done-1", report.ErrMeTooClosed},
		{neighbour, "nope", report.ErrNotFound},
	} {
		if _, err := svc.MeToo(ctx, tt.p, tt.id); !errors.Is(err, tt.err) {
			t.Errorf("me too of %s on %s: %v, want %v", tt.p.Sub, tt.id, err, tt.err)
		}
	}
	// The store's own conditions hold too (a report that changed between the read and the write).
	for _, tt := range []struct {
		target report.MeTooTarget
		sub    string
		err    error
	}{
		{report.MeTooTarget{ID: "done-1", Status: report.Dispatched}, "late", report.ErrMeTooClosed},
		{report.MeTooTarget{ID: "open-1", Status: report.Dispatched}, "filer", report.ErrMeTooOwn},
	} {
		if _, err := e.plain.AddMeToo(ctx, tt.target, tt.sub, at); !errors.Is(err, tt.err) {
			t.Errorf("AddMeToo %s by %s: %v, want %v", tt.target.ID, tt.sub, err, tt.err)
		}
		out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"pk": s("METOO#" + tt.target.ID), "sk": s(tt.sub)}})
		if err != nil || out.Item != nil {
			t.Errorf("a refused me too left its marker: %v %v", out.Item, err)
		}
	}
	counts := map[string]string{}
	for _, id := range []string{"open-1", "done-1"} {
		out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"pk": s("REPORT#" + id), "sk": s("REPORT")}})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := out.Item["meToo"].(*types.AttributeValueMemberN); ok {
			counts[id] = v.Value
		}
	}
	if counts["open-1"] != "2" || counts["done-1"] != "" {
		t.Errorf("counts %v, want open-1 2 and none on done-1", counts)
	}
}

// A re-sent me too (its first answer lost after DynamoDB applied it) counts once.
func TestMeTooCountsOnceWhenResent(t *testing.T) {
	e := newResendEnv(t, "TransactWriteItems")
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	r := report.Report{ID: "resent-1", Status: report.Dispatched, Category: "rubbish", Location: report.Location{Lat: 23.37, Lng: 103.39},
		ReporterSub: "filer", CreatedAt: at, UpdatedAt: at}
	if _, err := e.plain.InsertReport(ctx, r, "ab"); err != nil {
		t.Fatal(err)
	}
	added, err := e.store.AddMeToo(ctx, report.MeTooTarget{ID: r.ID, Status: r.Status}, "neighbour", at)
	e.lost(t)
	if err != nil {
		t.Fatalf("re-sent me too: %v (added %v)", err, added)
	}
	target, err := e.plain.MeTooTarget(ctx, r.ID)
	if err != nil || target.MeToo != 1 {
		t.Fatalf("count %+v, %v; want 1", target, err)
	}
}

// The per-address counter: limit requests a window, a re-send of a counted request still counted, the
// next window fresh.
func TestPublicRequestCounter(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	ctx := t.Context()
	exp := time.Now().Add(2 * time.Minute)
	for i := range 3 {
		ok, err := e.plain.CountPublicRequest(ctx, "198.51.100.7", "2026-11-30T02:00", fmt.Sprint("req-", i), 3, exp)
		if err != nil || !ok {
			t.Fatalf("request %d: %v %v", i, ok, err)
		}
	}
	if ok, err := e.plain.CountPublicRequest(ctx, "198.51.100.7", "2026-11-30T02:00", "req-2", 3, exp); err != nil || !ok {
		t.Errorf("re-send of the last counted request: %v %v, want counted", ok, err)
	}
	if ok, err := e.plain.CountPublicRequest(ctx, "198.51.100.7", "2026-11-30T02:00", "req-3", 3, exp); err != nil || ok {
		t.Errorf("fourth request: %v %v, want refused", ok, err)
	}
	if ok, err := e.plain.CountPublicRequest(ctx, "203.0.113.9", "2026-11-30T02:00", "req-3", 3, exp); err != nil || !ok {
		t.Errorf("another address: %v %v", ok, err)
	}
	if ok, err := e.plain.CountPublicRequest(ctx, "198.51.100.7", "2026-11-30T02:01", "req-4", 3, exp); err != nil || !ok {
		t.Errorf("next minute: %v %v", ok, err)
	}
}
