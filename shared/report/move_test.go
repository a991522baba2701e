package report_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
)

// countingBucket counts how photos reach their destination: copied inside the store or uploaded.
type countingBucket struct {
	*memBucket
	copies, puts atomic.Int32
	changed      bool // every Copy finds the source replaced
}

func (b *countingBucket) Copy(ctx context.Context, src, dst, etag, ct string) error {
	b.copies.Add(1)
	if b.changed {
		return report.ErrPhotoChanged
	}
	return b.memBucket.Copy(ctx, src, dst, etag, ct)
}

func (b *countingBucket) Put(ctx context.Context, key, ct string, data []byte) error {
	b.puts.Add(1)
	return b.memBucket.Put(ctx, key, ct, data)
}

// withEXIF is jpeg with an APP1 EXIF segment after its start marker (a TIFF header and no entries).
func withEXIF(jpeg []byte) []byte {
	seg := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00")
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, byte(len(seg) + 2)}, seg...)
	return append(out, jpeg[2:]...)
}

func TestMovePhotos(t *testing.T) {
	clean, err := base64.StdEncoding.DecodeString(tinyJPEG)
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) string { return fmt.Sprintf("uploads/pending/u1/00000000-0000-4000-8000-%012d.jpg", i) }
	obj := func(data []byte, etag string) report.Object {
		return report.Object{Data: data, ContentType: "image/jpeg", ETag: etag}
	}
	for _, tc := range []struct {
		name                 string
		objs                 []report.Object
		changed              bool
		wantCopies, wantPuts int32
		wantErr              string // the photo the photo_not_image error names; "" for success
	}{
		{"nothing to strip: copied in the store", []report.Object{obj(clean, `"e1"`), obj(clean, `"e2"`), obj(clean, `"e3"`)}, false, 3, 0, ""},
		{"metadata stripped: uploaded", []report.Object{obj(withEXIF(clean), `"e1"`)}, false, 0, 1, ""},
		{"no entity tag: uploaded", []report.Object{obj(clean, "")}, false, 0, 1, ""},
		{"replaced since it was read: the checked bytes uploaded", []report.Object{obj(clean, `"e1"`)}, true, 1, 1, ""},
		{"nine, the sixth not an image: nothing left", func() []report.Object {
			objs := slices.Repeat([]report.Object{obj(clean, `"e"`)}, 9)
			objs[5] = obj([]byte("not a photo at all"), `"e6"`)
			return objs
		}(), false, -1, -1, key(6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &countingBucket{memBucket: &memBucket{objs: map[string]report.Object{}}, changed: tc.changed}
			var keys []string
			for i, o := range tc.objs {
				keys = append(keys, key(i+1))
				b.objs[key(i+1)] = o
			}
			svc := report.NewService(&memStore{}, b, report.Config{MaxUploadBytes: 1 << 20}, time.Now, nil)
			photos, err := svc.MovePhotos(context.Background(), "u1", keys, "reports/r1/")
			var stored []string
			for _, k := range b.keys() {
				if strings.HasPrefix(k, "reports/") {
					stored = append(stored, k)
				}
			}
			if tc.wantErr != "" {
				if !errors.Is(err, report.ErrPhotoNotImage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("MovePhotos error %v, want photo_not_image naming %s", err, tc.wantErr)
				}
				if len(stored) != 0 {
					t.Errorf("a refused move left %v", stored)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c, p := b.copies.Load(), b.puts.Load(); c != tc.wantCopies || p != tc.wantPuts {
				t.Errorf("%d copies and %d uploads, want %d and %d", c, p, tc.wantCopies, tc.wantPuts)
			}
			if len(photos) != len(keys) || len(stored) != len(keys) {
				t.Fatalf("moved %v, stored %v, want %d", photos, stored, len(keys))
			}
			for i, ph := range photos {
				want := fmt.Sprintf("reports/r1/%d.jpg", i+1)
				if ph.Key != want || !ph.MetadataStripped || ph.Size != int64(len(clean)) {
					t.Errorf("photo %d: %+v, want %s, stripped, %d bytes", i+1, ph, want, len(clean))
				}
				if got := b.objs[want]; !bytes.Equal(got.Data, clean) {
					t.Errorf("%s holds %d bytes, want the clean photo's %d", want, len(got.Data), len(clean))
				}
			}
		})
	}
}
