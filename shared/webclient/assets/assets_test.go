package assets

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func files() fstest.MapFS {
	return fstest.MapFS{
		"site/index.html":            {Data: []byte(`<link href="s.css?v={{version}}"><script src="common/a.js?v={{version}}"></script>`)},
		"site/s.css":                 {Data: []byte(`body{}`)},
		"site/sw.js":                 {Data: []byte(`const V = "{{version}}";`)},
		"site/manifest.webmanifest":  {Data: []byte(`{"start_url":"./?v={{version}}"}`)},
		"site/icon.png":              {Data: []byte("\x89PNG{{version}}")},
		"site/notes.unknown":         {Data: []byte("x")},
		"shared/a.js":                {Data: []byte(`export const a = 1;`)},
		"shared/vendor/LICENSE.txt":  {Data: []byte("MIT")},
		"elsewhere/not-mounted.html": {Data: []byte("no")},
	}
}

func serve(h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLoadAndServe(t *testing.T) {
	set, err := Load(files(), Mount{Dir: "site"}, Mount{Dir: "shared", Prefix: "common/"})
	if err != nil {
		t.Fatal(err)
	}
	v := set.Version()
	if len(v) != 12 {
		t.Fatalf("version %q", v)
	}
	wantNames := []string{"common/a.js", "common/vendor/LICENSE.txt", "icon.png", "index.html", "manifest.webmanifest", "notes.unknown", "s.css", "sw.js"}
	if got := strings.Join(set.Names(), " "); got != strings.Join(wantNames, " ") {
		t.Fatalf("names %s, want %s", got, wantNames)
	}
	h := &Site{Prefix: "/x/", Set: set, NoCache: map[string]bool{"sw.js": true},
		Header: http.Header{"X-Every": {"1"}}, Page: http.Header{"Content-Security-Policy": {"default-src 'none'"}}}
	tests := []struct {
		name, method, target string
		status               int
		ctype, cache, body   string
		csp                  bool
	}{
		{"index at the prefix, version filled in", "GET", "/x/", 200, "text/html; charset=utf-8", "no-cache", `s.css?v=` + v, true},
		{"index by name", "GET", "/x/index.html", 200, "text/html; charset=utf-8", "no-cache", `common/a.js?v=` + v, true},
		{"asset at the current version: a year", "GET", "/x/s.css?v=" + v, 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}", false},
		{"asset at another version: five minutes", "GET", "/x/s.css?v=old", 200, "text/css; charset=utf-8", "public, max-age=300", "body{}", false},
		{"a mounted folder's file", "GET", "/x/common/a.js?v=" + v, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "export const a", false},
		{"service worker: always revalidated, version filled in", "GET", "/x/sw.js?v=" + v, 200, "text/javascript; charset=utf-8", "no-cache", v, false},
		{"manifest: always revalidated", "GET", "/x/manifest.webmanifest", 200, "application/manifest+json", "no-cache", "./?v=" + v, false},
		{"binary files keep the mark", "GET", "/x/icon.png", 200, "image/png", "public, max-age=300", "{{version}}", false},
		{"unknown types are octet streams", "GET", "/x/notes.unknown", 200, "application/octet-stream", "public, max-age=300", "x", false},
		{"licence text", "GET", "/x/common/vendor/LICENSE.txt", 200, "text/plain; charset=utf-8", "public, max-age=300", "MIT", false},
		{"HEAD", "HEAD", "/x/s.css", 200, "text/css; charset=utf-8", "public, max-age=300", "", false},
		{"unknown file", "GET", "/x/nope.js", 404, "", "", "", false},
		{"a folder", "GET", "/x/common/", 404, "", "", "", false},
		{"a folder not mounted", "GET", "/x/elsewhere/not-mounted.html", 404, "", "", "", false},
		{"dot-dot", "GET", "/x/../site/s.css", 404, "", "", "", false},
		{"outside the prefix", "GET", "/y/s.css", 404, "", "", "", false},
		{"read only", "POST", "/x/", 405, "", "", "", false},
		{"the bare prefix redirects", "GET", "/x", 301, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.method, tt.target, nil)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			hdr := rec.Header()
			if hdr.Get("Content-Type") != tt.ctype || hdr.Get("Cache-Control") != tt.cache {
				t.Errorf("Content-Type %q Cache-Control %q, want %q %q", hdr.Get("Content-Type"), hdr.Get("Cache-Control"), tt.ctype, tt.cache)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q lacks %q", rec.Body.String(), tt.body)
			}
			if (hdr.Get("Content-Security-Policy") != "") != tt.csp {
				t.Errorf("CSP %q on a page: %v", hdr.Get("Content-Security-Policy"), tt.csp)
			}
			if hdr.Get("X-Every") != "1" || hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("ETag") == "" {
				t.Errorf("headers %v", hdr)
			}
			if again := serve(h, "GET", tt.target, map[string]string{"If-None-Match": hdr.Get("ETag")}); again.Code != http.StatusNotModified {
				t.Errorf("revalidation answered %d, want 304", again.Code)
			}
		})
	}
	if rec := serve(h, "GET", "/x", nil); rec.Header().Get("Location") != "/x/" {
		t.Errorf("redirect to %q", rec.Header().Get("Location"))
	}
}

// Any file of any mount changes the version (so pages ask for new URLs); a generated file added later
// does not, and is served by its ETag.
func TestVersionFollowsEveryFile(t *testing.T) {
	base, err := Load(files(), Mount{Dir: "site"}, Mount{Dir: "shared", Prefix: "common/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"site/s.css", "shared/a.js", "shared/vendor/LICENSE.txt"} {
		fs := files()
		fs[name] = &fstest.MapFile{Data: append([]byte(nil), append(fs[name].Data, '\n')...)}
		changed, err := Load(fs, Mount{Dir: "site"}, Mount{Dir: "shared", Prefix: "common/"})
		if err != nil {
			t.Fatal(err)
		}
		if changed.Version() == base.Version() {
			t.Errorf("changing %s kept version %s", name, base.Version())
		}
	}
	fs := files()
	fs["elsewhere/not-mounted.html"] = &fstest.MapFile{Data: []byte("changed")}
	same, _ := Load(fs, Mount{Dir: "site"}, Mount{Dir: "shared", Prefix: "common/"})
	if same.Version() != base.Version() {
		t.Error("a file outside the mounts changed the version")
	}
	base.Add("config.json", []byte(`{"a":1}`))
	f, ok := base.Lookup("config.json")
	if !ok || f.ContentType != "application/json" || f.ETag == "" || base.Version() != same.Version() {
		t.Errorf("config.json %+v %v, version %s", f, ok, base.Version())
	}
	if _, err := Load(files(), Mount{Dir: "missing"}); err == nil {
		t.Error("a missing folder loads")
	}
}

// countingFS counts the opens of each file.
type countingFS struct {
	fs.FS
	opens map[string]int
}

func (c countingFS) Open(name string) (fs.File, error) {
	c.opens[name]++
	return c.FS.Open(name)
}

// Sets loaded through one cache read each shared file once and share its bytes; each set still has its own
// version (over its own files).
func TestCacheReadsEachFileOnce(t *testing.T) {
	fsys := countingFS{FS: fstest.MapFS{
		"one/index.html":    {Data: []byte(`<script src="common/a.js?v={{version}}"></script>`)},
		"two/index.html":    {Data: []byte(`<p>two {{version}}</p>`)},
		"shared/a.js":       {Data: []byte(`export const a = 1;`)},
		"shared/big.js":     {Data: []byte(strings.Repeat("x", 1<<16))},
		"shared/x/mark.css": {Data: []byte(`/* {{version}} */`)},
	}, opens: map[string]int{}}
	c := NewCache(fsys)
	one, err := c.Load(Mount{Dir: "one"}, Mount{Dir: "shared", Prefix: "common/"})
	if err != nil {
		t.Fatal(err)
	}
	two, err := c.Load(Mount{Dir: "two"}, Mount{Dir: "shared", Prefix: "common/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shared/a.js", "shared/big.js", "shared/x/mark.css"} {
		if fsys.opens[name] != 1 {
			t.Errorf("%s opened %d times, want 1", name, fsys.opens[name])
		}
	}
	if one.Version() == two.Version() {
		t.Error("two sets of different files have one version")
	}
	a1, _ := one.Lookup("common/big.js")
	a2, _ := two.Lookup("common/big.js")
	if &a1.Data[0] != &a2.Data[0] || a1.ETag != a2.ETag {
		t.Error("the sets do not share an unchanged file")
	}
	m1, _ := one.Lookup("common/x/mark.css")
	m2, _ := two.Lookup("common/x/mark.css")
	if string(m1.Data) != "/* "+one.Version()+" */" || string(m2.Data) != "/* "+two.Version()+" */" || m1.ETag == m2.ETag {
		t.Errorf("a marked file is each set's own: %q %q", m1.Data, m2.Data)
	}
	if raw := c.files["shared/x/mark.css"].data; string(raw) != "/* {{version}} */" {
		t.Errorf("the cached original was written: %q", raw)
	}
}
