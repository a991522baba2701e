package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Intake serves report intake: health, categories, uploads and reports.
func Intake(svc *report.Service, log *slog.Logger) *Router {
	mux := newRouter(log)
	h := &intake{svc: svc, log: log}
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /v1/categories", h.categories)
	mux.HandleFunc("POST /v1/uploads", h.createUpload)
	mux.HandleFunc("POST /v1/reports", h.createReport)
	mux.HandleFunc("GET /v1/reports/{id}", h.getReport)
	mux.HandleFunc("GET /v1/me/reports", h.listMine)
	return mux
}

type intake struct {
	svc *report.Service
	log *slog.Logger
}

func (h *intake) categories(w http.ResponseWriter, r *http.Request) {
	cats, err := h.svc.Categories(r.Context())
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	active := make([]report.Category, 0, len(cats))
	for _, c := range cats {
		if c.Active {
			active = append(active, c)
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	WriteJSON(w, http.StatusOK, map[string]any{"items": active})
}

type uploadRequest struct {
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

func (h *intake) createUpload(w http.ResponseWriter, r *http.Request) {
	req, _, ok := readJSON[uploadRequest](w, r, h.log)
	if !ok {
		return
	}
	up, err := h.svc.CreateUpload(r.Context(), Principal(r), req.ContentType, req.Size)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, up)
}

func (h *intake) createReport(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if p.Sub == "" {
		WriteError(w, r, h.log, auth.ErrUnauthenticated)
		return
	}
	req, body, ok := readJSON[report.NewReport](w, r, h.log)
	if !ok {
		return
	}
	rep, err := h.svc.Create(r.Context(), p, r.Header.Get("Idempotency-Key"), body, req)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	w.Header().Set("Location", "/v1/reports/"+rep.ID)
	WriteJSON(w, http.StatusCreated, rep.For(p))
}

func (h *intake) getReport(w http.ResponseWriter, r *http.Request) {
	rep, err := h.svc.View(r.Context(), Principal(r), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, rep)
}

func (h *intake) listMine(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r, h.log, report.DefaultLimit)
	if !ok {
		return
	}
	page, err := h.svc.ListMine(r.Context(), Principal(r), limit, r.URL.Query().Get("cursor"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, page)
}

// WithLogging logs one JSON line per request: method, route, status, duration and request id — never the
// body or the caller's identity.
func WithLogging(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"ms", time.Since(start).Milliseconds(), "requestId", RequestID(r))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
