// Package webclient is the web clients people use: the citizen app (/app/), the department workbench
// (/dept/) and the supermarket counter (/counter/). Each is plain ES modules and CSS, embedded in the binary
// and served by functions/web with the files every client shares (static/common/: the API and sign-in
// helpers, strings, the map, QR codes, the vendored libraries) and a config.json made from the deployment's
// settings. Nothing is loaded from another origin: the CSP names only this origin, the photo bucket's and
// the operator's tile server and Cognito domain when configured.
package webclient

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/civicsnap/civicsnap/shared/webclient/assets"
)

//go:embed static
var files embed.FS

// Apps are the clients, by the folder under static/ that holds each (served at /<app>/).
var Apps = []string{"app", "dept", "counter"}

// Config is what the clients are told about the deployment (config.json) and what the CSP allows.
type Config struct {
	// CognitoDomain is the hosted UI's origin (https://<prefix>.auth.<region>.amazoncognito.com); empty in
	// the local stack, where the clients sign in with POST /_local/token.
	CognitoDomain string
	// CognitoClientID is the user pool app client the clients sign in with.
	CognitoClientID string
	// TileURL is a raster tile URL template ({z}/{x}/{y}, optionally {s}); empty: the bundled offline map.
	TileURL string
	// TileAttribution is shown on the map with TileURL's tiles (the tile server's licence).
	TileAttribution string
	// PhotoOrigin is the origin of the photo bucket: photo links (presigned GETs) and upload forms
	// (presigned POSTs) go there.
	PhotoOrigin string
}

// Errors of a Config.
var (
	ErrInvalidOrigin  = errors.New("not an origin (https://host[:port], or http:// on loopback)")
	ErrInvalidTileURL = errors.New("not a tile URL template (https, with {z}, {x} and {y})")
)

// Validate checks every setting (empty ones are allowed: they turn the feature off).
func (c Config) Validate() error {
	for _, o := range []struct{ name, v string }{{"CognitoDomain", c.CognitoDomain}, {"PhotoOrigin", c.PhotoOrigin}} {
		if o.v != "" {
			if _, err := origin(o.v); err != nil {
				return fmt.Errorf("%s %q: %w", o.name, o.v, err)
			}
		}
	}
	if c.CognitoDomain != "" && c.CognitoClientID == "" {
		return errors.New("CognitoDomain is set but CognitoClientID is not")
	}
	if c.TileURL != "" {
		if _, err := origin(c.TileURL); err != nil {
			return fmt.Errorf("TileURL %q: %w", c.TileURL, ErrInvalidTileURL)
		}
		for _, p := range []string{"{z}", "{x}", "{y}"} {
			if !strings.Contains(c.TileURL, p) {
				return fmt.Errorf("TileURL %q lacks %s: %w", c.TileURL, p, ErrInvalidTileURL)
			}
		}
	}
	return nil
}

// origin returns the scheme://host[:port] of an absolute https URL (http only on loopback, as the local
// stack's moto is).
func origin(raw string) (string, error) {
	u, err := url.Parse(strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return "", ErrInvalidOrigin
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return "", ErrInvalidOrigin
		}
	default:
		return "", ErrInvalidOrigin
	}
	if strings.Contains(raw, "{s}") {
		// Leaflet's subdomains a, b, c: the CSP names the host with a wildcard label.
		host := strings.Replace(u.Host, "a", "*", 1)
		if !strings.HasPrefix(host, "*.") {
			return "", ErrInvalidOrigin
		}
		return u.Scheme + "://" + host, nil
	}
	return u.Scheme + "://" + u.Host, nil
}

// document is config.json.
type document struct {
	App             string   `json:"app"`
	Cognito         *cognito `json:"cognito"`
	TileURL         string   `json:"tileUrl"`
	TileAttribution string   `json:"tileAttribution"`
	PhotoOrigin     string   `json:"photoOrigin"`
}

type cognito struct {
	Domain   string `json:"domain"`
	ClientID string `json:"clientId"`
}

// ContentSecurityPolicy is the pages' policy: this origin's files and API, images from this origin, data:
// and blob: URLs (photo previews), the photo bucket and the tile server; connections to this origin, the
// photo bucket (uploads) and the Cognito domain (the token exchange); the service worker and manifest from
// this origin; nothing inline, no frames, no forms posted anywhere.
func (c Config) ContentSecurityPolicy() string {
	img := []string{"'self'", "data:", "blob:"}
	connect := []string{"'self'"}
	if c.PhotoOrigin != "" {
		o, _ := origin(c.PhotoOrigin)
		img = append(img, o)
		connect = append(connect, o)
	}
	if c.TileURL != "" {
		o, _ := origin(c.TileURL)
		img = append(img, o)
	}
	if c.CognitoDomain != "" {
		o, _ := origin(c.CognitoDomain)
		connect = append(connect, o)
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + strings.Join(img, " ") +
		"; media-src 'self' blob:; connect-src " + strings.Join(connect, " ") +
		"; worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// Handler serves static/<app>/ at prefix (index.html at the prefix itself), static/common/ at
// <prefix>common/ and <prefix>config.json, with shared/webclient/assets' caching. An app without files
// serves 404 for its pages (the config and common files are still served). cfg should be validated first
// (Config.Validate); an origin that is not one is left out of the CSP.
func Handler(prefix, app string, cfg Config) http.Handler {
	return handler(assets.NewCache(files), prefix, app, cfg)
}

// Handlers serves every client (Apps) at /<app>/, by prefix; the shared files are read and hashed once.
func Handlers(cfg Config) map[string]http.Handler {
	cache := assets.NewCache(files)
	out := make(map[string]http.Handler, len(Apps))
	for _, app := range Apps {
		out["/"+app+"/"] = handler(cache, "/"+app+"/", app, cfg)
	}
	return out
}

func handler(cache *assets.Cache, prefix, app string, cfg Config) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	set, err := cache.Load(assets.Mount{Dir: "static/" + app}, assets.Mount{Dir: "static/common", Prefix: "common/"})
	if err != nil {
		// An app folder that is not embedded: serve the common files alone.
		if set, err = cache.Load(assets.Mount{Dir: "static/common", Prefix: "common/"}); err != nil {
			set = &assets.Set{}
		}
	}
	doc := document{App: app, TileURL: cfg.TileURL, TileAttribution: cfg.TileAttribution}
	if cfg.PhotoOrigin != "" {
		doc.PhotoOrigin, _ = origin(cfg.PhotoOrigin)
	}
	if cfg.CognitoDomain != "" {
		doc.Cognito = &cognito{Domain: strings.TrimSuffix(cfg.CognitoDomain, "/"), ClientID: cfg.CognitoClientID}
	}
	body, _ := json.Marshal(doc) // strings only: cannot fail
	set.Add("config.json", body)
	return &assets.Site{
		Prefix:  prefix,
		Set:     set,
		NoCache: map[string]bool{"config.json": true, "sw.js": true},
		// On every answer, not only pages: a service worker's policy is its script's answer's.
		Header: http.Header{
			"Content-Security-Policy": {cfg.ContentSecurityPolicy()},
			// The citizen app takes photos and the location, the counter scans codes: only this origin may.
			"Permissions-Policy": {"camera=(self), geolocation=(self), microphone=()"},
		},
	}
}
