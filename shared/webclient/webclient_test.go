package webclient

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(h http.Handler, target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var awsConfig = Config{
	CognitoDomain:   "https://civicsnap-dev-123456789012.auth.ap-east-1.amazoncognito.com",
	CognitoClientID: "abc123",
	TileURL:         "https://tiles.mengzi.example/{z}/{x}/{y}.png",
	TileAttribution: "© 蒙自市自然资源局",
	PhotoOrigin:     "https://civicsnap-photos.s3.ap-east-1.amazonaws.com",
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want map[string]any
	}{
		{"local stack: no Cognito, the bundled map, moto's origin", Config{PhotoOrigin: "http://127.0.0.1:5000/"},
			map[string]any{"app": "app", "cognito": nil, "tileUrl": "", "tileAttribution": "", "photoOrigin": "http://127.0.0.1:5000"}},
		{"AWS", awsConfig, map[string]any{"app": "app", "cognito": map[string]any{"domain": awsConfig.CognitoDomain, "clientId": "abc123"},
			"tileUrl": awsConfig.TileURL, "tileAttribution": awsConfig.TileAttribution, "photoOrigin": awsConfig.PhotoOrigin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(Handler("/app/", "app", tt.cfg), "/app/config.json", nil)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-cache" {
				t.Fatalf("config.json: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("config.json %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		want     []string
		wantNone []string
	}{
		{"local", Config{PhotoOrigin: "http://127.0.0.1:5000"}, []string{
			"default-src 'none'", "script-src 'self';", "style-src 'self';", "img-src 'self' data: blob: http://127.0.0.1:5000;",
			"connect-src 'self' http://127.0.0.1:5000;", "worker-src 'self'", "manifest-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
		}, []string{"unsafe-inline", "unsafe-eval", "amazoncognito", "*"}},
		{"AWS with a tile server", awsConfig, []string{
			"img-src 'self' data: blob: https://civicsnap-photos.s3.ap-east-1.amazonaws.com https://tiles.mengzi.example;",
			"connect-src 'self' https://civicsnap-photos.s3.ap-east-1.amazonaws.com https://civicsnap-dev-123456789012.auth.ap-east-1.amazoncognito.com;",
		}, []string{"unsafe-inline", "/{z}"}},
		{"tile subdomains", Config{TileURL: "https://{s}.tile.example.org/{z}/{x}/{y}.png"}, []string{"img-src 'self' data: blob: https://*.tile.example.org;"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/app/config.json", "/app/common/api.js"} {
				rec := get(Handler("/app/", "app", tt.cfg), p, nil)
				if csp := rec.Header().Get("Content-Security-Policy"); csp != tt.cfg.ContentSecurityPolicy() {
					t.Errorf("%s: CSP %q, want the config's", p, csp)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(tt.cfg.ContentSecurityPolicy(), w) {
					t.Errorf("CSP %q lacks %q", tt.cfg.ContentSecurityPolicy(), w)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(tt.cfg.ContentSecurityPolicy(), w) {
					t.Errorf("CSP %q has %q", tt.cfg.ContentSecurityPolicy(), w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"empty: everything off", Config{}, nil},
		{"AWS", awsConfig, nil},
		{"photo origin over plain http elsewhere than loopback", Config{PhotoOrigin: "http://photos.example"}, ErrInvalidOrigin},
		{"photo origin not a URL", Config{PhotoOrigin: "photos"}, ErrInvalidOrigin},
		{"Cognito domain with credentials", Config{CognitoDomain: "https://a:b@x.example", CognitoClientID: "c"}, ErrInvalidOrigin},
		{"tile URL without {z}", Config{TileURL: "https://tiles.example/{x}/{y}.png"}, ErrInvalidTileURL},
		{"tile URL over http", Config{TileURL: "http://tiles.example/{z}/{x}/{y}.png"}, ErrInvalidTileURL},
		{"tile URL with javascript:", Config{TileURL: "javascript:alert(1)//{z}{x}{y}"}, ErrInvalidTileURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); !errors.Is(err, tt.want) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
	if err := (Config{CognitoDomain: awsConfig.CognitoDomain}).Validate(); err == nil {
		t.Error("a Cognito domain without a client id validates")
	}
}

// Every client serves the shared files under its own prefix, so a page's relative URLs ("common/api.js")
// stay within it.
func TestCommonFilesUnderEveryApp(t *testing.T) {
	for _, app := range Apps {
		h := Handler("/"+app+"/", app, Config{})
		for _, f := range []struct{ name, ct, body string }{
			{"common/api.js", "text/javascript; charset=utf-8", "export async function api("},
			{"common/auth.js", "text/javascript; charset=utf-8", "code_challenge_method"},
			{"common/i18n.js", "text/javascript; charset=utf-8", "Asia/Shanghai"},
			{"common/ui.css", "text/css; charset=utf-8", ":focus-visible"},
		} {
			rec := get(h, "/"+app+"/"+f.name, nil)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != f.ct || !strings.Contains(rec.Body.String(), f.body) {
				t.Errorf("/%s/%s: %d %q, body has %q: %v", app, f.name, rec.Code, rec.Header().Get("Content-Type"), f.body, strings.Contains(rec.Body.String(), f.body))
			}
		}
		for _, p := range []string{"/" + app + "/nope.js", "/" + app + "/common/", "/" + app + "/../webclient.go", "/" + app + "/common/../../webclient.go", "/elsewhere/common/api.js"} {
			if rec := get(h, p, nil); rec.Code != 404 {
				t.Errorf("%s: %d, want 404", p, rec.Code)
			}
		}
	}
}

// Every file a client's pages and manifest name (src, href, import, icons) is one the handler serves, and
// a page names none on another origin.
func TestPagesReferenceServedFiles(t *testing.T) {
	ref := regexp.MustCompile(`(?:src|href)="([^"]+)"|import\s*(?:[^"']*from\s*)?["'](\.[^"']+)["']`)
	for _, app := range Apps {
		prefix := "/" + app + "/"
		h := Handler(prefix, app, Config{})
		for _, page := range []string{"index.html", "manifest.webmanifest"} {
			rec := get(h, prefix+page, nil)
			if rec.Code == 404 {
				continue // that client is not written yet
			}
			body := rec.Body.String()
			var urls []string
			if page == "manifest.webmanifest" {
				var m struct {
					Icons []struct{ Src string } `json:"icons"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
					t.Errorf("%s%s: %v", prefix, page, err)
				}
				for _, ic := range m.Icons {
					urls = append(urls, ic.Src)
				}
			} else {
				for _, m := range ref.FindAllStringSubmatch(body, -1) {
					urls = append(urls, m[1]+m[2])
				}
			}
			t.Logf("%s%s names %d files", prefix, page, len(urls))
			for _, u := range urls {
				if strings.HasPrefix(u, "#") || strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "mailto:") {
					continue
				}
				if strings.Contains(u, "//") {
					t.Errorf("%s%s names another origin: %s", prefix, page, u)
					continue
				}
				p, _, _ := strings.Cut(u, "?")
				if p == "./" || p == "." {
					p = ""
				}
				target := prefix + strings.TrimPrefix(p, "./")
				if strings.HasPrefix(p, "/") {
					target = p
				}
				if rec := get(h, target, nil); rec.Code != 200 {
					t.Errorf("%s%s names %s, which answers %d", prefix, page, u, rec.Code)
				}
			}
		}
	}
}

// The shared files stay light: the vendored libraries, the offline map and our modules together.
func TestCommonFilesBudget(t *testing.T) {
	const budget = 768 << 10
	total, geo := 0, 0
	err := fs.WalkDir(files, "static/common", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		total += len(b)
		if strings.HasSuffix(p, ".geojson") {
			geo += len(b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > budget || geo > 1<<20 || geo == 0 {
		t.Errorf("static/common holds %d bytes (budget %d), the offline map %d (at most 1 MiB)", total, budget, geo)
	}
	t.Logf("static/common: %d bytes, offline map %d", total, geo)
}
