package report_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
)

// memBucket is an in-memory, versioned report.PhotoStore: each write adds a version, as in the photo
// bucket with versioning on.
type memBucket struct {
	mu       sync.Mutex
	objs     map[string][]memVersion // oldest first; the last is current
	n        int
	pageSize int // ListVersions' page; 1,000 when 0
	puts     int // versions written through the store (not by uploaders)
	deletes  int // DeleteVersions calls
}

type memVersion struct {
	id  string
	obj report.Object
}

func newMemBucket() *memBucket { return &memBucket{objs: map[string][]memVersion{}} }

func (b *memBucket) add(key, owner, ct string, data []byte, checked bool) string {
	b.n++
	id := fmt.Sprintf("v%03d", b.n)
	b.objs[key] = append(b.objs[key], memVersion{id: id, obj: report.Object{Data: data, ContentType: ct, VersionID: id, Owner: owner, Checked: checked}})
	return id
}

// upload is a presigned POST of u1's (the tests' citizen): a new version of key.
func (b *memBucket) upload(key, ct string, data []byte) string {
	return b.uploadAs(key, "u1", ct, data)
}

// uploadAs is owner's presigned POST.
func (b *memBucket) uploadAs(key, owner, ct string, data []byte) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.add(key, owner, ct, data, false)
}

func (b *memBucket) PresignUpload(_ context.Context, key, owner, _ string, _ int64, ttl time.Duration) (report.Upload, error) {
	return report.Upload{Key: key, URL: "https://bucket.example/", Fields: map[string]string{"x-amz-meta-owner": owner}, ExpiresAt: time.Now().Add(ttl)}, nil
}

func (b *memBucket) Get(_ context.Context, key string, _ int64) (report.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	vs := b.objs[key]
	if len(vs) == 0 {
		return report.Object{}, report.ErrPhotoNotFound
	}
	return vs[len(vs)-1].obj, nil
}

func (b *memBucket) Put(_ context.Context, key, owner, ct string, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts++
	b.add(key, owner, ct, data, false)
	return nil
}

func (b *memBucket) PutVersion(_ context.Context, key, owner, ct string, data []byte) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts++
	return b.add(key, owner, ct, data, true), nil
}

func (b *memBucket) DeleteVersions(_ context.Context, versions ...report.PhotoVersion) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deletes++
	for _, v := range versions {
		b.objs[v.Key] = slices.DeleteFunc(b.objs[v.Key], func(m memVersion) bool { return m.id == v.VersionID })
		if len(b.objs[v.Key]) == 0 {
			delete(b.objs, v.Key)
		}
	}
	return nil
}

func (b *memBucket) ListVersions(_ context.Context, prefix string, each func([]report.PhotoVersion) error) error {
	b.mu.Lock()
	var all []report.PhotoVersion
	for _, k := range slices.Sorted(maps.Keys(b.objs)) {
		if strings.HasPrefix(k, prefix) {
			for _, v := range b.objs[k] {
				all = append(all, report.PhotoVersion{Key: k, VersionID: v.id})
			}
		}
	}
	size := b.pageSize
	if size == 0 {
		size = 1000
	}
	b.mu.Unlock()
	for len(all) > 0 {
		n := min(size, len(all))
		if err := each(all[:n]); err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}

// version returns the bytes of key's version id.
func (b *memBucket) version(key, id string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, v := range b.objs[key] {
		if v.id == id {
			return v.obj.Data, true
		}
	}
	return nil, false
}

// versions returns every key's version ids, oldest first.
func (b *memBucket) versions() map[string][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]string{}
	for k, vs := range b.objs {
		for _, v := range vs {
			out[k] = append(out[k], v.id)
		}
	}
	return out
}

func (b *memBucket) has(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.objs[key]) > 0
}

func (b *memBucket) keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.objs))
}
