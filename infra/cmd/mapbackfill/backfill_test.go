package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
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

// failing stops a run after pages pages, as an interrupted one does.
type failing struct {
	store
	pages int
}

func (f *failing) BackfillMapDay(ctx context.Context, day, after string, limit int) (dynamostore.MapBackfillPage, error) {
	if f.pages == 0 {
		return dynamostore.MapBackfillPage{}, errors.New("interrupted")
	}
	f.pages--
	return f.store.BackfillMapDay(ctx, day, after, limit)
}

// The backfill against moto: reports of two days filed before gsi6 (no map keys), one of them private,
// one that has its keys already, and one of a day outside the range. A run stopped after two pages
// resumes from its checkpoint; together they put every public report of the range on the map once and
// leave the private one, the one outside and the keyed one as they were; a run again does nothing, and
// one walked again with -restart reads everything and writes nothing.
func TestBackfillPutsOldReportsOnTheMapOnce(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	day := func(d, h int) time.Time { return time.Date(2025, 3, d, h, 0, 0, 0, e.TZ) }
	type filed struct {
		id     string
		at     time.Time
		strip  bool // filed before gsi6: no map keys
		public bool
	}
	var reps []filed
	for i := range 5 {
		reps = append(reps, filed{fmt.Sprintf("00000000-0000-5000-8000-0000000001%02d", i), day(1, 8+i), true, true})
	}
	for i := range 3 {
		reps = append(reps, filed{fmt.Sprintf("00000000-0000-5000-8000-0000000002%02d", i), day(2, 8+i), true, true})
	}
	reps = append(reps,
		filed{"00000000-0000-5000-8000-000000000300", day(2, 20), true, false}, // filed as not public
		filed{"00000000-0000-5000-8000-000000000301", day(2, 21), false, true}, // filed with its keys
		filed{"00000000-0000-5000-8000-000000000302", day(3, 9), true, true},   // after the range
	)
	for _, f := range reps {
		r := report.Report{ID: f.id, Status: report.Dispatched, Category: "rubbish", Location: report.Location{Lat: 23.37, Lng: 103.39},
			ReporterSub: "u1", CreatedAt: f.at, UpdatedAt: f.at}
		if !f.public {
			r.Public = report.PublicFlag(new(bool))
		}
		if _, err := e.Store.InsertReport(ctx, r, "ab"); err != nil {
			t.Fatal(err)
		}
		if f.strip {
			if _, err := e.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.Table,
				Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#" + f.id}, "sk": &types.AttributeValueMemberS{Value: "REPORT"}},
				UpdateExpression: aws.String("REMOVE mapCell, mapKey")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	onMap := func() map[string]bool {
		t.Helper()
		svc := report.NewPublicService(e.Store, links{}, time.Now)
		page, err := svc.Map(ctx, report.MapQuery{BBox: report.BBox{MinLat: 23.30, MinLng: 103.30, MaxLat: 23.45, MaxLng: 103.45}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, it := range page.Items {
			out[it.ID] = true
		}
		return out
	}
	if m := onMap(); len(m) != 1 {
		t.Fatalf("before: %v on the map, want the keyed one only", m)
	}

	if _, err := backfill(ctx, &failing{store: e.Store, pages: 2}, "2025-03-01", "2025-03-02", 2, false, log); err == nil {
		t.Fatal("the interrupted run did not fail")
	}
	got, err := backfill(ctx, e.Store, "2025-03-01", "2025-03-02", 2, false, log)
	if err != nil {
		t.Fatal(err)
	}
	// The interrupted run did day 1's first two pages (4 reports); this one the rest: day 1's last page
	// (1 report) and day 2 (5: three to write, the private one, the keyed one).
	if got.Written != 4 || got.Private != 1 || got.Had != 1 || got.Read != 6 {
		t.Errorf("resumed run %+v, want 4 written (1 + 3), 1 private, 1 had its keys, 6 read", got)
	}
	m := onMap()
	for _, f := range reps {
		want := f.public && (f.at.Before(day(3, 0)) || !f.strip)
		if m[f.id] != want {
			t.Errorf("%s (%v): on the map %v, want %v", f.id, f.at, m[f.id], want)
		}
	}
	if len(m) != 9 {
		t.Errorf("%d on the map, want 9", len(m))
	}

	again, err := backfill(ctx, e.Store, "2025-03-01", "2025-03-02", 2, false, log)
	if err != nil || again != (totals{}) {
		t.Errorf("a run of a finished range: %+v, %v; want nothing", again, err)
	}
	re, err := backfill(ctx, e.Store, "2025-03-01", "2025-03-02", 100, true, log)
	if err != nil || re.Written != 0 || re.Read != 10 || re.Had != 9 || re.Private != 1 {
		t.Errorf("-restart: %+v, %v; want 10 read, nothing written", re, err)
	}
	if _, err := backfill(ctx, e.Store, "2025-03-02", "2025-03-01", 100, false, log); err == nil {
		t.Error("a reversed range was accepted")
	}
}

type links struct{}

func (links) PresignGet(_ context.Context, key, version string, _ time.Duration) (string, error) {
	return "https://bucket.example/" + key + "?versionId=" + version, nil
}
