package report_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
)

// withEXIF is jpeg with an APP1 EXIF segment after its start marker (a TIFF header and no entries).
func withEXIF(jpeg []byte) []byte {
	seg := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00")
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, byte(len(seg) + 2)}, seg...)
	return append(out, jpeg[2:]...)
}

func cleanJPEG(t *testing.T) []byte {
	t.Helper()
	clean, err := base64.StdEncoding.DecodeString(tinyJPEG)
	if err != nil {
		t.Fatal(err)
	}
	return clean
}

// verifyAt is 2026-11-30 10:00 in Mengzi (UTC+8).
var verifyAt = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return tz
}

func uploadKey(day string, i int) string {
	return fmt.Sprintf("photos/%s/00000000-0000-4000-8000-%012d.jpg", day, i)
}

func TestVerifyPhotos(t *testing.T) {
	clean := cleanJPEG(t)
	exif := withEXIF(clean)
	for _, tc := range []struct {
		name     string
		uploads  [][]byte
		wantPuts int
		wantErr  string // the photo the photo_not_image error names; "" for success
	}{
		{"nothing to strip: the uploads recorded as they are, nothing written", [][]byte{clean, clean, clean}, 0, ""},
		{"metadata: the stripped bytes written as a new version of the same key", [][]byte{exif, clean}, 1, ""},
		{"nine, the sixth not an image: the stripped versions undone", func() [][]byte {
			u := slices.Repeat([][]byte{exif}, 9)
			u[5] = []byte("not a photo at all")
			return u
		}(), -1, uploadKey("2026-11-30", 6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newMemBucket()
			var keys []string
			uploaded := map[string]string{}
			for i, data := range tc.uploads {
				k := uploadKey("2026-11-30", i+1)
				keys = append(keys, k)
				uploaded[k] = b.upload(k, "image/jpeg", data)
			}
			before := b.versions()
			svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)}, func() time.Time { return verifyAt }, nil)
			photos, err := svc.VerifyPhotos(context.Background(), "u1", keys)
			if tc.wantErr != "" {
				if !errors.Is(err, report.ErrPhotoNotImage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("VerifyPhotos error %v, want photo_not_image naming %s", err, tc.wantErr)
				}
				if got := b.versions(); !maps.EqualFunc(got, before, slices.Equal) {
					t.Errorf("a refused check left versions %v, want the uploads %v", got, before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.puts != tc.wantPuts {
				t.Errorf("%d versions written, want %d", b.puts, tc.wantPuts)
			}
			if len(photos) != len(keys) {
				t.Fatalf("verified %v, want %d", photos, len(keys))
			}
			for i, ph := range photos {
				if ph.Key != keys[i] || !ph.MetadataStripped || ph.Size != int64(len(clean)) || ph.ContentType != "image/jpeg" {
					t.Errorf("photo %d: %+v, want %s, stripped, %d bytes", i+1, ph, keys[i], len(clean))
				}
				got, ok := b.version(ph.Key, ph.VersionID)
				if !ok || !bytes.Equal(got, clean) {
					t.Errorf("photo %d's version %q holds %d bytes (found %v), want the clean photo's %d", i+1, ph.VersionID, len(got), ok, len(clean))
				}
				if stripped := !bytes.Equal(tc.uploads[i], clean); stripped == (ph.VersionID == uploaded[ph.Key]) {
					t.Errorf("photo %d pinned to %q (uploaded %q): want the upload when clean, a new version when stripped", i+1, ph.VersionID, uploaded[ph.Key])
				}
			}
		})
	}
}

// A client that posts to the key again after the check (its form is valid for minutes) adds a version;
// the report's photo is still the checked one.
func TestVerifiedPhotoSurvivesAReupload(t *testing.T) {
	clean := cleanJPEG(t)
	b := newMemBucket()
	k := uploadKey("2026-11-30", 1)
	b.upload(k, "image/jpeg", clean)
	svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)}, func() time.Time { return verifyAt }, nil)
	photos, err := svc.VerifyPhotos(context.Background(), "u1", []string{k})
	if err != nil {
		t.Fatal(err)
	}
	b.upload(k, "image/jpeg", withEXIF(clean))
	if got, ok := b.version(k, photos[0].VersionID); !ok || !bytes.Equal(got, clean) {
		t.Errorf("the report's version holds %d bytes after a re-upload (found %v), want the checked %d", len(got), ok, len(clean))
	}
}

func TestVerifyPhotosRefusesKeys(t *testing.T) {
	clean := cleanJPEG(t)
	for _, tc := range []struct {
		name string
		key  string
		want error
	}{
		{"today's", uploadKey("2026-11-30", 1), nil},
		{"yesterday's", uploadKey("2026-11-29", 1), nil},
		{"two days old: the sweeper's", uploadKey("2026-11-28", 1), report.ErrPhotoNotFound},
		{"tomorrow's", uploadKey("2026-12-01", 1), report.ErrPhotoNotFound},
		{"not a date", uploadKey("2026-13-01", 1), report.ErrPhotoNotFound},
		{"a key with an owner in it", strings.Replace(uploadKey("2026-11-30", 1), "30/", "30/u1/", 1), report.ErrPhotoKey},
		{"the shape before issue 11", "uploads/pending/u1/00000000-0000-4000-8000-000000000001.jpg", report.ErrPhotoKey},
		{"a stored report's", "reports/00000000-0000-4000-8000-000000000001/1.jpg", report.ErrPhotoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newMemBucket()
			b.upload(tc.key, "image/jpeg", clean)
			before := b.versions()
			svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)}, func() time.Time { return verifyAt }, nil)
			_, err := svc.VerifyPhotos(context.Background(), "u1", []string{tc.key})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("VerifyPhotos(%s) = %v, want %v", tc.key, err, tc.want)
			}
			if got := b.versions(); !maps.EqualFunc(got, before, slices.Equal) {
				t.Errorf("versions %v, want %v", got, before)
			}
		})
	}
}

// Two requests check one photo (a retry racing its first attempt, two reports with one photo): the second
// finds the first's stripped version current and writes a version of its own instead of recording it, so
// when the first is refused and deletes what it wrote, the second's photo is still there.
func TestARefusedCheckNeverDeletesAnothersPhoto(t *testing.T) {
	b := newMemBucket()
	k := uploadKey("2026-11-30", 1)
	upload := b.upload(k, "image/jpeg", withEXIF(cleanJPEG(t)))
	svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)}, func() time.Time { return verifyAt }, nil)
	first, err := svc.VerifyPhotos(context.Background(), "u1", []string{k})
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.VerifyPhotos(context.Background(), "u1", []string{k})
	if err != nil {
		t.Fatal(err)
	}
	if second[0].VersionID == first[0].VersionID || second[0].VersionID == upload {
		t.Fatalf("the second check recorded %s (the first wrote %s, the upload is %s): want a version of its own", second[0].VersionID, first[0].VersionID, upload)
	}
	if err := svc.DeletePhotos(context.Background(), first); err != nil { // the first request is refused
		t.Fatal(err)
	}
	if data, ok := b.version(k, second[0].VersionID); !ok || !bytes.Equal(data, cleanJPEG(t)) {
		t.Errorf("the second request's photo is gone (%v) after the first's undo", ok)
	}
	if _, ok := b.version(k, first[0].VersionID); ok {
		t.Errorf("the first request's version survived its undo")
	}
	if _, ok := b.version(k, upload); !ok {
		t.Errorf("the upload was deleted")
	}
}

// Another user's upload is refused as not the caller's, and checking it writes nothing (its metadata
// would be stripped otherwise).
func TestVerifyPhotosRefusesAnotherUsersUpload(t *testing.T) {
	b := newMemBucket()
	k := uploadKey("2026-11-30", 1)
	b.uploadAs(k, "u2", "image/jpeg", withEXIF(cleanJPEG(t)))
	before := b.versions()
	svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)}, func() time.Time { return verifyAt }, nil)
	if _, err := svc.VerifyPhotos(context.Background(), "u1", []string{k}); !errors.Is(err, report.ErrPhotoKey) {
		t.Fatalf("VerifyPhotos of u2's upload as u1 = %v, want invalid_photo_key", err)
	}
	if got := b.versions(); !maps.EqualFunc(got, before, slices.Equal) || b.puts != 0 {
		t.Errorf("versions %v (%d written), want %v", got, b.puts, before)
	}
}

// A store that keeps no versions cannot pin a photo: refused as an internal error, nothing recorded.
func TestVerifyPhotosNeedsVersions(t *testing.T) {
	b := &unversioned{newMemBucket()}
	k := uploadKey("2026-11-30", 1)
	b.upload(k, "image/jpeg", cleanJPEG(t))
	svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)}, func() time.Time { return verifyAt }, nil)
	if _, err := svc.VerifyPhotos(context.Background(), "u1", []string{k}); !errors.Is(err, report.ErrUnversioned) {
		t.Fatalf("VerifyPhotos on an unversioned store = %v, want ErrUnversioned", err)
	}
}

type unversioned struct{ *memBucket }

func (u *unversioned) Get(ctx context.Context, key string, max int64) (report.Object, error) {
	o, err := u.memBucket.Get(ctx, key, max)
	o.VersionID = ""
	return o, err
}

// An upload's key names the city's local day it was handed out on, and no one: the uploader is the
// object's owner metadata, which the POST policy fixes.
func TestUploadKeyNamesTheLocalDay(t *testing.T) {
	at := time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC) // 01:30 on 1 December in Mengzi
	svc := report.NewService(&memStore{}, newMemBucket(), report.Config{MaxUploadBytes: 1 << 20, TZ: shanghai(t)},
		func() time.Time { return at }, func() string { return "0192f3a4-5b6c-7d8e-9f01-23456789abcd" })
	up, err := svc.CreateUploadFor(context.Background(), "dept-municipal", "image/png", 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := "photos/2026-12-01/0192f3a4-5b6c-7d8e-9f01-23456789abcd.png"; up.Key != want {
		t.Errorf("key %q, want %q (the day, no owner)", up.Key, want)
	}
	if up.Fields["x-amz-meta-owner"] != "dept-municipal" {
		t.Errorf("fields %v, want the owner's x-amz-meta-owner", up.Fields)
	}
}
