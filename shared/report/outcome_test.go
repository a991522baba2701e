package report_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
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

// memStore keeps keys and reports in memory; fail decides what CreateReport does.
type memStore struct {
	mu      sync.Mutex
	keys    map[string]idem.Record
	reports map[string]report.Report
	// fail: "" succeeds; "unknown-applied" writes and answers ErrOutcomeUnknown (the answer was lost);
	// "unknown" writes nothing and answers ErrOutcomeUnknown; "contention" writes nothing and answers
	// apperr.ErrContention.
	fail string
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
	f := &fixture{store: &memStore{keys: map[string]idem.Record{}, reports: map[string]report.Report{}},
		bucket: newMemBucket(), clock: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC),
		who: auth.Principal{Sub: "u1", Groups: []auth.Role{auth.Citizen}}}
	pending := "photos/2026-11-02/u1/00000000-0000-4000-8000-000000000001.jpg"
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

// The transaction committed but its answer was lost (the deadline): the request learns the outcome from
// the key and succeeds, and a replay of the key returns a report whose photos exist.
func TestCreateAfterUnknownOutcomeThatCommitted(t *testing.T) {
	f := newFixture(t)
	f.store.fail = "unknown-applied"
	r, err := f.create()
	if err != nil {
		t.Errorf("create whose transaction committed: %v", err)
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

// The transaction did not commit but nobody knows: the stripped version and the claim stay; a replay after the
// lease takes the claim over with the same report id and files the report with its photos.
func TestCreateAfterUnknownOutcomeThatDidNotCommit(t *testing.T) {
	f := newFixture(t)
	f.store.fail = "unknown"
	_, err := f.create()
	if !errors.Is(err, apperr.ErrOutcomeUnknown) || apperr.As(err).RetryAfter <= 0 {
		t.Fatalf("create: %v, want outcome_unknown with a Retry-After", err)
	}
	rec, _ := f.store.IdempotencyRecord(context.Background(), "report", "u1", "key-1")
	if rec == nil || rec.Status != idem.InFlight {
		t.Fatalf("key after an unknown outcome: %+v, want still claimed", rec)
	}
	stored := f.bucket.versions()
	if vs := stored[f.req.PhotoKeys[0]]; len(vs) != 2 {
		t.Fatalf("versions of the photo %v, want the upload and its stripped version", vs)
	}
	f.store.fail = ""
	// Within the lease the replay is told to wait.
	if _, err := f.create(); !errors.Is(err, idem.ErrInFlight) {
		t.Fatalf("replay within the lease: %v, want request_in_flight", err)
	}
	f.clock = f.clock.Add(idem.Lease + time.Second)
	r, err := f.create()
	if err != nil || r.ID != rec.ResourceID {
		t.Fatalf("replay after the lease: %+v, %v; want report %s", r, err, rec.ResourceID)
	}
	f.photosExist(t, r)
	if got := f.bucket.versions(); !maps.EqualFunc(got, stored, slices.Equal) {
		t.Errorf("versions %v after the replay, want the same as before it %v (the stripped version read, nothing written)", got, stored)
	}
}

// A definite refusal (a transaction conflict: nothing written) compensates: no stripped version, no claim.
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
	if rec, _ := f.store.IdempotencyRecord(context.Background(), "report", "u1", "key-1"); rec != nil {
		t.Errorf("a refused create left its key: %+v", rec)
	}
	f.store.fail = ""
	r, err := f.create()
	if err != nil {
		t.Fatalf("the same request again: %v", err)
	}
	f.photosExist(t, r)
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
