package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Account serves a citizen's own points: profile and ledger.
func Account(svc *points.Service, log *slog.Logger) *Router {
	h := &account{svc: svc, log: log}
	mux := newRouter(log)
	mux.HandleFunc("GET /v1/me", h.me)
	mux.HandleFunc("GET /v1/me/ledger", h.ledger)
	return mux
}

type account struct {
	svc *points.Service
	log *slog.Logger
}

func (h *account) me(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if err := p.Require(auth.Citizen, auth.Staff, auth.Clerk, auth.Admin); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	prof, err := h.svc.Me(r.Context(), p.Sub)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if prof.Honors == nil {
		prof.Honors = []points.EarnedHonor{}
	}
	// Volunteer service in hours beside the minutes (credited minutes are whole quarters: exact in hours);
	// the stars are among the honors.
	WriteJSON(w, http.StatusOK, meView{Profile: prof, VolunteerHours: float64(prof.VolunteerMinutes) / 60})
}

// meView is GET /v1/me's answer: the profile and the volunteer hours.
type meView struct {
	points.Profile
	VolunteerHours float64 `json:"volunteerHours"`
}

func (h *account) ledger(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if err := p.Require(auth.Citizen, auth.Staff, auth.Clerk, auth.Admin); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	limit, ok := limitParam(w, r, h.log, 20)
	if !ok {
		return
	}
	items, next, err := h.svc.Ledger(r.Context(), p.Sub, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if items == nil {
		items = []points.Entry{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
}
