// Package apidoc holds the OpenAPI 3.1 document of the /v1 API (openapi.json, the contract the app clients
// are built against) and serves it. tests/arch checks that it names exactly the routes the functions serve;
// the e2e suite validates every response it receives against it.
package apidoc

import (
	"crypto/sha256"
	_ "embed" // the document
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
)

//go:embed openapi.json
var document string

// Document returns the OpenAPI document (JSON).
func Document() []byte { return []byte(document) }

// Handler serves the document: public, cacheable, with a strong ETag so a client's revalidation costs no
// body. The tag is computed on the first request, not in the function's cold start.
func Handler() http.Handler {
	etag := sync.OnceValue(func() string {
		sum := sha256.Sum256([]byte(document))
		return `"` + hex.EncodeToString(sum[:16]) + `"`
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		etag := etag()
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", etag)
		if matches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(document))
	})
}

// matches reports whether an If-None-Match header names etag (a list of tags, or *).
func matches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}
