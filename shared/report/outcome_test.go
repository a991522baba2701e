package report_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Finding 3 of issue 10: what a failed create leaves depends on what is known about the failure. These
// are domain tests with an in-memory store and bucket; the intake function's faults_test.go runs the same
// against moto under injected faults.

// memStore keeps keys and reports in memory; fail decides what InsertReport (and CreateReport) does.
type memStore struct {
	mu      sync.Mutex
	keys    map[string]idem.Record
	reports map[string]report.Report
	hashes  map[string]string // report id → the body hash it was filed with
	// fail: "" succeeds; "unknown-applied" writes and answers ErrOutcomeUnknown (the answer was lost);
	// "unknown" writes nothing and answers ErrOutcomeUnknown; "contention" writes nothing and answers
	// apperr.ErrContention.
	fail string
	// twin, when set, is filed just before InsertReport writes: another request with the same key that
	// landed first.
	twin *report.Filed
}

func (m *memStore) InsertReport(_ context.Context, r report.Report, hash string) (*report.Filed, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.twin != nil {
		m.reports[m.twin.Report.ID], m.hashes[m.twin.Report.ID] = m.twin.Report, m.twin.BodyHash
		m.twin = nil
	}
	if old, ok := m.reports[r.ID]; ok {
		return &report.Filed{Report: old, BodyHash: m.hashes[r.ID]}, nil
	}
	switch m.fail {
	case "contention":
		return nil, apperr.ErrContention
	case "unknown":
		return nil, apperr.ErrOutcomeUnknown.Wrap(context.DeadlineExceeded)
	}
	m.reports[r.ID], m.hashes[r.ID] = r, hash
	if m.fail == "unknown-applied" {
		return nil, apperr.ErrOutcomeUnknown.Wrap(context.DeadlineExceeded)
	}
	return nil, nil
}

func (m *memStore) FiledReport(_ context.Context, id string) (*report.Filed, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.reports[id]; ok {
		return &report.Filed{Report: r, BodyHash: m.hashes[id]}, nil
	}
	return nil, nil
}

func (m *memStore) Categories(context.Context) ([]report.Category, error) {
	return []report.Category{{Code: "rubbish", NameZH: "垃圾", NameEN: "Rubbish", Points: 5, SLAHours: 24, Active: true}}, nil
}

func keyOf(scope, owner, key string) string { return scope + "#" + owner + "#" + key }

func (m *memStore) ClaimKey(_ context.Context, rec idem.Record) (*idem.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := keyOf(rec.Scope, rec.Owner, rec.Key)
	if old, ok := m.keys[k]; ok {
		return &old, nil
	}
	m.keys[k] = rec
	return nil, nil
}

func (m *memStore) TakeOverKey(_ context.Context, rec idem.Record, prev time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := keyOf(rec.Scope, rec.Owner, rec.Key)
	old, ok := m.keys[k]
	if !ok || old.Status != idem.InFlight || !old.LockedUntil.Equal(prev) || old.ResourceID != rec.ResourceID {
		return idem.ErrInFlight
	}
	old.LockedUntil, old.Attempt = rec.LockedUntil, rec.Attempt
	m.keys[k] = old
	return nil
}

func (m *memStore) ReleaseKey(_ context.Context, rec idem.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := keyOf(rec.Scope, rec.Owner, rec.Key)
	if old, ok := m.keys[k]; ok && old.Status == idem.InFlight && old.ResourceID == rec.ResourceID && old.Attempt == rec.Attempt {
		delete(m.keys, k)
	}
	return nil
}

func (m *memStore) IdempotencyRecord(_ context.Context, scope, owner, key string) (*idem.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.keys[keyOf(scope, owner, key)]; ok {
		return &r, nil
	}
	return nil, nil
}

func (m *memStore) CreateReport(_ context.Context, r report.Report, key idem.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.fail {
	case "contention":
		return apperr.ErrContention
	case "unknown":
		return apperr.ErrOutcomeUnknown.Wrap(context.DeadlineExceeded)
	}
	m.reports[r.ID] = r
	m.keys[keyOf(key.Scope, key.Owner, key.Key)] = key
	if m.fail == "unknown-applied" {
		return apperr.ErrOutcomeUnknown.Wrap(context.DeadlineExceeded)
	}
	return nil
}

func (m *memStore) GetReport(_ context.Context, id string) (report.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.reports[id]; ok {
		return r, nil
	}
	return report.Report{}, report.ErrNotFound
}

func (m *memStore) ListByReporter(context.Context, string, int, string) ([]report.Report, string, error) {
	return nil, "", nil
}

// tinyJPEG is the README's walk-through photo.
const tinyJPEG = "/9j/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AAAsIAAgACAEBEQD/xADSAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAAgBAQAAPwDi/wDkI/8AX7/6P/8As/8A0L/e+9//2Q=="

type fixture struct {
	store  *memStore
	bucket *memBucket
	svc    *report.Service
	clock  time.Time
	body   []byte
	req    report.NewReport
	who    auth.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	jpeg, err := base64.StdEncoding.DecodeString(tinyJPEG)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: &memStore{keys: map[string]idem.Record{}, reports: map[string]report.Report{}, hashes: map[string]string{}},
		bucket: newMemBucket(), clock: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC),
		who: auth.Principal{Sub: "u1", Groups: []auth.Role{auth.Citizen}}}
	pending := "photos/2026-11-02/00000000-0000-4000-8000-000000000001.jpg"
	// The upload carries metadata, so checking it writes a stripped version (DeletePhotos has something to
	// undo).
	f.bucket.upload(pending, "image/jpeg", withEXIF(jpeg))
	n := 0
	f.svc = report.NewService(f.store, f.bucket, report.Config{BBox: report.BBox{MinLat: 23.2, MinLng: 103.15, MaxLat: 23.6, MaxLng: 103.6}, MaxUploadBytes: 1 << 20},
		func() time.Time { return f.clock }, func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+n) })
	lat, lng := 23.37, 103.39
	f.req = report.NewReport{Category: "rubbish", Description: "垃圾 rubbish", Location: &report.LatLng{Lat: &lat, Lng: &lng}, PhotoKeys: []string{pending}}
	f.body = []byte(`{"the":"body"}`)
	return f
}

func (f *fixture) create() (report.Report, error) {
	return f.svc.Create(context.Background(), f.who, "key-1", f.body, f.req)
}

func (f *fixture) photosExist(t *testing.T, r report.Report) {
	t.Helper()
	if len(r.Photos) == 0 {
		t.Fatal("the report has no photos")
	}
	for _, p := range r.Photos {
		if _, ok := f.bucket.version(p.Key, p.VersionID); !ok {
			t.Errorf("report %s's photo %s version %q is gone (bucket: %v)", r.ID, p.Key, p.VersionID, f.bucket.versions())
		}
	}
}

// The write was applied but its answer was lost (the deadline): the request reads the report back and
// succeeds, and the same request again returns the same report, whose photos exist.
func TestCreateAfterUnknownOutcomeThatCommitted(t *testing.T) {
	f := newFixture(t)
	f.store.fail = "unknown-applied"
	r, err := f.create()
	if err != nil {
		t.Errorf("create whose write was applied: %v", err)
	} else {
		f.photosExist(t, r)
	}
	f.store.fail = ""
	again, err := f.create()
	if err != nil || r.ID != "" && again.ID != r.ID {
		t.Fatalf("replay: %+v, %v; want report %s", again, err, r.ID)
	}
	f.photosExist(t, again)
}

// The write was not applied but nobody knows: the stripped version stays (the write may still land), and
// the same request sent again at once (there is no claim to wait for) files the report under the same id.
// It does not record the first attempt's stripped version — a version a check wrote is that request's to
// delete if it is refused — but writes its own; the first one is left to the photo sweeper.
func TestCreateAfterUnknownOutcomeThatDidNotCommit(t *testing.T) {
	f := newFixture(t)
	f.store.fail = "unknown"
	_, err := f.create()
	if !errors.Is(err, apperr.ErrOutcomeUnknown) || apperr.As(err).RetryAfter <= 0 {
		t.Fatalf("create: %v, want outcome_unknown with a Retry-After", err)
	}
	stored := f.bucket.versions()
	if vs := stored[f.req.PhotoKeys[0]]; len(vs) != 2 {
		t.Fatalf("versions of the photo %v, want the upload and its stripped version", vs)
	}
	f.store.fail = ""
	r, err := f.create()
	if want := report.ReportID("u1", "key-1"); err != nil || r.ID != want {
		t.Fatalf("the same request again: %+v, %v; want report %s", r, err, want)
	}
	f.photosExist(t, r)
	key := f.req.PhotoKeys[0]
	got := f.bucket.versions()[key]
	if first := stored[key][1]; len(got) != 3 || !slices.Equal(got[:2], stored[key]) || r.Photos[0].VersionID != got[2] {
		t.Errorf("versions %v after the replay (before it %v), report at %s: want a version of the replay's own, not the first attempt's %s",
			got, stored[key], r.Photos[0].VersionID, first)
	}
}

// A definite refusal (a conflict: nothing written) compensates: no stripped version, no report.
func TestCreateRefusedForCertainLeavesNothing(t *testing.T) {
	f := newFixture(t)
	before := f.bucket.versions()
	f.store.fail = "contention"
	if _, err := f.create(); !errors.Is(err, apperr.ErrContention) {
		t.Fatalf("create: %v, want write_conflict", err)
	}
	if got := f.bucket.versions(); !maps.EqualFunc(got, before, slices.Equal) {
		t.Errorf("versions %v, want only the upload %v", got, before)
	}
	if len(f.store.reports) != 0 {
		t.Errorf("a refused create left a report: %v", f.store.reports)
	}
	f.store.fail = ""
	r, err := f.create()
	if err != nil {
		t.Fatalf("the same request again: %v", err)
	}
	f.photosExist(t, r)
}

// The report is its own idempotency record: the same request later gets the very first answer, however
// the report moved on since; another body with the key is idempotency_key_reused and writes nothing.
func TestCreateAnswersFromTheReport(t *testing.T) {
	f := newFixture(t)
	first, err := f.create()
	if err != nil {
		t.Fatal(err)
	}
	if want := []report.TimelineEntry{report.Filing(first.CreatedAt)}; first.Status != report.Submitted || !slices.Equal(first.Timeline, want) {
		t.Fatalf("first answer %+v, want submitted with timeline %v", first, want)
	}
	moved := f.store.reports[first.ID]
	moved.Status, moved.LeadDept, moved.UpdatedAt = report.Dispatched, "municipal", first.CreatedAt.Add(time.Minute)
	f.store.reports[first.ID] = moved
	f.clock = f.clock.Add(48 * time.Hour)
	versions := f.bucket.versions()
	again, err := f.create()
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("the same request two days later: %+v, %v; want the first answer %+v", again, err, first)
	}
	f.body = []byte(`{"another":"body"}`)
	if _, err := f.create(); !errors.Is(err, idem.ErrKeyReused) {
		t.Fatalf("another body with the key: %v, want idempotency_key_reused", err)
	}
	if got := f.bucket.versions(); !maps.EqualFunc(got, versions, slices.Equal) || len(f.store.reports) != 1 {
		t.Errorf("answering from the report wrote: versions %v (were %v), %d reports", got, versions, len(f.store.reports))
	}
	// Another caller's same key is another report.
	f.who.Sub = "u2"
	if report.ReportID("u2", "key-1") == first.ID {
		t.Fatal("two callers' keys name one report")
	}
}

// Two sends of one request at once: the one whose write lands second meets the first's report, answers
// from it, and deletes the photo version only it wrote (the stored report's photos stay).
func TestCreateLosingToATwinAnswersFromIt(t *testing.T) {
	f := newFixture(t)
	twin, err := f.create()
	if err != nil {
		t.Fatal(err)
	}
	// Undo the first create in the store but keep its photos, then let it land during the second's write.
	delete(f.store.reports, twin.ID)
	f.store.twin = &report.Filed{Report: twin, BodyHash: idem.Hash(f.body)}
	// The second send reads the upload as it was: its stripped version is a new one.
	jpeg, err := base64.StdEncoding.DecodeString(tinyJPEG)
	if err != nil {
		t.Fatal(err)
	}
	f.bucket.upload(f.req.PhotoKeys[0], "image/jpeg", withEXIF(jpeg))
	got, err := f.create()
	if err != nil || !reflect.DeepEqual(got, report.AsFiled(twin)) {
		t.Fatalf("the losing send: %+v, %v; want the twin's answer %+v", got, err, twin)
	}
	f.photosExist(t, twin)
	if vs := f.bucket.versions()[f.req.PhotoKeys[0]]; len(vs) != 3 {
		t.Errorf("versions %v: want the upload, the twin's stripped version and the re-upload (the loser's stripped version deleted)", vs)
	}
}

// A photo whose metadata the stripper cannot remove (here an EXIF header inside a JPEG's scan data, which
// no segment walk can drop) is refused with its own code, and the refused request leaves nothing behind.
func TestCreateRefusesAPhotoWithUnremovableMetadata(t *testing.T) {
	f := newFixture(t)
	jpg := []byte{0xFF, 0xD8,
		0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00,
		0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00}
	jpg = append(append(jpg, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"...), 0xFF, 0xD9)
	f.bucket.upload(f.req.PhotoKeys[0], "image/jpeg", jpg)
	before := f.bucket.versions()
	_, err := f.create()
	if !errors.Is(err, report.ErrPhotoMetadata) {
		t.Fatalf("create = %v, want %s", err, report.ErrPhotoMetadata.Code)
	}
	if len(f.store.reports) != 0 {
		t.Errorf("reports written: %v", f.store.reports)
	}
	if got := f.bucket.versions(); !maps.EqualFunc(got, before, slices.Equal) {
		t.Errorf("versions %v, want only the uploads %v", got, before)
	}
}
