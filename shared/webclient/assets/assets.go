// Package assets serves a set of embedded static files — the console's and the web clients' — with one
// caching scheme: pages and the files a browser must re-check (service worker, manifest) are revalidated on
// every load; every other file is cached for five minutes, or for a year when asked for with the set's
// current version (?v=, as the pages ask for them); strong ETags answer revalidations with 304.
package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// VersionMark in a text file (HTML, script, style sheet, manifest) is replaced by the set's version, a
// digest of every file, so a new deployment's pages ask for new URLs.
const VersionMark = "{{version}}"

// contentTypes of the files the clients ship; anything else is served as application/octet-stream.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".json":        "application/json",
	".geojson":     "application/geo+json",
	".webmanifest": "application/manifest+json",
	".ico":         "image/x-icon",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".webp":        "image/webp",
	".txt":         "text/plain; charset=utf-8",
}

// textTypes carry the version mark.
var textTypes = map[string]bool{".html": true, ".js": true, ".mjs": true, ".css": true, ".webmanifest": true}

// revalidated are served with no-cache whatever the query: a page, a service worker (browsers compare
// it byte for byte to update the app) and the web app manifest.
var revalidated = map[string]bool{".html": true, ".webmanifest": true}

// File is one served file.
type File struct {
	Data        []byte
	ContentType string
	ETag        string
}

// Set is a loaded set of files, by name relative to the set's root ("index.html", "common/api.js").
type Set struct {
	version string
	files   map[string]File
}

// Mount names a directory of an fs.FS and the name prefix its files take in the set ("" or "common/").
type Mount struct {
	Dir    string
	Prefix string
}

// Load reads every file under the mounts into a set. The version is a digest of every name and content,
// so it changes with any file of any mount.
func Load(fsys fs.FS, mounts ...Mount) (*Set, error) {
	return NewCache(fsys).Load(mounts...)
}

// Cache reads and hashes each file of one fs.FS once, so sets that mount the same folder (every web client
// mounts the shared files) share its bytes and its digest: a cold start hashes each file once.
type Cache struct {
	fsys  fs.FS
	files map[string]cached
}

type cached struct {
	data   []byte
	digest [sha256.Size]byte
}

// NewCache returns an empty cache of fsys.
func NewCache(fsys fs.FS) *Cache { return &Cache{fsys: fsys, files: map[string]cached{}} }

func (c *Cache) read(p string) (cached, error) {
	if f, ok := c.files[p]; ok {
		return f, nil
	}
	data, err := fs.ReadFile(c.fsys, p)
	if err != nil {
		return cached{}, err
	}
	f := cached{data: data, digest: sha256.Sum256(data)}
	c.files[p] = f
	return f, nil
}

// Load is the package's Load through the cache. Files are shared between sets: they are never written.
func (c *Cache) Load(mounts ...Mount) (*Set, error) {
	s := &Set{files: map[string]File{}}
	raw := map[string]cached{}
	for _, m := range mounts {
		err := fs.WalkDir(c.fsys, m.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			f, err := c.read(p)
			if err != nil {
				return err
			}
			raw[m.Prefix+strings.TrimPrefix(p, m.Dir+"/")] = f
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", m.Dir, err)
		}
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, name := range names {
		digest := raw[name].digest
		sum.Write([]byte(name))
		sum.Write(digest[:])
	}
	s.version = hex.EncodeToString(sum.Sum(nil)[:6])
	mark := []byte(VersionMark)
	for _, name := range names {
		f := raw[name]
		if textTypes[path.Ext(name)] && bytes.Contains(f.data, mark) {
			s.Add(name, bytes.ReplaceAll(f.data, mark, []byte(s.version)))
			continue
		}
		s.add(name, f.data, f.digest)
	}
	return s, nil
}

// Add puts a file into the set (or replaces it) under name, typed by its extension. The version is not
// changed: a generated file (a configuration) is revalidated by its ETag, not versioned.
func (s *Set) Add(name string, data []byte) {
	if s.files == nil {
		s.files = map[string]File{}
	}
	s.add(name, data, sha256.Sum256(data))
}

func (s *Set) add(name string, data []byte, digest [sha256.Size]byte) {
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	s.files[name] = File{Data: data, ContentType: ct, ETag: `"` + hex.EncodeToString(digest[:8]) + `"`}
}

// Version is the set's version, as VersionMark was replaced with.
func (s *Set) Version() string { return s.version }

// Lookup returns the named file.
func (s *Set) Lookup(name string) (File, bool) {
	f, ok := s.files[name]
	return f, ok
}

// Names lists the files, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.files))
	for n := range s.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Site serves a set under a URL prefix: the index page at the prefix itself, the other files by name, 404
// for anything else, 405 for anything but GET and HEAD, and the prefix without its slash redirected to it.
type Site struct {
	Prefix string
	Set    *Set
	Index  string      // the file served at the prefix; default index.html
	Page   http.Header // extra headers of HTML answers
	Header http.Header // extra headers of every answer
	// NoCache names files revalidated on every load besides pages and manifests (a service worker, a
	// generated configuration).
	NoCache map[string]bool
}

func (h *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path+"/" == h.Prefix {
		http.Redirect(w, r, h.Prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, h.Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = h.Index
		if name == "" {
			name = "index.html"
		}
	}
	f, ok := h.Set.Lookup(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.ContentType)
	hdr.Set("ETag", f.ETag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	ext := path.Ext(name)
	switch {
	case revalidated[ext] || h.NoCache[name]:
		hdr.Set("Cache-Control", "no-cache")
	case r.URL.Query().Get("v") == h.Set.Version():
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		hdr.Set("Cache-Control", "public, max-age=300")
	}
	for k, vs := range h.Header {
		hdr[k] = vs
	}
	if ext == ".html" {
		for k, vs := range h.Page {
			hdr[k] = vs
		}
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.Data))
}
