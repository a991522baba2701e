package console

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler("/console/")
	tests := []struct {
		path, wantType string
		wantStatus     int
		wantBody       string
	}{
		{"/console/", "text/html; charset=utf-8", 200, "<title>"},
		{"/console/app.js", "text/javascript; charset=utf-8", 200, "fetch"},
		{"/console/style.css", "text/css; charset=utf-8", 200, "body"},
		{"/console/nope.js", "", 404, ""},
		{"/console/../console.go", "", 404, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.wantStatus {
			t.Errorf("%s: status %d, want %d", tt.path, rec.Code, tt.wantStatus)
			continue
		}
		if tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType {
			t.Errorf("%s: content type %q", tt.path, rec.Header().Get("Content-Type"))
		}
		if !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("%s: body lacks %q", tt.path, tt.wantBody)
		}
	}
}
