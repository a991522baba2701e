package kpi

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func rec(kind string, n int64, detail string) BuildersRecord {
	return BuildersRecord{Kind: kind, N: n, Detail: detail}
}

// TestBuildersDay: one day's builders' figures from its records, per kind.
func TestBuildersDay(t *testing.T) {
	tests := []struct {
		name string
		in   []BuildersRecord
		want BuildersStat
	}{
		{name: "nothing"},
		{name: "jobs count once each, places by their headcounts", in: []BuildersRecord{
			rec(builders.RecJobPosted, 10, ""), rec(builders.RecJobPosted, 3, "")},
			want: BuildersStat{JobsPosted: 2, PlacesOffered: 13}},
		{name: "the worker's path", in: []BuildersRecord{
			rec(builders.RecEmployerVerified, 1, ""), rec(builders.RecSearch, 1, ""), rec(builders.RecSearch, 1, ""),
			rec(builders.RecApplication, 1, ""), rec(builders.RecInvitation, 1, ""), rec(builders.RecHire, 1, ""),
			rec(builders.RecHire, 1, ""), rec(builders.RecHireCompleted, 1, ""), rec(builders.RecHireCancelled, 1, "")},
			want: BuildersStat{EmployersVerified: 1, Searches: 2, Applications: 1, Invitations: 1, Hires: 2, HiresCompleted: 1, HiresCancelled: 1}},
		{name: "fairs by their employers, transfers by their workers", in: []BuildersRecord{
			rec(builders.RecFair, 36, ""), rec(builders.RecFairCheckin, 1, ""), rec(builders.RecFairCheckin, 1, ""),
			rec(builders.RecTransfer, 120, ""), rec(builders.RecTransfer, 15, "")},
			want: BuildersStat{Fairs: 1, FairEmployers: 36, FairCheckins: 2, Transfers: 2, TransferredWorkers: 135}},
		{name: "consultations by desk kind; an unknown kind or desk counts nowhere", in: []BuildersRecord{
			rec(builders.RecConsultation, 1, builders.DeskMedical), rec(builders.RecConsultation, 1, builders.DeskLegal),
			rec(builders.RecConsultation, 1, builders.DeskLegal), rec(builders.RecConsultation, 1, "dental"), rec("juggling", 5, "")},
			want: BuildersStat{Consultations: Consultations{Medical: 1, Legal: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute("2026-11-30", Inputs{Builders: BuildersInputs{Records: tt.in}}, sh, at(30, 1, 0)).Builders
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestBuildersRange: a month's figures are its days' sums whether read from the days or the month's
// snapshot; the running totals keep every figure; the summary shows the range and the totals.
func TestBuildersRange(t *testing.T) {
	var days []Snapshot
	var want BuildersStat
	for d := 1; d <= 30; d++ {
		var in BuildersInputs
		for i := range d % 4 {
			in.Records = append(in.Records, rec(builders.RecJobPosted, int64(d+i), ""), rec(builders.RecSearch, 1, ""),
				rec(builders.RecConsultation, 1, []string{builders.DeskMedical, builders.DeskLegal}[i%2]))
			want.JobsPosted++
			want.PlacesOffered += int64(d + i)
			want.Searches++
			if i%2 == 0 {
				want.Consultations.Medical++
			} else {
				want.Consultations.Legal++
			}
		}
		if d%7 == 0 {
			in.Records = append(in.Records, rec(builders.RecTransfer, int64(10*d), ""))
			want.Transfers++
			want.TransferredWorkers += int64(10 * d)
		}
		days = append(days, Compute(fmt.Sprintf("2026-11-%02d", d), Inputs{Builders: in}, sh, at(d, 23, 0)))
	}
	month := Merge("2026-11", days)
	fromDays := Summarize("2026-11-01", "2026-11-30", days)
	fromMonth := Summarize("2026-11-01", "2026-11-30", []Snapshot{month})
	if fromDays.Builders.BuildersStat != want || fromMonth.Builders.BuildersStat != want {
		t.Errorf("from the days %+v\nfrom the month %+v\nwant %+v", fromDays.Builders, fromMonth.Builders, want)
	}
	// A range of one week holds that week's days only.
	week := Summarize("2026-11-08", "2026-11-14", days)
	if week.Builders.Transfers != 1 || week.Builders.TransferredWorkers != 140 {
		t.Errorf("the week %+v, want the transfer of the 14th only", week.Builders)
	}
	total := Merge(TotalKey, []Snapshot{Merge("2026", []Snapshot{month}), Compute("2027-01-02", Inputs{Builders: BuildersInputs{Records: []BuildersRecord{
		rec(builders.RecHireCompleted, 1, "")}}}, sh, at(2, 1, 0))})
	want.HiresCompleted++
	if total.Builders != want {
		t.Errorf("totals %+v, want %+v", total.Builders, want)
	}
	if asJSON(fromDays.Builders) == asJSON(BuildersSummary{}) {
		t.Error("the summary's builders block is empty")
	}
}

// TestBuildersSummaryFromTheService: the KPI API's summary carries the range's builders' figures and the
// running totals (every day so far, not only the range), as JSON the console reads.
func TestBuildersSummaryFromTheService(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, sh)
	st := newMemStore()
	svc := NewService(st, noDir{}, sh, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)), 5, "2026-01-01")
	for d := 1; d <= 29; d++ {
		in := BuildersInputs{Records: []BuildersRecord{rec(builders.RecJobPosted, 5, ""), rec(builders.RecHire, 1, "")}}
		if d > 20 {
			in.Records = append(in.Records, rec(builders.RecConsultation, 1, builders.DeskLegal))
		}
		if err := st.PutSnapshot(ctx, Compute(fmt.Sprintf("2026-11-%02d", d), Inputs{Builders: in}, sh, now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Remerge(ctx, "2026-11-01", "2026-11-29"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Summary(ctx, "2026-11-21", "2026-11-29")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"employersVerified":0,"jobsPosted":9,"placesOffered":45,"searches":0,"applications":0,"invitations":0,"hires":9,` +
		`"hiresCompleted":0,"hiresCancelled":0,"fairs":0,"fairEmployers":0,"fairCheckins":0,"transfers":0,"transferredWorkers":0,` +
		`"consultations":{"medical":0,"legal":9},"total":{"employersVerified":0,"jobsPosted":29,"placesOffered":145,"searches":0,` +
		`"applications":0,"invitations":0,"hires":29,"hiresCompleted":0,"hiresCancelled":0,"fairs":0,"fairEmployers":0,"fairCheckins":0,` +
		`"transfers":0,"transferredWorkers":0,"consultations":{"medical":0,"legal":9}}}`
	if g := asJSON(got.Builders); g != want {
		t.Errorf("builders %s\nwant %s", g, want)
	}
}

// TestBuildersMergeAddsEveryFigure: merge adds each of the block's figures, including any added later (the
// range tests fill only some of them).
func TestBuildersMergeAddsEveryFigure(t *testing.T) {
	var one, want BuildersStat
	n := int64(0)
	var fill func(o, w reflect.Value)
	fill = func(o, w reflect.Value) {
		for i := range o.NumField() {
			switch f := o.Field(i); f.Kind() {
			case reflect.Int64:
				n++
				f.SetInt(n)
				w.Field(i).SetInt(2 * n)
			case reflect.Struct:
				fill(f, w.Field(i))
			default:
				t.Fatalf("BuildersStat field %s of kind %s", o.Type().Field(i).Name, f.Kind())
			}
		}
	}
	fill(reflect.ValueOf(&one).Elem(), reflect.ValueOf(&want).Elem())
	var got BuildersStat
	got.merge(one)
	got.merge(one)
	if got != want || n != 16 {
		t.Errorf("merged twice %+v\nwant %+v (%d figures, want 16)", got, want, n)
	}
}
