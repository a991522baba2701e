package open311

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// BasePath is where the API lives; every resource is <name>.<format> under it.
const BasePath = "/open311/v2/"

// MaxForm bounds a POST body.
const MaxForm = 64 << 10

// Route is one route as template.yaml declares it.
type Route struct{ Method, Path string }

// Handler is the HTTP edge of the service.
type Handler struct {
	svc    *Service
	log    *slog.Logger
	mux    *http.ServeMux
	routes []Route
	base   func(*http.Request) string
}

// NewHandler routes GeoReport's resources, each in both formats, to svc.
func NewHandler(svc *Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, log: log, mux: http.NewServeMux()}
	for _, f := range []Format{JSON, XML} {
		ext := "." + string(f)
		h.handle("GET", "discovery"+ext, func(w http.ResponseWriter, r *http.Request) { h.discovery(w, r, f) })
		h.handle("GET", "services"+ext, func(w http.ResponseWriter, r *http.Request) { h.services(w, r, f) })
		h.handle("GET", "requests"+ext, func(w http.ResponseWriter, r *http.Request) { h.list(w, r, f) })
		h.handle("POST", "requests"+ext, func(w http.ResponseWriter, r *http.Request) { h.submit(w, r, f) })
		h.handle("GET", "servicerequestupdates"+ext, func(w http.ResponseWriter, r *http.Request) { h.updates(w, r, f) })
		h.handle("POST", "servicerequestupdates"+ext, func(w http.ResponseWriter, r *http.Request) { h.postUpdate(w, r, f) })
	}
	// services/{code}.{fmt}, requests/{id}.{fmt}, tokens/{token}.{fmt}: a path parameter is a whole segment
	// (in API Gateway as in ServeMux), so the format is split off here.
	h.handle("GET", "services/{file}", h.withFile(h.definition))
	h.handle("GET", "requests/{file}", h.withFile(h.request))
	h.handle("GET", "tokens/{file}", h.withFile(h.token))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.fail(w, r, XML, ErrNotFound) })
	return h
}

func (h *Handler) handle(method, name string, f http.HandlerFunc) {
	path := BasePath + name
	h.routes = append(h.routes, Route{Method: method, Path: path})
	h.mux.HandleFunc(method+" "+path, f)
}

// Routes lists the routes served.
func (h *Handler) Routes() []Route { return append([]Route(nil), h.routes...) }

// ServeHTTP serves a request and logs one line (no parameters: they may carry a key or a name).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(sw, r)
	h.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
		"ms", time.Since(start).Milliseconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (h *Handler) withFile(f func(http.ResponseWriter, *http.Request, string, Format)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, format, ok := SplitFormat(r.PathValue("file"))
		if !ok {
			h.fail(w, r, XML, ErrFormat)
			return
		}
		f(w, r, name, format)
	}
}

// write encodes v in format f with status.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, f Format, status int, v any) {
	body, err := Encode(f, v)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fail answers err in GeoReport's error shape.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, f Format, err error) {
	status, body, retry := ErrorAnswer(err)
	if status >= 500 {
		h.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err.Error())
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	}
	out, _ := Encode(f, body)
	w.Header().Set("Content-Type", f.ContentType())
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// query reads the query string, refusing invalid UTF-8 and another jurisdiction.
func (h *Handler) query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || !validValues(q) {
		return nil, ErrParam.With("the query string is not valid UTF-8 form encoding")
	}
	return q, h.svc.CheckJurisdiction(q.Get("jurisdiction_id"))
}

// form reads a POST body: application/x-www-form-urlencoded, often sent without a charset, read as
// UTF-8 whatever it says. The api_key may also come in the query string.
func (h *Handler) form(r *http.Request) (url.Values, []byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, nil, ErrForm
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxForm+1))
	if err != nil || len(body) > MaxForm {
		return nil, nil, ErrForm
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !validValues(form) {
		return nil, nil, ErrForm
	}
	if form.Get("api_key") == "" {
		if k := r.URL.Query().Get("api_key"); k != "" {
			form.Set("api_key", k)
		}
	}
	if err := h.svc.CheckJurisdiction(form.Get("jurisdiction_id")); err != nil {
		return nil, nil, err
	}
	if err := h.svc.CheckJurisdiction(r.URL.Query().Get("jurisdiction_id")); err != nil {
		return nil, nil, err
	}
	return form, body, nil
}

func validValues(v url.Values) bool {
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return false
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

// WithBaseURL sets how the API's public address is found (the discovery document, the next page's Link):
// the function knows its stage or a configured URL. Without it, the request's scheme and host.
func (h *Handler) WithBaseURL(f func(*http.Request) string) *Handler {
	h.base = f
	return h
}

func (h *Handler) baseURL(r *http.Request) string {
	if h.base != nil {
		return h.base(r)
	}
	return RequestBase(r, "")
}

// RequestBase is the API's address as the client reached it: the scheme API Gateway forwards (http for a
// loopback host without one), the host, prefix (a stage, "/dev") and BasePath.
func RequestBase(r *http.Request, prefix string) string {
	scheme := r.Header.Get("X-Forwarded-Proto")
	if scheme != "http" && scheme != "https" {
		scheme = "https"
		if host := r.Host; strings.HasPrefix(host, "127.0.0.1") || strings.HasPrefix(host, "localhost") {
			scheme = "http"
		}
	}
	return scheme + "://" + r.Host + prefix + BasePath
}

func (h *Handler) discovery(w http.ResponseWriter, r *http.Request, f Format) {
	if _, err := h.query(r); err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.write(w, r, f, http.StatusOK, h.svc.Discovery(h.baseURL(r)))
}

func (h *Handler) services(w http.ResponseWriter, r *http.Request, f Format) {
	h.read(w, r, f, func(ctx context.Context) (any, error) { return h.svc.Services(ctx) })
}

func (h *Handler) definition(w http.ResponseWriter, r *http.Request, code string, f Format) {
	h.read(w, r, f, func(ctx context.Context) (any, error) { return h.svc.Definition(ctx, code) })
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request, f Format) {
	form, body, err := h.form(r)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	c, err := h.svc.Authorize(r.Context(), form.Get("api_key"))
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	out, err := h.svc.Submit(r.Context(), c, form, body)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.write(w, r, f, http.StatusOK, out)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, f Format) {
	q, err := h.query(r)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	out, next, err := h.svc.Requests(r.Context(), q)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	if next != nil {
		// GeoReport has no paging: the next page's address is a Link header, as RFC 8288 writes it.
		w.Header().Set("Link", "<"+h.baseURL(r)+"requests."+string(f)+"?"+next.Encode()+`>; rel="next"`)
	}
	h.write(w, r, f, http.StatusOK, out)
}

func (h *Handler) request(w http.ResponseWriter, r *http.Request, id string, f Format) {
	h.read(w, r, f, func(ctx context.Context) (any, error) { return h.svc.Request(ctx, id) })
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request, token string, f Format) {
	h.read(w, r, f, func(ctx context.Context) (any, error) { return h.svc.Token(ctx, token) })
}

// read answers a keyless GET: the query's common parameters checked (jurisdiction_id), then get's answer
// or its error in the spec's shape.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, f Format, get func(context.Context) (any, error)) {
	if _, err := h.query(r); err != nil {
		h.fail(w, r, f, err)
		return
	}
	out, err := get(r.Context())
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.write(w, r, f, http.StatusOK, out)
}

func (h *Handler) updates(w http.ResponseWriter, r *http.Request, f Format) {
	q, err := h.query(r)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	if _, err := h.svc.Authorize(r.Context(), q.Get("api_key")); err != nil {
		h.fail(w, r, f, err)
		return
	}
	out, err := h.svc.Updates(r.Context(), q)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.write(w, r, f, http.StatusOK, out)
}

func (h *Handler) postUpdate(w http.ResponseWriter, r *http.Request, f Format) {
	form, _, err := h.form(r)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	c, err := h.svc.Authorize(r.Context(), form.Get("api_key"))
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	out, err := h.svc.PostUpdate(r.Context(), c, form)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.write(w, r, f, http.StatusOK, out)
}
