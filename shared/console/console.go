// Package console is the command center's dashboard (调度中心): static files embedded in the binary of the
// function that serves them, so it works the same in `make run` and on AWS, with nothing fetched from a CDN.
// The page calls the KPI API with a staff token.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Handler serves the console under prefix (e.g. "/console/"): index.html at the prefix itself, assets by
// name, 404 for anything else.
func Handler(prefix string) http.Handler {
	static, _ := fs.Sub(files, "static")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if name == "" || strings.HasSuffix(name, "/") {
			name = "index.html"
		}
		name = path.Clean(name)
		b, err := fs.ReadFile(static, name)
		if err != nil {
			http.Error(w, `{"error":{"code":"not_found","message":"no such file"}}`, http.StatusNotFound)
			return
		}
		switch path.Ext(name) {
		case ".html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
		case ".js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=300")
		case ".css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
		_, _ = w.Write(b)
	})
}
