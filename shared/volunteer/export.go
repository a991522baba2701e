package volunteer

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// MaxExportDays bounds one export's range of local days.
const MaxExportDays = 366

// ErrExportRange: from and to are not a range of at most MaxExportDays local days.
var ErrExportRange = apperr.New(apperr.Invalid, "invalid_range", "from and to are local days YYYY-MM-DD, from not after to, at most 366 days")

// Export calls each with the service records made on the local days from to to (inclusive), day by day,
// each day's in the order they were made (admins: the national volunteer service system's download).
// Nothing is read before the range is checked.
func (s *AttendanceService) Export(ctx context.Context, p auth.Principal, from, to string, each func(Record) error) error {
	if err := p.Require(auth.Admin); err != nil {
		return err
	}
	days, err := exportDays(from, to, s.tz)
	if err != nil {
		return err
	}
	for _, day := range days {
		if err := s.store.RecordsOn(ctx, day, each); err != nil {
			return err
		}
	}
	return nil
}

// exportDays lists the local days from to to.
func exportDays(from, to string, tz *time.Location) ([]string, error) {
	f, err1 := time.ParseInLocation(time.DateOnly, from, tz)
	t, err2 := time.ParseInLocation(time.DateOnly, to, tz)
	if err1 != nil || err2 != nil || t.Before(f) {
		return nil, ErrExportRange
	}
	var days []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		if len(days) == MaxExportDays {
			return nil, ErrExportRange
		}
		days = append(days, d.Format(time.DateOnly))
	}
	return days, nil
}

// CSVColumns are the export's columns (README "Volunteers"), one row per service record.
var csvColumns = []string{
	"at", "activity_id", "activity_title", "activity_type", "team_id", "activity_start", "activity_end",
	"volunteer_sub", "revision", "kind", "minutes", "hours", "delta_minutes", "prev_at", "confirmed_by",
}

// CSVColumns returns the export's columns.
func CSVColumns() []string { return append([]string(nil), csvColumns...) }

// RecordCSV writes service records as CSV (RFC 4180; times RFC 3339 UTC with milliseconds).
type RecordCSV struct{ w *csv.Writer }

// NewRecordCSV returns a writer to w that has written the header row.
func NewRecordCSV(w io.Writer) (*RecordCSV, error) {
	c := &RecordCSV{w: csv.NewWriter(w)}
	return c, c.w.Write(csvColumns)
}

// Write writes one record.
func (c *RecordCSV) Write(r Record) error {
	prev := ""
	if !r.PrevAt.IsZero() {
		prev = csvTime(r.PrevAt)
	}
	return c.w.Write([]string{
		csvTime(r.At), r.ActivityID, cell(r.Title), r.Type, r.TeamID, csvTime(r.Start), csvTime(r.End),
		r.Sub, strconv.FormatInt(r.Revision, 10), r.Kind, strconv.FormatInt(r.Minutes, 10),
		strconv.FormatFloat(float64(r.Minutes)/60, 'f', 2, 64), strconv.FormatInt(r.Delta, 10), prev, r.By,
	})
}

// Flush writes what is buffered and reports any error of the writes.
func (c *RecordCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

func csvTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// cell keeps an organiser's free text from being read as a formula by a spreadsheet (OWASP's CSV
// injection advice: a leading =, +, -, @, tab or carriage return gets a leading apostrophe).
func cell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
