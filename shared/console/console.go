// Package console is the command center's KPI dashboard (数据看板): a static page — HTML, one script with
// hand-written SVG charts, one style sheet — embedded in the binary and served by the function that serves
// the KPI API, at /console/. The files are public; the page reads the KPI API with the signed-in user's
// token. Nothing is fetched from anywhere else, so it works offline and under a strict CSP.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// versionMark in index.html is replaced by a digest of the assets, so a new deployment's page asks for
// new URLs and the assets themselves may be cached for long.
const versionMark = "{{version}}"

// contentTypes of the files the console ships.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".ico":  "image/x-icon",
	".png":  "image/png",
}

// securityPolicy allows the page its own files and its own API, and nothing else.
const securityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type asset struct {
	data        []byte
	contentType string
	etag        string
}

type handler struct {
	prefix  string
	version string
	assets  map[string]asset
}

// Handler serves the console under prefix (e.g. "/console/"): index.html at the prefix itself (and as
// index.html), the other files by name, 404 for anything else. index.html is revalidated on every load;
// assets requested with the current version (?v=, as index.html asks for them) are cached for a year,
// other requests for an asset for five minutes.
func Handler(prefix string) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	h := &handler{prefix: prefix, assets: map[string]asset{}}
	sum := sha256.New()
	_ = fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		digest := sha256.Sum256(data)
		h.assets[name] = asset{data: data, contentType: ct, etag: `"` + hex.EncodeToString(digest[:8]) + `"`}
		sum.Write([]byte(name))
		sum.Write(digest[:])
		return nil
	})
	h.version = hex.EncodeToString(sum.Sum(nil)[:6])
	if idx, ok := h.assets["index.html"]; ok {
		idx.data = bytes.ReplaceAll(idx.data, []byte(versionMark), []byte(h.version))
		digest := sha256.Sum256(idx.data)
		idx.etag = `"` + hex.EncodeToString(digest[:8]) + `"`
		h.assets["index.html"] = idx
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path+"/" == h.prefix {
		http.Redirect(w, r, h.prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	switch {
	case name == "index.html":
		hdr.Set("Cache-Control", "no-cache")
		hdr.Set("Content-Security-Policy", securityPolicy)
	case r.URL.Query().Get("v") == h.version:
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		hdr.Set("Cache-Control", "public, max-age=300")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}
