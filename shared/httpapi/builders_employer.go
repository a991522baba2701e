package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// builderRoutes are builders' home's settings, employers and worker profiles (README "Builders' home").
func builderRoutes(mux *Router, svc *builders.Service, log *slog.Logger) {
	h := &employerAPI{svc: svc, log: log}
	mux.HandleFunc("GET /v1/admin/builders/settings", h.settings)
	mux.HandleFunc("PUT /v1/admin/builders/settings", h.putSettings)
	mux.HandleFunc("PUT /v1/me/employer", h.register)
	mux.HandleFunc("GET /v1/me/employer", h.myEmployer)
	mux.HandleFunc("GET /v1/admin/employers", h.employers)
	mux.HandleFunc("POST /v1/admin/employers/{sub}/verify", h.decide("verify", false))
	mux.HandleFunc("POST /v1/admin/employers/{sub}/reject", h.decide("reject", true))
	mux.HandleFunc("POST /v1/admin/employers/{sub}/suspend", h.decide("suspend", true))
	mux.HandleFunc("POST /v1/admin/employers/{sub}/reinstate", h.decide("reinstate", false))
	mux.HandleFunc("GET /v1/employers/{sub}", h.employer)
	mux.HandleFunc("POST /v1/employers/{sub}/reports", h.report)
	mux.HandleFunc("PUT /v1/me/worker", h.putWorker)
	mux.HandleFunc("GET /v1/me/worker", h.worker)
	mux.HandleFunc("DELETE /v1/me/worker", h.deleteWorker)
}

type employerAPI struct {
	svc *builders.Service
	log *slog.Logger
}

func (h *employerAPI) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, status, v)
}

func (h *employerAPI) settings(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.Settings(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, st, err)
}

func (h *employerAPI) putSettings(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.SettingsInput](w, r, h.log)
	if !ok {
		return
	}
	st, err := h.svc.PutSettings(r.Context(), Principal(r), in)
	h.answer(w, r, http.StatusOK, st, err)
}

func (h *employerAPI) register(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.EmployerInput](w, r, h.log)
	if !ok {
		return
	}
	e, err := h.svc.RegisterEmployer(r.Context(), Principal(r), in)
	h.answer(w, r, http.StatusOK, e, err)
}

func (h *employerAPI) myEmployer(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.MyEmployer(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, e, err)
}

func (h *employerAPI) employers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	es, next, err := h.svc.Employers(r.Context(), Principal(r), q.Get("status"), q.Get("cursor"))
	if es == nil {
		es = []builders.Employer{}
	}
	h.answer(w, r, http.StatusOK, map[string]any{"items": es, "nextCursor": next}, err)
}

// decide is an admin's decision; withReason: the body is {reason}, else {}.
func (h *employerAPI) decide(decision string, withReason bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in builders.ReasonInput
		if withReason {
			v, _, ok := readJSON[builders.ReasonInput](w, r, h.log)
			if !ok {
				return
			}
			in = v
		} else if !emptyBody(w, r, h.log) {
			return
		}
		e, err := h.svc.DecideEmployer(r.Context(), Principal(r), r.PathValue("sub"), decision, in)
		h.answer(w, r, http.StatusOK, e, err)
	}
}

// emptyBody checks that the body is {} or nothing; otherwise it writes the error and returns false.
func emptyBody(w http.ResponseWriter, r *http.Request, log *slog.Logger) bool {
	body, err := ReadBody(r)
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		err = DecodeJSON(body, &struct{}{})
	}
	if err != nil {
		WriteError(w, r, log, err)
		return false
	}
	return true
}

func (h *employerAPI) employer(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.PublicEmployer(r.Context(), Principal(r), r.PathValue("sub"))
	h.answer(w, r, http.StatusOK, e, err)
}

func (h *employerAPI) report(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.ReasonInput](w, r, h.log)
	if !ok {
		return
	}
	e, err := h.svc.ReportEmployer(r.Context(), Principal(r), r.PathValue("sub"), in)
	h.answer(w, r, http.StatusOK, e, err)
}

func (h *employerAPI) putWorker(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.WorkerInput](w, r, h.log)
	if !ok {
		return
	}
	wk, err := h.svc.PutWorker(r.Context(), Principal(r), in)
	h.answer(w, r, http.StatusOK, wk, err)
}

func (h *employerAPI) worker(w http.ResponseWriter, r *http.Request) {
	wk, err := h.svc.MyWorker(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, wk, err)
}

func (h *employerAPI) deleteWorker(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteWorker(r.Context(), Principal(r)); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
