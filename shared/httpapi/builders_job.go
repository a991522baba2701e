package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// jobRoutes are the jobs of builders' home: posting, search, a job, closing, the employer's jobs and the
// ranked workers who match a job (README "Builders' home").
func jobRoutes(mux *Router, svc *builders.Service, log *slog.Logger) {
	h := &jobAPI{svc: svc, log: log}
	mux.HandleFunc("POST /v1/jobs", h.post)
	mux.HandleFunc("GET /v1/jobs", h.search)
	mux.HandleFunc("GET /v1/jobs/{id}", h.job)
	mux.HandleFunc("POST /v1/jobs/{id}/close", h.close)
	mux.HandleFunc("GET /v1/me/jobs", h.mine)
	mux.HandleFunc("GET /v1/jobs/{id}/matches", h.matches)
}

type jobAPI struct {
	svc *builders.Service
	log *slog.Logger
}

func (h *jobAPI) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, status, v)
}

func (h *jobAPI) post(w http.ResponseWriter, r *http.Request) {
	in, body, ok := readJSON[builders.JobInput](w, r, h.log)
	if !ok {
		return
	}
	j, created, err := h.svc.PostJob(r.Context(), Principal(r), r.Header.Get("Idempotency-Key"), body, in)
	h.answer(w, r, createdStatus(created), j, err)
}

func (h *jobAPI) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sq, err := builders.ParseSearchQuery(q.Get("near"), q.Get("radiusKm"), q.Get("trade"), q.Get("minWage"), q.Get("cursor"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	items, next, err := h.svc.SearchJobs(r.Context(), Principal(r), sq)
	h.answer(w, r, http.StatusOK, map[string]any{"items": items, "nextCursor": next}, err)
}

func (h *jobAPI) job(w http.ResponseWriter, r *http.Request) {
	j, err := h.svc.Job(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, j, err)
}

func (h *jobAPI) close(w http.ResponseWriter, r *http.Request) {
	j, err := h.svc.CloseJob(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, j, err)
}

func (h *jobAPI) mine(w http.ResponseWriter, r *http.Request) {
	items, next, err := h.svc.MyJobs(r.Context(), Principal(r), r.URL.Query().Get("cursor"))
	if items == nil {
		items = []builders.Job{}
	}
	h.answer(w, r, http.StatusOK, map[string]any{"items": items, "nextCursor": next}, err)
}

func (h *jobAPI) matches(w http.ResponseWriter, r *http.Request) {
	items, err := h.svc.JobMatches(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, map[string]any{"items": items}, err)
}
