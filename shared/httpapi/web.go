package httpapi

import (
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
)

// Web serves the web clients' static sites, each under its prefix ("/app/": GET /app/{proxy+}), and the
// prefix without its slash redirected to it. The redirect is relative ("app/"), so it also holds under an
// API Gateway stage, whose name the browser's path carries and the function never sees.
func Web(sites map[string]http.Handler, log *slog.Logger) *Router {
	rt := newRouter(log)
	for _, prefix := range slices.Sorted(maps.Keys(sites)) {
		bare := strings.TrimSuffix(prefix, "/")
		rt.Handle("GET "+bare, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", path.Base(bare)+"/")
			w.WriteHeader(http.StatusMovedPermanently)
		}))
		rt.Handle("GET "+prefix, sites[prefix])
	}
	return rt
}
