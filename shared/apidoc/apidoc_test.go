package apidoc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDocumentIsOpenAPI31(t *testing.T) {
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(Document(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Errorf("openapi %q with %d paths, want 3.1.0 with paths", doc.OpenAPI, len(doc.Paths))
	}
}

func TestHandler(t *testing.T) {
	h := Handler()
	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	etag := first.Header().Get("ETag")
	if first.Code != 200 || first.Body.String() != string(Document()) || etag == "" ||
		first.Header().Get("Cache-Control") != "public, max-age=300" || first.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET = %d, ETag %q, headers %v, body of %d bytes", first.Code, etag, first.Header(), first.Body.Len())
	}
	tests := []struct {
		name        string
		ifNoneMatch string
		want        int
	}{
		{"no validator", "", 200},
		{"the current tag", etag, 304},
		{"weak form of the current tag", "W/" + etag, 304},
		{"in a list", `"old", ` + etag, 304},
		{"any", "*", 304},
		{"another tag", `"0123"`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/openapi.json", nil)
			if tt.ifNoneMatch != "" {
				r.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want || w.Header().Get("ETag") != etag {
				t.Errorf("status %d ETag %q, want %d %q", w.Code, w.Header().Get("ETag"), tt.want, etag)
			}
			if tt.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Errorf("304 with a body of %d bytes", w.Body.Len())
			}
		})
	}
}
