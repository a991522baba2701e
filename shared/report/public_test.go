package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/auth"
)

func TestCoverCoversTheBoxWithBoundedCells(t *testing.T) {
	tests := []struct {
		name      string
		box       BBox
		precision int // of the cells chosen
		wantErr   error
	}{
		{"a street", BBox{23.3750, 103.3900, 23.3780, 103.3930}, 7, nil},
		{"a neighbourhood", BBox{23.3700, 103.3850, 23.3760, 103.3920}, 6, nil},
		{"a district", BBox{23.33, 103.34, 23.42, 103.44}, 5, nil},
		{"the whole city (Mengzi)", BBox{23.20, 103.15, 23.60, 103.60}, 4, nil},
		{"a point", BBox{23.375, 103.39, 23.375 + 1e-9, 103.39 + 1e-9}, 7, nil},
		{"a province", BBox{21, 97, 29, 106}, 0, ErrBBoxTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells, err := Cover(tt.box)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Cover = %v, %v; want error %v", cells, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(cells) == 0 || len(cells) > MaxMapCells {
				t.Fatalf("%d cells, want 1..%d", len(cells), MaxMapCells)
			}
			for _, c := range cells {
				if len(c) != tt.precision {
					t.Fatalf("cell %q has precision %d, want %d", c, len(c), tt.precision)
				}
			}
			// Every point of the box (a grid of them, corners included) lies in exactly one cell of the cover.
			for i := 0; i <= 20; i++ {
				for j := 0; j <= 20; j++ {
					lat := tt.box.MinLat + (tt.box.MaxLat-tt.box.MinLat)*float64(i)/20
					lng := tt.box.MinLng + (tt.box.MaxLng-tt.box.MinLng)*float64(j)/20
					part, key := MapKeys(Location{Lat: lat, Lng: lng}, "t")
					n := 0
					for _, c := range cells {
						if strings.HasPrefix(key, c) && part == c[:MapPartitionPrecision] {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("point %.6f,%.6f (%s) is in %d cells of %v", lat, lng, key, n, cells)
					}
				}
			}
			// No cell lies wholly outside the box (the cover is tight).
			for _, c := range cells {
				b := geohash.BoundingBox(c)
				if b.MinLat > tt.box.MaxLat || b.MaxLat < tt.box.MinLat || b.MinLng > tt.box.MaxLng || b.MaxLng < tt.box.MinLng {
					t.Errorf("cell %s (%+v) misses the box", c, b)
				}
			}
		})
	}
}

func TestParseMapQuery(t *testing.T) {
	tests := []struct {
		name    string
		query   map[string]string
		wantErr error
		check   func(MapQuery) bool
	}{
		{"defaults", map[string]string{"bbox": "23.2,103.15,23.6,103.6"}, nil, func(q MapQuery) bool { return q.Limit == 50 && q.Statuses == nil }},
		{"open", map[string]string{"bbox": "23.2,103.15,23.6,103.6", "status": "open"}, nil, func(q MapQuery) bool {
			return slices.Contains(q.Statuses, Dispatched) && !slices.Contains(q.Statuses, Resolved)
		}},
		{"resolved and since", map[string]string{"bbox": "23.2,103.15,23.6,103.6", "status": "resolved", "since": "2026-11-01T00:00:00+08:00", "category": "street_light", "limit": "10"}, nil,
			func(q MapQuery) bool {
				return slices.Equal(q.Statuses, []Status{Resolved}) && q.Since.Equal(time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC)) && q.Category == "street_light" && q.Limit == 10
			}},
		{"no bbox", map[string]string{}, ErrBBox, nil},
		{"three numbers", map[string]string{"bbox": "1,2,3"}, ErrBBox, nil},
		{"NaN", map[string]string{"bbox": "NaN,103,24,104"}, ErrBBox, nil},
		{"inverted", map[string]string{"bbox": "24,103,23,104"}, ErrBBox, nil},
		{"rejected is not public", map[string]string{"bbox": "23,103,24,104", "status": "rejected"}, ErrPublicStatus, nil},
		{"revoked is not public", map[string]string{"bbox": "23,103,24,104", "status": "open,revoked"}, ErrPublicStatus, nil},
		{"duplicate is not public", map[string]string{"bbox": "23,103,24,104", "status": "duplicate"}, ErrPublicStatus, nil},
		{"bad since", map[string]string{"bbox": "23,103,24,104", "since": "yesterday"}, ErrSince, nil},
		{"bad category", map[string]string{"bbox": "23,103,24,104", "category": "Street Light"}, ErrPublicFilter, nil},
		{"bad limit", map[string]string{"bbox": "23,103,24,104", "limit": "101"}, ErrInvalidLimit, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseMapQuery(func(k string) string { return tt.query[k] })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(q) {
				t.Errorf("query %+v", q)
			}
		})
	}
}

// fakePublic is an in-memory PublicStore: reports by id, filed under their map keys.
type fakePublic struct {
	reports map[string]MapReport
	subs    map[string]string // report id → reporter
	marks   map[string]bool
	queries int
}

func (f *fakePublic) MapCell(_ context.Context, cell string, flt MapFilter, limit int, after string) ([]string, string, error) {
	f.queries++
	var keys []string
	byKey := map[string]string{}
	for id, r := range f.reports {
		_, k := MapKeys(r.Location, r.CreatedAt.Format(time.RFC3339)+"#"+id)
		if strings.HasPrefix(k, cell) && flt.BBox.Contains(r.Location) && (flt.Category == "" || flt.Category == r.Category) && !r.CreatedAt.Before(flt.Since) {
			keys = append(keys, k)
			byKey[k] = id
		}
	}
	slices.Sort(keys)
	var ids []string
	last := ""
	for _, k := range keys {
		if k <= after {
			continue
		}
		if len(ids) == limit {
			return ids, last, nil
		}
		ids, last = append(ids, byKey[k]), k
	}
	next := ""
	return ids, next, nil
}

func (f *fakePublic) PublicReports(_ context.Context, ids []string) ([]MapReport, error) {
	var out []MapReport
	for _, id := range ids {
		out = append(out, f.reports[id])
	}
	return out, nil
}

func (f *fakePublic) CountPublicRequest(context.Context, string, string, string, int, time.Time) (bool, error) {
	return true, nil
}

func (f *fakePublic) MeTooTarget(_ context.Context, id string) (MeTooTarget, error) {
	r, ok := f.reports[id]
	if !ok {
		return MeTooTarget{}, ErrNotFound
	}
	return MeTooTarget{ID: id, Status: r.Status, ReporterSub: f.subs[id], MeToo: r.MeToo, Private: r.Private()}, nil
}

func (f *fakePublic) AddMeToo(_ context.Context, t MeTooTarget, sub string, _ time.Time) (bool, error) {
	if f.marks[t.ID+"/"+sub] {
		return false, nil
	}
	f.marks[t.ID+"/"+sub] = true
	r := f.reports[t.ID]
	r.MeToo++
	f.reports[t.ID] = r
	return true, nil
}

type fakeLinks struct{}

func (fakeLinks) PresignGet(_ context.Context, key, version string, ttl time.Duration) (string, error) {
	return fmt.Sprintf("https://bucket.example/%s?versionId=%s&ttl=%s", key, version, ttl), nil
}

func mapFixture(n int) *fakePublic {
	f := &fakePublic{reports: map[string]MapReport{}, subs: map[string]string{}, marks: map[string]bool{}}
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	statuses := []Status{Dispatched, Resolved, Rejected, Accepted, Revoked, Duplicate, InProgress}
	for i := range n {
		id := fmt.Sprintf("r%03d", i)
		f.reports[id] = MapReport{Report: Report{
			ID: id, Status: statuses[i%len(statuses)], Category: []string{"street_light", "rubbish"}[i%2],
			Location:    Location{Lat: 23.30 + float64(i%10)*0.02, Lng: 103.30 + float64(i/10)*0.02},
			Photos:      []Photo{{Key: "photos/2026-11-30/0b6f8f1e-5b9c-4c2a-9a47-3f1f1f1f1f1f.jpg", VersionID: "v1", ContentType: "image/jpeg"}, {Key: "uploads/pending/u-secret/x.jpg"}},
			ReporterSub: "u-secret", Anonymous: i%3 == 0, Description: "my phone is 13800000000", Address: "home of u-secret",
			CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at,
		}}
		f.subs[id] = fmt.Sprintf("sub-%d", i)
	}
	return f
}

func TestMapPagesEveryPublicReportOnceAndNothingPrivate(t *testing.T) {
	f := mapFixture(60)
	svc := NewPublicService(f, fakeLinks{}, time.Now)
	city := BBox{23.20, 103.15, 23.60, 103.60}
	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		page, err := svc.Map(context.Background(), MapQuery{BBox: city, Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(page)
		for _, secret := range []string{"u-secret", "sub-", "13800000000", "reporter", "description", "address", "anonymous", "uploads/pending"} {
			if strings.Contains(string(body), secret) {
				t.Fatalf("a public page carries %q: %s", secret, body)
			}
		}
		for _, it := range page.Items {
			seen[it.ID]++
			if !PublicStatus(it.Status) {
				t.Errorf("%s is %s, not public", it.ID, it.Status)
			}
			if len(it.Photos) != 1 || !strings.Contains(it.Photos[0].URL, "versionId=v1") || !strings.Contains(it.Photos[0].URL, "ttl=1h0m0s") {
				t.Errorf("photos of %s: %+v", it.ID, it.Photos)
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	want := 0
	for id, r := range f.reports {
		if PublicStatus(r.Status) {
			want++
			if seen[id] != 1 {
				t.Errorf("%s (%s) seen %d times", id, r.Status, seen[id])
			}
		} else if seen[id] != 0 {
			t.Errorf("%s (%s) is on the map", id, r.Status)
		}
	}
	if want == 0 || len(seen) != want {
		t.Errorf("saw %d reports, want %d", len(seen), want)
	}
}

func TestMapFiltersAndCursorBinding(t *testing.T) {
	f := mapFixture(60)
	svc := NewPublicService(f, fakeLinks{}, time.Now)
	city := BBox{23.20, 103.15, 23.60, 103.60}
	small := BBox{23.295, 103.295, 23.345, 103.345}
	page, err := svc.Map(context.Background(), MapQuery{BBox: small, Limit: 100, Category: "street_light", Statuses: []Status{Dispatched, Accepted}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatal("no report in the small box")
	}
	for _, it := range page.Items {
		if !small.Contains(it.Location) || it.Category != "street_light" || (it.Status != Dispatched && it.Status != Accepted) {
			t.Errorf("%+v passes the filter", it)
		}
	}
	first, err := svc.Map(context.Background(), MapQuery{BBox: city, Limit: 3})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v, %v", first, err)
	}
	for name, q := range map[string]MapQuery{
		"another bbox":     {BBox: small, Limit: 3, Cursor: first.NextCursor},
		"another status":   {BBox: city, Limit: 3, Statuses: []Status{Resolved}, Cursor: first.NextCursor},
		"another category": {BBox: city, Limit: 3, Category: "rubbish", Cursor: first.NextCursor},
		"forged":           {BBox: city, Limit: 3, Cursor: "eyJxIjoieCIsImMiOjB9"},
		"not base64":       {BBox: city, Limit: 3, Cursor: "***"},
	} {
		if _, err := svc.Map(context.Background(), q); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s: err %v, want invalid_cursor", name, err)
		}
	}
	// The same query's cursor reads on (a different page size is the same query).
	if _, err := svc.Map(context.Background(), MapQuery{BBox: city, Limit: 5, Cursor: first.NextCursor}); err != nil {
		t.Errorf("next page: %v", err)
	}
}

func TestMeTooRules(t *testing.T) {
	f := mapFixture(7) // r000 dispatched, r001 resolved, r002 rejected, r003 accepted, r004 revoked

	// r006 is in progress and filed as not public.
	private := f.reports["r006"]
	private.Public = PublicFlag(new(bool))
	f.reports["r006"] = private
	svc := NewPublicService(f, fakeLinks{}, time.Now)
	citizen := auth.Principal{Sub: "neighbour", Groups: []auth.Role{auth.Citizen}}
	tests := []struct {
		name  string
		p     auth.Principal
		id    string
		err   error
		count int
	}{
		{"first", citizen, "r000", nil, 1},
		{"again: the same answer, nothing added", citizen, "r000", nil, 1},
		{"another citizen", auth.Principal{Sub: "other", Groups: []auth.Role{auth.Citizen}}, "r000", nil, 2},
		{"own report", auth.Principal{Sub: "sub-3", Groups: []auth.Role{auth.Citizen}}, "r003", ErrMeTooOwn, 0},
		{"resolved", citizen, "r001", ErrMeTooClosed, 0},
		{"rejected is not public", citizen, "r002", ErrNotFound, 0},
		{"revoked is not public", citizen, "r004", ErrNotFound, 0},
		{"filed as not public", citizen, "r006", ErrNotFound, 0},
		{"unknown", citizen, "nope", ErrNotFound, 0},
		{"staff", auth.Principal{Sub: "s1", Groups: []auth.Role{auth.Staff}}, "r003", auth.ErrForbidden, 0},
		{"nobody", auth.Principal{}, "r003", auth.ErrUnauthenticated, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.MeToo(context.Background(), tt.p, tt.id)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && (res.Count != tt.count || !res.MeToo || res.ReportID != tt.id) {
				t.Errorf("result %+v, want count %d", res, tt.count)
			}
		})
	}
	if got := f.reports["r003"].MeToo + f.reports["r001"].MeToo + f.reports["r006"].MeToo; got != 0 {
		t.Errorf("refused me toos added %d", got)
	}
}

func TestPublicFlag(t *testing.T) {
	yes, no := true, false
	for _, tt := range []struct {
		name    string
		in      *bool
		private bool
	}{
		{"left out: public", nil, false},
		{"true: public, stored as nothing", &yes, false},
		{"false: not public", &no, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Report{Public: PublicFlag(tt.in)}
			if r.Private() != tt.private || (r.Public != nil) != tt.private {
				t.Errorf("Public %v: private %v, want %v", r.Public, r.Private(), tt.private)
			}
			body, _ := json.Marshal(r)
			if strings.Contains(string(body), `"public"`) != tt.private {
				t.Errorf("a report filed with public=%v shows %s", tt.in, body)
			}
		})
	}
}
