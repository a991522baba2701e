// Package console is the command center's KPI dashboard (数据看板): a static page — HTML, one script with
// hand-written SVG charts, one style sheet — embedded in the binary and served by the function that serves
// the KPI API, at /console/. The files are public; the page reads the KPI API with the signed-in user's
// token. Nothing is fetched from anywhere else, so it works offline and under a strict CSP.
package console

import (
	"embed"
	"net/http"
	"strings"

	"github.com/civicsnap/civicsnap/shared/webclient/assets"
)

//go:embed static
var files embed.FS

// securityPolicy allows the page its own files and its own API, and nothing else.
const securityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console under prefix (e.g. "/console/"): index.html at the prefix itself (and as
// index.html), the other files by name, 404 for anything else (shared/webclient/assets: index.html is
// revalidated on every load, assets requested with the current version are cached for a year, others for
// five minutes).
func Handler(prefix string) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	set, err := assets.Load(files, assets.Mount{Dir: "static"})
	if err != nil {
		// The files are embedded at build time: reading them cannot fail at run time; serve nothing if it did.
		set = &assets.Set{}
	}
	return &assets.Site{Prefix: prefix, Set: set, Page: http.Header{"Content-Security-Policy": {securityPolicy}}}
}
