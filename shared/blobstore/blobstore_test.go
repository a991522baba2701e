package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

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

// testCreds are the keys the httptest servers ignore.
var testCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
})

// newStore is the photo bucket's store over the test's moto, as photos.Reports builds it (path style).
func newStore(t *testing.T, e *testenv.Env) *blobstore.Store {
	t.Helper()
	store, err := blobstore.New(e.AWS, e.Bucket, true)
	if err != nil {
		t.Fatal(err)
	}
	return store
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
		w.Header().Set("x-amz-version-id", "v1")
		_, _ = w.Write(photo)
	}))
	defer srv.Close()
	store, err := blobstore.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: testCreds}, "photos", true)
	if err != nil {
		t.Fatal(err)
	}

	const rounds = 5
	var obj report.Object
	got := allocated(func() {
		for range rounds {
			var err error
			if obj, err = store.Get(context.Background(), "photos/2026-11-30/p.jpg", size); err != nil {
				t.Fatal(err)
			}
		}
	}) / rounds
	if !bytes.Equal(obj.Data, photo) || obj.VersionID != "v1" || obj.ContentType != "image/jpeg" {
		t.Fatalf("got %d bytes, version %s, type %s", len(obj.Data), obj.VersionID, obj.ContentType)
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
		if _, err := store.Get(context.Background(), "photos/2026-11-30/p.jpg", size-1); !errors.Is(err, report.ErrPhotoTooLarge) {
			t.Errorf("Get over the limit: %v, want photo_too_large", err)
		}
	})
	if small > 1<<20 {
		t.Errorf("refusing an oversized photo allocated %d bytes", small)
	}
}

// postForm uploads data with a presigned POST, as the app does.
func postForm(t *testing.T, u report.Upload, data []byte) {
	t.Helper()
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range u.Fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(u.URL, mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("S3 POST upload: %d %s", resp.StatusCode, b)
	}
}

// fetch GETs a presigned URL.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, b, err)
	}
	return b
}

// TestAVerifiedVersionIsWhatReadersGet: a photo uploaded with a presigned POST is read with its version id;
// a stripped photo written to the same key is a new version; a client that posts to the key again while its
// form is valid adds a version of its own, and a presigned GET of the recorded version still serves the
// bytes that were checked.
func TestAVerifiedVersionIsWhatReadersGet(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	store := newStore(t, e)
	ctx := context.Background()
	key := "photos/2026-11-30/0192f3a4-5b6c-7d8e-9f01-23456789abcd.jpg"
	up, err := store.PresignUpload(ctx, key, "u1", "image/jpeg", 1<<20, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if up.Fields["x-amz-meta-owner"] != "u1" {
		t.Errorf("form fields %v: want x-amz-meta-owner u1, which the policy fixes", up.Fields)
	}
	postForm(t, up, []byte("original, with metadata"))
	orig, err := store.Get(ctx, key, 1<<20)
	if err != nil || orig.VersionID == "" || string(orig.Data) != "original, with metadata" || orig.ContentType != "image/jpeg" || orig.Owner != "u1" || orig.Checked {
		t.Fatalf("get the upload: %+v, %v; want its bytes, a version id, its owner u1 and not checked", orig, err)
	}
	verified, err := store.PutVersion(ctx, key, "u1", "image/jpeg", []byte("stripped"))
	if err != nil || verified == "" || verified == orig.VersionID {
		t.Fatalf("put the stripped photo: version %q, %v; want a new version (the upload's %q)", verified, err, orig.VersionID)
	}
	if cur, err := store.Get(ctx, key, 1<<20); err != nil || cur.VersionID != verified || !cur.Checked || cur.Owner != "u1" {
		t.Fatalf("the stripped version: %+v, %v; want it current, checked, u1's", cur, err)
	}
	postForm(t, up, []byte("swapped after the check"))
	if cur, err := store.Get(ctx, key, 1<<20); err != nil || string(cur.Data) != "swapped after the check" || cur.Owner != "u1" || cur.Checked {
		t.Fatalf("the re-upload is not the current version: %+v, %v", cur, err)
	}
	url, err := store.PresignGet(ctx, key, verified, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, url); string(got) != "stripped" {
		t.Errorf("the recorded version serves %q after a re-upload, want the checked %q", got, "stripped")
	}
	if url, err = store.PresignGet(ctx, key, orig.VersionID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, url); string(got) != "original, with metadata" {
		t.Errorf("the upload's version serves %q", got)
	}
	// A photo stored before versions were recorded is read as it is.
	if err := store.Put(ctx, "reports/r1/1.jpg", "", "image/jpeg", []byte("a stored report's")); err != nil {
		t.Fatal(err)
	}
	if url, err = store.PresignGet(ctx, "reports/r1/1.jpg", "", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, url); string(got) != "a stored report's" {
		t.Errorf("an unversioned read serves %q", got)
	}
}

// TestListAndDeleteVersions: ListVersions pages through every version and deletion marker under a prefix
// and nothing outside it; DeleteVersions removes exactly the versions named, and naming them again is not
// an error.
func TestListAndDeleteVersions(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	store := blobstore.WithPageSize(newStore(t, e), 2)
	ctx := context.Background()
	put := func(key, body string) report.PhotoVersion {
		t.Helper()
		v, err := store.PutVersion(ctx, key, "u1", "image/jpeg", []byte(body))
		if err != nil || v == "" {
			t.Fatalf("put %s: %q, %v", key, v, err)
		}
		return report.PhotoVersion{Key: key, VersionID: v}
	}
	day := "photos/2026-11-27/"
	a1, a2 := put(day+"a.jpg", "a1"), put(day+"a.jpg", "a2")
	b1 := put(day+"b.jpg", "b1")
	c1 := put(day+"c.jpg", "c1")
	other := put("photos/2026-11-28/a.jpg", "next day")
	legacy := put("reports/r1/1.jpg", "old")
	// A deletion without a version (nothing in civicsnap makes one) leaves a marker, listed too.
	if _, err := e.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &e.Bucket, Key: aws.String(day + "c.jpg")}); err != nil {
		t.Fatal(err)
	}

	list := func() []report.PhotoVersion {
		t.Helper()
		var all []report.PhotoVersion
		pages := 0
		if err := store.ListVersions(ctx, day, func(page []report.PhotoVersion) error {
			pages++
			all = append(all, page...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(all) > 2 && pages < 2 {
			t.Errorf("%d versions in %d page, want pages of 2", len(all), pages)
		}
		return all
	}
	got := list()
	var marker report.PhotoVersion
	for _, v := range got {
		if v.Key == c1.Key && v.VersionID != c1.VersionID {
			marker = v
		}
	}
	want := []report.PhotoVersion{a1, a2, b1, c1, marker}
	if marker.VersionID == "" || !sameVersions(got, want) {
		t.Fatalf("listed %v, want %v and a deletion marker of %s", got, want[:4], c1.Key)
	}

	if err := store.DeleteVersions(ctx, a1, b1, marker); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteVersions(ctx, a1, b1, marker); err != nil {
		t.Errorf("deleting the same versions again: %v", err)
	}
	if got := list(); !sameVersions(got, []report.PhotoVersion{a2, c1}) {
		t.Errorf("after the deletion: %v, want %v", got, []report.PhotoVersion{a2, c1})
	}
	// a's current version is a2; c is readable again once its marker is gone.
	if o, err := store.Get(ctx, a1.Key, 1<<20); err != nil || string(o.Data) != "a2" || o.VersionID != a2.VersionID {
		t.Errorf("a after deleting its first version: %+v, %v", o, err)
	}
	if o, err := store.Get(ctx, c1.Key, 1<<20); err != nil || string(o.Data) != "c1" {
		t.Errorf("c after deleting its marker: %+v, %v", o, err)
	}
	if _, err := store.Get(ctx, b1.Key, 1<<20); !errors.Is(err, report.ErrPhotoNotFound) {
		t.Errorf("b after deleting its only version: %v, want photo_not_found", err)
	}
	for _, v := range []report.PhotoVersion{other, legacy} {
		if o, err := store.Get(ctx, v.Key, 1<<20); err != nil || o.VersionID != v.VersionID {
			t.Errorf("%s outside the prefix: %+v, %v", v.Key, o, err)
		}
	}
}

func sameVersions(a, b []report.PhotoVersion) bool {
	key := func(v report.PhotoVersion) string { return v.Key + " " + v.VersionID }
	as, bs := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		as[i] = key(a[i])
	}
	for i := range b {
		bs[i] = key(b[i])
	}
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}
