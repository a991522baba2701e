package httpapi

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
)

// Route is one route a router serves, written as template.yaml writes it: Method GET, Path
// /v1/reports/{id} (a subtree pattern "/console/" is Path /console/{proxy+}).
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// Router is a ServeMux that remembers its routes (so a test can compare them with template.yaml) and checks
// every request's path parameters, headers and query against the input tables before the route's handler
// runs. It logs one line per request (WithLogging).
type Router struct {
	mux     *http.ServeMux
	handler http.Handler
	routes  []Route
	log     *slog.Logger
}

func newRouter(log *slog.Logger) *Router {
	mux := http.NewServeMux()
	return &Router{mux: mux, handler: WithLogging(mux, log), log: log}
}

var wildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

// Handle registers h for a ServeMux pattern "METHOD /path/{param}".
func (rt *Router) Handle(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	var params []string
	for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
		params = append(params, m[1])
	}
	apiPath := wildcard.ReplaceAllStringFunc(path, func(w string) string {
		if strings.HasSuffix(w, "...}") {
			return strings.TrimSuffix(w, "...}") + "+}"
		}
		return w
	})
	if strings.HasSuffix(apiPath, "/") && apiPath != "/" {
		apiPath += "{proxy+}"
	}
	rt.routes = append(rt.routes, Route{Method: method, Path: apiPath})
	rt.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkRequest(r, params); err != nil {
			WriteError(w, r, rt.log, err)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

// HandleFunc registers f for pattern.
func (rt *Router) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	rt.Handle(pattern, http.HandlerFunc(f))
}

// Routes lists the routes in the order they were registered.
func (rt *Router) Routes() []Route { return append([]Route(nil), rt.routes...) }

// ServeHTTP serves a request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.handler.ServeHTTP(w, r) }
