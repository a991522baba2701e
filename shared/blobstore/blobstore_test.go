package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/blobstore"
	"github.com/civicsnap/civicsnap/shared/report"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// allocated returns the bytes the process allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestGetAllocatesThePhotoOnce: reading a 10 MB photo allocates one buffer of its size (plus the SDK's
// request), where io.ReadAll grew its buffer by copying. Counted bytes, not time.
func TestGetAllocatesThePhotoOnce(t *testing.T) {
	const size = 10 << 20
	photo := bytes.Repeat([]byte{0xFF, 0xD8, 0x42, 0x17}, size/4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(photo)))
		w.Header().Set("ETag", `"abc"`)
		_, _ = w.Write(photo)
	}))
	defer srv.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: aws.AnonymousCredentials{}})
	store := blobstore.New(client, "photos")

	const rounds = 5
	var obj report.Object
	got := allocated(func() {
		for range rounds {
			var err error
			if obj, err = store.Get(context.Background(), "uploads/pending/u1/p.jpg", size); err != nil {
				t.Fatal(err)
			}
		}
	}) / rounds
	if !bytes.Equal(obj.Data, photo) || obj.ETag != `"abc"` || obj.ContentType != "image/jpeg" {
		t.Fatalf("got %d bytes, etag %s, type %s", len(obj.Data), obj.ETag, obj.ContentType)
	}
	readAll := allocated(func() {
		for range rounds {
			_, _ = io.ReadAll(io.LimitReader(bytes.NewReader(photo), size+1))
		}
	}) / rounds
	t.Logf("a 10 MiB photo: Get allocates %d bytes (%.2f× its size); io.ReadAll of it alone allocated %d (%.2f×)",
		got, float64(got)/size, readAll, float64(readAll)/size)
	if got > size+size/20 {
		t.Errorf("Get allocated %d bytes for a %d-byte photo, want at most 1.05× its size", got, size)
	}

	// A photo over the limit costs nothing: refused from the header.
	small := allocated(func() {
		if _, err := store.Get(context.Background(), "uploads/pending/u1/p.jpg", size-1); !errors.Is(err, report.ErrPhotoTooLarge) {
			t.Errorf("Get over the limit: %v, want photo_too_large", err)
		}
	})
	if small > 1<<20 {
		t.Errorf("refusing an oversized photo allocated %d bytes", small)
	}
}

// TestCopyIfUnchanged: Copy copies server side while the source is the version read, and reports a
// replaced source as ErrPhotoChanged without copying.
func TestCopyIfUnchanged(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	store := blobstore.New(e.S3, e.Bucket)
	ctx := context.Background()
	src := "uploads/pending/u1/a b+c.jpg" // a key that needs encoding in CopySource
	if err := store.Put(ctx, src, "image/jpeg", []byte("first")); err != nil {
		t.Fatal(err)
	}
	first, err := store.Get(ctx, src, 1<<20)
	if err != nil || first.ETag == "" {
		t.Fatalf("get: %+v %v", first, err)
	}
	if err := store.Copy(ctx, src, "reports/r1/1.jpg", first.ETag, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Get(ctx, "reports/r1/1.jpg", 1<<20); err != nil || string(got.Data) != "first" || got.ContentType != "image/jpeg" {
		t.Fatalf("copy holds %q (%s), %v", got.Data, got.ContentType, err)
	}

	if err := store.Put(ctx, src, "image/jpeg", []byte("replaced")); err != nil {
		t.Fatal(err)
	}
	if err := store.Copy(ctx, src, "reports/r1/2.jpg", first.ETag, "image/jpeg"); !errors.Is(err, report.ErrPhotoChanged) {
		t.Fatalf("copy of a replaced source: %v, want ErrPhotoChanged", err)
	}
	if _, err := store.Get(ctx, "reports/r1/2.jpg", 1<<20); !errors.Is(err, report.ErrPhotoNotFound) {
		t.Errorf("a refused copy wrote the destination (%v)", err)
	}
	if err := store.Copy(ctx, "uploads/pending/u1/gone.jpg", "reports/r1/3.jpg", first.ETag, "image/jpeg"); !errors.Is(err, report.ErrPhotoChanged) {
		t.Errorf("copy of a missing source: %v, want ErrPhotoChanged", err)
	}
}
