package console

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/shared/webclient/assets"
)

func serve(h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler(t *testing.T) {
	h := Handler("/console/")
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantType           string
		wantCache          string
		wantBody           string
	}{
		{"index at the prefix", "GET", "/console/", 200, "text/html; charset=utf-8", "no-cache", "<title>"},
		{"index by name", "GET", "/console/index.html", 200, "text/html; charset=utf-8", "no-cache", "data-testid=\"league\""},
		{"script", "GET", "/console/app.js", 200, "text/javascript; charset=utf-8", "public, max-age=300", "/v1/kpi/summary"},
		{"chart helper", "GET", "/console/charts.js", 200, "text/javascript; charset=utf-8", "public, max-age=300", "createElementNS"},
		{"style sheet", "GET", "/console/style.css", 200, "text/css; charset=utf-8", "public, max-age=300", ".league"},
		{"head", "HEAD", "/console/app.js", 200, "text/javascript; charset=utf-8", "public, max-age=300", ""},
		{"unknown file", "GET", "/console/nope.js", 404, "", "", ""},
		{"no directory listing", "GET", "/console/static/", 404, "", "", ""},
		{"no way out of the folder", "GET", "/console/../console.go", 404, "", "", ""},
		{"source files are not served", "GET", "/console/console.go", 404, "", "", ""},
		{"outside the prefix", "GET", "/elsewhere/app.js", 404, "", "", ""},
		{"read only", "POST", "/console/", 405, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.method, tt.path, nil)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.wantType)
			}
			if tt.wantCache != "" && rec.Header().Get("Cache-Control") != tt.wantCache {
				t.Errorf("Cache-Control %q, want %q", rec.Header().Get("Cache-Control"), tt.wantCache)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
			if tt.wantStatus == 200 && rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

// The page asks for its assets under the current version, which may then be cached for good.
func TestVersionedAssets(t *testing.T) {
	h := Handler("/console/")
	page := serve(h, "GET", "/console/", nil)
	if strings.Contains(page.Body.String(), assets.VersionMark) {
		t.Fatal("index.html still holds the version mark")
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("index.html CSP %q", csp)
	}
	refs := regexp.MustCompile(`(?:src|href)="([a-z]+\.(?:js|css))\?v=([0-9a-f]+)"`).FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) != 3 {
		t.Fatalf("index.html references %d versioned assets, want 3 (style.css, charts.js, app.js): %v", len(refs), refs)
	}
	for _, ref := range refs {
		rec := serve(h, "GET", "/console/"+ref[1]+"?v="+ref[2], nil)
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s?v=%s: %d, Cache-Control %q", ref[1], ref[2], rec.Code, rec.Header().Get("Cache-Control"))
		}
		etag := rec.Header().Get("ETag")
		if again := serve(h, "GET", "/console/"+ref[1], map[string]string{"If-None-Match": etag}); etag == "" || again.Code != http.StatusNotModified {
			t.Errorf("%s: revalidation with ETag %q answered %d, want 304", ref[1], etag, again.Code)
		}
	}
	if rec := serve(h, "GET", "/console/app.js?v=stale", nil); rec.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("a stale version is cached as %q", rec.Header().Get("Cache-Control"))
	}
}

func TestPrefixWithoutSlashRedirects(t *testing.T) {
	rec := serve(Handler("/console/"), "GET", "/console", nil)
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
}
