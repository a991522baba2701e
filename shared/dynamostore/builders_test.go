package dynamostore

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/builders"
)

// buildersStore is a Store on a fresh table of the template's, in moto.
func buildersStore(t *testing.T, name string) *Store {
	t.Helper()
	srv := motoserver.ForTest(t)
	cfg, err := srv.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(t.Context(), cfg, name, motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	return New(dynamodb.NewFromConfig(cfg), res.Tables["Table"].Name, sh)
}

// A KPI record's gsi1 partition is the local day of its time (00:30 in Shanghai is that day, 16:30 UTC the
// day before), and its put writes it once: the same event in a second transaction cancels it.
func TestBuilderRecordPut(t *testing.T) {
	s := buildersStore(t, "bldrec")
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC) // 2026-12-01 00:30 local
	rec := builders.Record{ID: "boss1", Kind: builders.RecEmployerVerified, N: 1, Ref: "boss1", At: at}
	put := s.builderRecordPut(rec)
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{s.builderRecordPut(rec)}})
	if rs := cancellationReasons(err); len(rs) != 1 || aws.ToString(rs[0].Code) != "ConditionalCheckFailed" {
		t.Fatalf("second put: %v", err)
	}
	var it builderRecordItem
	if ok, err := s.getItem(ctx, "get", "BLDREC#employer_verified#boss1", "BLDREC", &it); err != nil || !ok {
		t.Fatalf("record: %v %v", ok, err)
	}
	want := builderRecordItem{PK: "BLDREC#employer_verified#boss1", SK: "BLDREC", Type: "builders_record", Kind: "employer_verified",
		N: 1, Ref: "boss1", At: "2026-11-30T16:30:00.000Z", GSI1PK: "BLDREC#2026-12-01", GSI1SK: "2026-11-30T16:30:00.000Z#employer_verified#boss1"}
	if it != want {
		t.Errorf("record %+v, want %+v", it, want)
	}
}

func TestEmployerStore(t *testing.T) {
	s := buildersStore(t, "bldemp")
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	emp := func(sub, licence string, i int) builders.Employer {
		at := t0.Add(time.Duration(i) * time.Minute)
		return builders.Employer{Sub: sub, Name: "公司 " + sub, Licence: licence, Contact: builders.Contact{Name: "李", Phone: "13800138000"},
			Status: builders.EmployerPending, CreatedAt: at, UpdatedAt: at}
	}
	if _, err := s.Employer(ctx, "boss1"); !errors.Is(err, builders.ErrEmployerNotFound) {
		t.Fatalf("no employer: %v", err)
	}
	e1 := emp("boss1", "91440300708461136T", 0)
	if err := s.RegisterEmployer(ctx, e1, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterEmployer(ctx, e1, nil); !errors.Is(err, builders.ErrEmployerStatus) {
		t.Errorf("registered twice: %v", err)
	}
	if err := s.RegisterEmployer(ctx, emp("boss2", "91440300708461136T", 1), nil); !errors.Is(err, builders.ErrLicenceTaken) {
		t.Errorf("another account's licence: %v", err)
	}
	if _, err := s.Employer(ctx, "boss2"); !errors.Is(err, builders.ErrEmployerNotFound) {
		t.Errorf("a refused registration was written: %v", err)
	}
	got, err := s.Employer(ctx, "boss1")
	if err != nil || got.Licence != e1.Licence || got.Status != builders.EmployerPending || !got.CreatedAt.Equal(e1.CreatedAt) {
		t.Fatalf("read back %+v %v", got, err)
	}
	// A correction from a stale read is refused.
	stale := e1
	stale.UpdatedAt = t0.Add(-time.Hour)
	next := e1
	next.Name, next.UpdatedAt = "新名", t0.Add(time.Hour)
	if err := s.RegisterEmployer(ctx, next, &stale); !errors.Is(err, builders.ErrEmployerStatus) {
		t.Errorf("stale correction: %v", err)
	}

	// Verification with its record, once.
	v := got
	v.Status, v.VerifiedBy, v.VerifiedAt, v.UpdatedAt = builders.EmployerVerified, "admin1", t0.Add(time.Hour), t0.Add(time.Hour)
	rec := builders.Record{ID: "boss1", Kind: builders.RecEmployerVerified, N: 1, Ref: "boss1", At: v.VerifiedAt}
	if err := s.SetEmployerStatus(ctx, v, []string{builders.EmployerPending}, &rec); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEmployerStatus(ctx, v, []string{builders.EmployerPending}, &rec); !errors.Is(err, builders.ErrEmployerStatus) {
		t.Errorf("verified twice: %v", err)
	}
	if err := s.SetEmployerStatus(ctx, builders.Employer{Sub: "nobody", Status: builders.EmployerVerified, UpdatedAt: t0}, []string{builders.EmployerPending}, nil); !errors.Is(err, builders.ErrEmployerStatus) {
		t.Errorf("an absent employer: %v", err)
	}
	got, _ = s.Employer(ctx, "boss1")
	if got.Status != builders.EmployerVerified || got.VerifiedBy != "admin1" {
		t.Errorf("verified: %+v", got)
	}

	// The review queue, page by page, oldest first; a forged cursor is refused.
	for i, sub := range []string{"boss3", "boss4", "boss5"} {
		if err := s.RegisterEmployer(ctx, emp(sub, fmt.Sprintf("licence-%d", i), i+2), nil); err != nil {
			t.Fatal(err)
		}
	}
	var subs []string
	cursor := ""
	for range 3 {
		page, next, err := s.Employers(ctx, builders.EmployerPending, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			subs = append(subs, e.Sub)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if !slices.Equal(subs, []string{"boss3", "boss4", "boss5"}) {
		t.Errorf("pending queue %v", subs)
	}
	if _, _, err := s.Employers(ctx, builders.EmployerPending, "bm90IGEgY3Vyc29y", 2); !errors.Is(err, builders.ErrInvalid) {
		t.Errorf("forged cursor: %v", err)
	}

	// Reports: once per reporter, counted on the employer; none against an absent employer.
	for i, want := range []bool{true, false} {
		added, err := s.ReportEmployer(ctx, "boss1", "c1", "拖欠", t0)
		if err != nil || added != want {
			t.Errorf("report %d: %t %v", i, added, err)
		}
	}
	if _, err := s.ReportEmployer(ctx, "nobody", "c1", "拖欠", t0); !errors.Is(err, builders.ErrEmployerNotFound) {
		t.Errorf("report of nobody: %v", err)
	}
	if got, _ := s.Employer(ctx, "boss1"); got.Reports != 1 {
		t.Errorf("reports = %d", got.Reports)
	}
}

// The employer's open jobs are found through gsi3, newest first, at most limit, skipping closed ones.
func TestEmployerOpenJobIDs(t *testing.T) {
	s := buildersStore(t, "bldjobs")
	ctx := t.Context()
	for i := range 5 {
		status := builders.JobOpen
		if i%2 == 1 {
			status = builders.JobClosed
		}
		id := fmt.Sprintf("j%d", i)
		at := fmt.Sprintf("2026-12-01T0%d:00:00.000Z", i)
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
			"pk": str("JOB#" + id), "sk": str("JOB"), "type": str("job"), "id": str(id), "jstatus": str(status),
			"gsi3pk": str("EMPJOBS#boss1"), "gsi3sk": str(at + "#" + id)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.EmployerOpenJobIDs(ctx, "boss1", 10)
	if err != nil || !slices.Equal(ids, []string{"j4", "j2", "j0"}) {
		t.Errorf("open jobs %v %v", ids, err)
	}
	if ids, _ := s.EmployerOpenJobIDs(ctx, "boss1", 2); len(ids) != 2 {
		t.Errorf("limit 2: %v", ids)
	}
	if ids, _ := s.EmployerOpenJobIDs(ctx, "boss9", 10); len(ids) != 0 {
		t.Errorf("another employer's: %v", ids)
	}
}

// A profile and its match entries are written together; the matching reader (MatchEntries) finds them in
// the area's cell with no phone; a stale write is refused; opting out removes all.
func TestWorkerStore(t *testing.T) {
	s := buildersStore(t, "bldwork")
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	w := builders.Worker{Sub: "w1", Name: "张三", Phone: "13800138000", Trades: []string{"bricklayer", "tiler"}, Years: 5,
		Area: builders.Area{Lat: 23.3962, Lng: 103.3756, RadiusKm: 10}, Expected: builders.Wage{Min: 200, Unit: builders.UnitDay},
		AvailableFrom: "2026-12-01", Visibility: builders.VisibilityProfile, CreatedAt: t0, UpdatedAt: t0}
	if err := s.PutWorker(ctx, w, builders.MatchEntries(w), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWorker(ctx, w, builders.MatchEntries(w), nil); !errors.Is(err, builders.ErrWorkerChanged) {
		t.Errorf("opted in twice: %v", err)
	}
	got, err := s.Worker(ctx, "w1")
	if err != nil || got.Phone != w.Phone || !slices.Equal(got.Trades, w.Trades) || got.Area != w.Area {
		t.Fatalf("read back %+v %v", got, err)
	}
	cell := workerCell(w.Area)
	es, err := s.MatchEntries(ctx, "bricklayer", []string{cell, "zzzz"}, 200)
	if err != nil || len(es) != 1 || es[0].Sub != "w1" || es[0].DisplayName != "张师傅" || es[0].DailyWant != 200 || es[0].Area != w.Area {
		t.Errorf("bricklayers in %s: %+v %v", cell, es, err)
	}
	if want := builders.MatchEntries(w)[0]; len(es) == 1 && es[0] != want {
		t.Errorf("the entry read back is %+v, written %+v", es[0], want)
	}

	// Drop bricklayer: its entry goes in the same transaction.
	w2 := w
	w2.Trades, w2.UpdatedAt = []string{"tiler"}, t0.Add(time.Minute)
	if err := s.PutWorker(ctx, w2, builders.MatchEntries(w2), &w); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWorker(ctx, w2, builders.MatchEntries(w2), &w); !errors.Is(err, builders.ErrWorkerChanged) {
		t.Errorf("a write from a stale read: %v", err)
	}
	if es, _ := s.MatchEntries(ctx, "bricklayer", []string{cell}, 200); len(es) != 0 {
		t.Errorf("bricklayer entries after dropping it: %+v", es)
	}
	if es, _ := s.MatchEntries(ctx, "tiler", []string{cell}, 200); len(es) != 1 {
		t.Errorf("tiler entries: %+v", es)
	}
	if err := s.DeleteWorker(ctx, w2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Worker(ctx, "w1"); !errors.Is(err, builders.ErrNotWorker) {
		t.Errorf("after opting out: %v", err)
	}
	if es, _ := s.MatchEntries(ctx, "tiler", []string{cell}, 200); len(es) != 0 {
		t.Errorf("entries after opting out: %+v", es)
	}
}

// Settings: the defaults until saved, then what was saved.
func TestBuildersSettingsStore(t *testing.T) {
	s := buildersStore(t, "bldset")
	ctx := t.Context()
	st, err := s.BuildersSettings(ctx)
	if err != nil || st.MinimumWage != builders.DefaultSettings().MinimumWage || !st.UpdatedAt.IsZero() {
		t.Fatalf("defaults %+v %v", st, err)
	}
	want := builders.Settings{MinimumWage: builders.MinimumWage{Month: 2200, Day: 102}, UpdatedAt: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), UpdatedBy: "admin1"}
	if err := s.PutBuildersSettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	if st, err := s.BuildersSettings(ctx); err != nil || st.MinimumWage != want.MinimumWage || !st.UpdatedAt.Equal(want.UpdatedAt) || st.UpdatedBy != "admin1" {
		t.Errorf("saved %+v %v", st, err)
	}
}
