package open311

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// dayStore serves CreatedOn from reports by local day (newest first, q.Limit at a time, the cursor the
// last id returned), as dynamostore does, and counts the calls.
type dayStore struct {
	Store
	byDay map[string][]report.Report // newest first
	calls []string
}

func (d *dayStore) CreatedOn(_ context.Context, day string, q DayQuery) ([]report.Report, string, error) {
	d.calls = append(d.calls, day)
	list := d.byDay[day]
	start := 0
	if q.After != "" {
		start = slices.IndexFunc(list, func(r report.Report) bool { return r.ID == q.After }) + 1
	}
	var out []report.Report
	for i := start; i < len(list); i++ {
		r := list[i]
		if r.CreatedAt.Before(q.From) || r.CreatedAt.After(q.To) {
			continue
		}
		out = append(out, r)
		if len(out) == q.Limit {
			if i+1 < len(list) {
				return out, r.ID, nil
			}
			return out, "", nil
		}
	}
	return out, "", nil
}

type fixedConfig struct{}

func (fixedConfig) Get(context.Context) (*dispatch.Config, error) {
	return &dispatch.Config{Categories: map[string]report.Category{"rubbish": {Code: "rubbish", NameZH: "垃圾", Active: true}}}, nil
}

type noLinks struct{}

func (noLinks) PhotoURL(context.Context, report.Photo) (string, error) { return "", nil }

func TestRequestsPageAcrossDaysNewestFirst(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, tz)
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, tz) }
	mk := func(id string, t time.Time) report.Report {
		return report.Report{ID: id, Category: "rubbish", Status: report.Dispatched, CreatedAt: t, UpdatedAt: t}
	}
	// Three reports today, none on the 29th, one on the 28th, two on the 27th; one on the 20th is outside
	// the window asked for.
	store := &dayStore{byDay: map[string][]report.Report{
		"2026-11-30": {mk("e", at(30, 11)), mk("d", at(30, 9)), mk("c", at(30, 1))},
		"2026-11-28": {mk("b", at(28, 20))},
		"2026-11-27": {mk("a2", at(27, 18)), mk("a1", at(27, 3))},
		"2026-11-20": {mk("z", at(20, 3))},
	}}
	svc := NewService(store, nil, fixedConfig{}, noLinks{}, nil, Settings{Jurisdiction: "mengzi"}, tz, func() time.Time { return now }, func() string { return "x" })
	q := url.Values{"start_date": {at(27, 0).UTC().Format(time.RFC3339)}, "page_size": {"2"}} // end_date: now
	var seen []string
	pages := 0
	for {
		out, next, err := svc.Requests(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Items {
			seen = append(seen, r.ServiceRequestID)
		}
		if len(out.Items) > 2 {
			t.Errorf("page %d has %d items", pages, len(out.Items))
		}
		if next == nil {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		q = next
		now = now.Add(24 * time.Hour) // a client following the link a day later reads the same window
	}
	if got := strings.Join(seen, ","); got != "e,d,c,b,a2,a1" {
		t.Errorf("pages gave %s, want e,d,c,b,a2,a1 (newest first, each once)", got)
	}
	if slices.Contains(store.calls, "2026-11-20") || slices.Contains(store.calls, "2026-11-26") {
		t.Errorf("read days outside the window: %v", store.calls)
	}

	// A page cursor is bound to its window: another start_date refuses it.
	q.Set("start_date", at(28, 0).UTC().Format(time.RFC3339))
	if _, _, err := svc.Requests(context.Background(), q); err == nil {
		t.Error("a cursor of another window was accepted")
	}
}

func TestRequestsWindow(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, tz)
	store := &dayStore{byDay: map[string][]report.Report{}}
	svc := NewService(store, nil, fixedConfig{}, noLinks{}, nil, Settings{}, tz, func() time.Time { return now }, func() string { return "x" })
	cases := []struct {
		q    string
		ok   bool
		days int // partitions read for an empty window
	}{
		{"", true, 91}, // the last 90 days
		{"start_date=2026-11-29T16:00:00Z", true, 1},  // today, local
		{"end_date=2026-11-29T00:00:00Z", true, 91},   // 90 days back from end_date
		{"start_date=2026-08-01T00:00:00Z", false, 0}, // more than 90 days
		{"start_date=2026-11-30T00:00:00Z&end_date=2026-11-29T00:00:00Z", false, 0},
		{"start_date=2026-11-29", false, 0}, // no time, no zone
		{"service_code=volcano", false, 0},
		{"status=pending", false, 0},
		{"page_size=0", false, 0},
		{"page_size=101", false, 0},
		{"page=" + encodeCursor(listCursor{day: "2026-12-31", firstDay: "2026-09-01"}), false, 0}, // after the window
		{"service_request_id=" + strings.Repeat("0196d4a2-8c1f-7e5b-9c3d-aa11bb22cc33,", 51), false, 0},
	}
	for _, tc := range cases {
		q, _ := url.ParseQuery(tc.q)
		store.calls = nil
		_, _, err := svc.Requests(context.Background(), q)
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok=%v", tc.q, err, tc.ok)
		}
		if tc.ok && len(store.calls) != tc.days {
			t.Errorf("%q: read %d day partitions, want %d", tc.q, len(store.calls), tc.days)
		}
	}
}

// byIDStore serves a report by id and a list of them, as dynamostore does (unknown ids left out).
type byIDStore struct {
	Store
	reports map[string]report.Report
}

func (b byIDStore) GetReport(_ context.Context, id string) (report.Report, error) {
	r, ok := b.reports[id]
	if !ok {
		return report.Report{}, report.ErrNotFound
	}
	return r, nil
}

func (b byIDStore) ReportsByID(_ context.Context, ids []string) ([]report.Report, error) {
	var out []report.Report
	for _, id := range ids {
		if r, ok := b.reports[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// A report its reporter filed as not public is unknown to Open311's keyless GETs: requests/{id} and
// tokens/{token} answer unknown_service_request, a service_request_id list leaves it out as it does an
// unknown id. (The window's list leaves it out in the store: dynamostore's TestPrivateReportAgainstMoto.)
func TestPrivateReportsAreUnknownToKeylessGETs(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, tz)
	const private, public = "00000000-0000-5000-8000-00000000000a", "00000000-0000-5000-8000-00000000000b"
	mk := func(id string, pub *bool) report.Report {
		return report.Report{ID: id, Category: "rubbish", Status: report.Dispatched, CreatedAt: at, UpdatedAt: at, Public: pub}
	}
	store := byIDStore{reports: map[string]report.Report{private: mk(private, report.PublicFlag(new(bool))), public: mk(public, nil)}}
	svc := NewService(store, nil, fixedConfig{}, noLinks{}, nil, Settings{Jurisdiction: "mengzi"}, tz, func() time.Time { return at }, func() string { return "x" })
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		call func(id string) (ServiceRequests, error)
	}{
		{"requests/{id}", func(id string) (ServiceRequests, error) { return svc.Request(ctx, id) }},
		{"tokens/{token}", func(id string) (ServiceRequests, error) { return svc.Token(ctx, id) }},
	} {
		if _, err := tt.call(private); err != ErrRequestID {
			t.Errorf("%s of a private report: %v, want unknown_service_request", tt.name, err)
		}
		if out, err := tt.call(public); err != nil || len(out.Items) != 1 || out.Items[0].ServiceRequestID != public {
			t.Errorf("%s of a public report: %+v, %v", tt.name, out, err)
		}
	}
	out, next, err := svc.Requests(ctx, url.Values{"service_request_id": {private + "," + public}})
	if err != nil || next != nil {
		t.Fatal(err, next)
	}
	if len(out.Items) != 1 || out.Items[0].ServiceRequestID != public {
		t.Errorf("list by id gave %+v, want the public report only", out.Items)
	}
}
