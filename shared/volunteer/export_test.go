package volunteer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestExportDays(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	tests := []struct {
		from, to string
		n        int
		err      error
	}{
		{"2026-12-01", "2026-12-01", 1, nil},
		{"2026-11-30", "2026-12-02", 3, nil},
		{"2024-01-01", "2024-12-31", 366, nil}, // a leap year
		{"2025-01-01", "2026-01-01", 366, nil},
		{"2025-01-01", "2026-01-02", 0, ErrExportRange},
		{"2026-12-02", "2026-12-01", 0, ErrExportRange},
		{"2026-12-1", "2026-12-01", 0, ErrExportRange},
		{"", "2026-12-01", 0, ErrExportRange},
		{"2026-02-30", "2026-03-01", 0, ErrExportRange},
	}
	for _, tt := range tests {
		days, err := exportDays(tt.from, tt.to, tz)
		if !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) || len(days) != tt.n {
			t.Errorf("%s..%s: %d days, %v", tt.from, tt.to, len(days), err)
		}
		if tt.n > 0 && (days[0] != tt.from || days[len(days)-1] != tt.to) {
			t.Errorf("%s..%s: %s..%s", tt.from, tt.to, days[0], days[len(days)-1])
		}
	}
}

func TestRecordCSV(t *testing.T) {
	at := time.Date(2026, 12, 5, 6, 30, 0, 0, time.UTC)
	var buf bytes.Buffer
	w, err := NewRecordCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	recs := []Record{
		{ActivityID: "a1", Sub: "v1", Revision: 2, Kind: RecordConfirmed, Minutes: 105, Delta: 15, PrevAt: at.Add(-time.Hour),
			By: "org1", At: at, TeamID: "t1", Type: TypeCleanup, Title: `=HYPERLINK("x"),清扫`, Start: at.Add(-5 * time.Hour), End: at.Add(-3 * time.Hour)},
		{ActivityID: "a1", Sub: "v2", Revision: 1, Kind: RecordRevoked, Minutes: 0, Delta: -60, By: "admin1", At: at, Title: "巾帼英雄·清洁家园"},
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		CSVColumns(),
		{"2026-12-05T06:30:00.000Z", "a1", `'=HYPERLINK("x"),清扫`, "cleanup", "t1", "2026-12-05T01:30:00.000Z", "2026-12-05T03:30:00.000Z",
			"v1", "2", "confirmed", "105", "1.75", "15", "2026-12-05T05:30:00.000Z", "org1"},
		{"2026-12-05T06:30:00.000Z", "a1", "巾帼英雄·清洁家园", "", "", "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000Z",
			"v2", "1", "revoked", "0", "0.00", "-60", "", "admin1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %v", rows)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d:\n%q\nwant\n%q", i, rows[i], want[i])
		}
	}
}
