package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// hireRoutes are applications, invitations and hires (H3): each answered once, a hire filling one place.
func hireRoutes(mux *Router, svc *builders.HireService, log *slog.Logger) {
	h := &hireAPI{svc: svc, log: log}
	mux.HandleFunc("POST /v1/jobs/{id}/applications", h.apply)
	mux.HandleFunc("DELETE /v1/jobs/{id}/applications/me", h.withdraw)
	mux.HandleFunc("GET /v1/jobs/{id}/applications", h.applications)
	mux.HandleFunc("POST /v1/jobs/{id}/invitations", h.invite)
	mux.HandleFunc("POST /v1/jobs/{id}/applications/{sub}/answer", h.answerApplication)
	mux.HandleFunc("POST /v1/me/invitations/{jobId}/answer", h.answerInvitation)
	mux.HandleFunc("GET /v1/me/applications", h.myApplications)
	mux.HandleFunc("GET /v1/jobs/{id}/hires", h.jobHires)
	mux.HandleFunc("GET /v1/me/hires", h.myHires)
	mux.HandleFunc("POST /v1/jobs/{id}/hires/{sub}/confirm", h.confirmEmployer)
	mux.HandleFunc("POST /v1/me/hires/{jobId}/confirm", h.confirmWorker)
	mux.HandleFunc("POST /v1/jobs/{id}/hires/{sub}/cancel", h.cancelEmployer)
	mux.HandleFunc("POST /v1/me/hires/{jobId}/cancel", h.cancelWorker)
}

type hireAPI struct {
	svc *builders.HireService
	log *slog.Logger
}

func (h *hireAPI) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, status, v)
}

// hireBody decodes the body into a T when there is one (an application's message is optional).
func hireBody[T any](w http.ResponseWriter, r *http.Request, log *slog.Logger) (T, bool) {
	var v T
	body, err := ReadBody(r)
	if err == nil && len(body) > 0 {
		err = DecodeJSON(body, &v)
	}
	if err != nil {
		WriteError(w, r, log, err)
		return v, false
	}
	return v, true
}

// page is a list's answer.
type hirePage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func hirePageOf[T any](items []T, cursor string) hirePage[T] {
	if items == nil {
		items = []T{}
	}
	return hirePage[T]{Items: items, NextCursor: cursor}
}

func (h *hireAPI) apply(w http.ResponseWriter, r *http.Request) {
	in, ok := hireBody[builders.AskInput](w, r, h.log)
	if !ok {
		return
	}
	if in.Sub != "" {
		WriteError(w, r, h.log, builders.ErrInvalid.With("sub: an application is the caller's"))
		return
	}
	a, created, err := h.svc.Apply(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, createdStatus(created), a, err)
}

func (h *hireAPI) withdraw(w http.ResponseWriter, r *http.Request) {
	a, err := h.svc.Withdraw(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, a, err)
}

func (h *hireAPI) applications(w http.ResponseWriter, r *http.Request) {
	items, next, err := h.svc.Applications(r.Context(), Principal(r), r.PathValue("id"), r.URL.Query().Get("cursor"))
	h.answer(w, r, http.StatusOK, hirePageOf(items, next), err)
}

func (h *hireAPI) invite(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.AskInput](w, r, h.log)
	if !ok {
		return
	}
	a, created, err := h.svc.Invite(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, createdStatus(created), a, err)
}

func (h *hireAPI) answerApplication(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.AnswerInput](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.svc.AnswerApplication(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"), in)
	h.answer(w, r, http.StatusOK, a, err)
}

func (h *hireAPI) answerInvitation(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.AnswerInput](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.svc.AnswerInvitation(r.Context(), Principal(r), r.PathValue("jobId"), in)
	h.answer(w, r, http.StatusOK, a, err)
}

func (h *hireAPI) myApplications(w http.ResponseWriter, r *http.Request) {
	items, next, err := h.svc.MyApplications(r.Context(), Principal(r), r.URL.Query().Get("cursor"))
	h.answer(w, r, http.StatusOK, hirePageOf(items, next), err)
}

func (h *hireAPI) jobHires(w http.ResponseWriter, r *http.Request) {
	items, next, err := h.svc.JobHires(r.Context(), Principal(r), r.PathValue("id"), r.URL.Query().Get("cursor"))
	h.answer(w, r, http.StatusOK, hirePageOf(items, next), err)
}

func (h *hireAPI) myHires(w http.ResponseWriter, r *http.Request) {
	items, next, err := h.svc.MyHires(r.Context(), Principal(r), r.URL.Query().Get("cursor"))
	h.answer(w, r, http.StatusOK, hirePageOf(items, next), err)
}

func (h *hireAPI) confirmEmployer(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.ConfirmAsEmployer(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *hireAPI) confirmWorker(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.ConfirmAsWorker(r.Context(), Principal(r), r.PathValue("jobId"))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *hireAPI) cancelEmployer(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.CancelInput](w, r, h.log)
	if !ok {
		return
	}
	v, err := h.svc.CancelAsEmployer(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"), in)
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *hireAPI) cancelWorker(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.CancelInput](w, r, h.log)
	if !ok {
		return
	}
	v, err := h.svc.CancelAsWorker(r.Context(), Principal(r), r.PathValue("jobId"), in)
	h.answer(w, r, http.StatusOK, v, err)
}
