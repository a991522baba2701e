package httpapi

import (
	"log/slog"
	"net/http"
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

// Handle registers h for a ServeMux pattern "METHOD /path/{param}".
func (rt *Router) Handle(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	params, apiPath := wildcards(path)
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

// wildcards returns the names of a ServeMux path's wildcard segments ({id}, {path...}) and the path as
// API Gateway writes it ({path...} is {path+}). Checked by hand, not with a regular expression compiled at
// package init (issue 11, cold start); "{$}" is not a wildcard.
func wildcards(path string) (names []string, apiPath string) {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			continue
		}
		name, rest := strings.CutSuffix(seg[1:len(seg)-1], "...")
		if !isIdent(name) {
			continue
		}
		names = append(names, name)
		if rest {
			segs[i] = "{" + name + "+}"
		}
	}
	return names, strings.Join(segs, "/")
}

// isIdent reports whether s is a wildcard's name: a letter or _, then letters, digits and _.
func isIdent(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// ServeHTTP serves a request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.handler.ServeHTTP(w, r) }
