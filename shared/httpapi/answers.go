package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Answers adds the reporter's answers to a resolution to rt: POST /v1/reports/{id}/confirm and
// POST /v1/reports/{id}/contest (intake's function serves them; Idempotency-Key required).
func Answers(rt *Router, a *report.Answers, log *slog.Logger) {
	h := &answers{a: a, log: log}
	rt.HandleFunc("POST /v1/reports/{id}/confirm", h.confirm)
	rt.HandleFunc("POST /v1/reports/{id}/contest", h.contest)
}

type answers struct {
	a   *report.Answers
	log *slog.Logger
}

func (h *answers) confirm(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if p.Sub == "" {
		WriteError(w, r, h.log, auth.ErrUnauthenticated)
		return
	}
	req, body, ok := readJSON[report.Confirmation](w, r, h.log)
	if !ok {
		return
	}
	rep, err := h.a.Confirm(r.Context(), p, r.PathValue("id"), r.Header.Get("Idempotency-Key"), body, req)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, rep)
}

func (h *answers) contest(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if p.Sub == "" {
		WriteError(w, r, h.log, auth.ErrUnauthenticated)
		return
	}
	req, body, ok := readJSON[report.Contest](w, r, h.log)
	if !ok {
		return
	}
	rep, err := h.a.Contest(r.Context(), p, r.PathValue("id"), r.Header.Get("Idempotency-Key"), body, req)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, rep)
}
