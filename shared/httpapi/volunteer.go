package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Volunteer is the volunteer service's routes (志愿圈): profiles, teams, activities and sign-ups here,
// attendance in volunteer_attendance.go.
func Volunteer(svc *volunteer.Service, att *volunteer.AttendanceService, log *slog.Logger) *Router {
	h := &volunteerAPI{svc: svc, log: log}
	mux := newRouter(log)
	mux.HandleFunc("PUT /v1/me/volunteer", h.putProfile)
	mux.HandleFunc("GET /v1/me/volunteer", h.profile)
	mux.HandleFunc("POST /v1/volunteers/{sub}/verify", h.verify)
	mux.HandleFunc("PUT /v1/admin/teams/{id}", h.putTeam)
	mux.HandleFunc("GET /v1/teams", h.teams)
	mux.HandleFunc("GET /v1/teams/{id}", h.team)
	mux.HandleFunc("POST /v1/teams/{id}/members", h.join)
	mux.HandleFunc("DELETE /v1/teams/{id}/members/me", h.leave)
	mux.HandleFunc("POST /v1/activities", h.publish)
	mux.HandleFunc("GET /v1/activities", h.list)
	mux.HandleFunc("GET /v1/activities/{id}", h.activity)
	mux.HandleFunc("POST /v1/activities/{id}/cancel", h.cancel)
	mux.HandleFunc("POST /v1/activities/{id}/signups", h.signUp)
	mux.HandleFunc("DELETE /v1/activities/{id}/signups/me", h.cancelSignup)
	mux.HandleFunc("GET /v1/activities/{id}/signups", h.signups)
	mux.HandleFunc("GET /v1/me/volunteer/activities", h.mine)
	attendanceRoutes(mux, att, log)
	return mux
}

type volunteerAPI struct {
	svc *volunteer.Service
	log *slog.Logger
}

// answer writes v with status, or err.
func (h *volunteerAPI) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, status, v)
}

func (h *volunteerAPI) putProfile(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.ProfileInput](w, r, h.log)
	if !ok {
		return
	}
	v, err := h.svc.PutProfile(r.Context(), Principal(r), in)
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *volunteerAPI) profile(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Profile(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *volunteerAPI) verify(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Verify(r.Context(), Principal(r), r.PathValue("sub"))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *volunteerAPI) putTeam(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.TeamInput](w, r, h.log)
	if !ok {
		return
	}
	t, err := h.svc.PutTeam(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, http.StatusOK, t, err)
}

func (h *volunteerAPI) teams(w http.ResponseWriter, r *http.Request) {
	ts, err := h.svc.Teams(r.Context())
	if ts == nil {
		ts = []volunteer.Team{}
	}
	h.answer(w, r, http.StatusOK, map[string]any{"items": ts}, err)
}

func (h *volunteerAPI) team(w http.ResponseWriter, r *http.Request) {
	t, err := h.svc.Team(r.Context(), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, t, err)
}

func (h *volunteerAPI) join(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Join(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *volunteerAPI) leave(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Leave(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *volunteerAPI) publish(w http.ResponseWriter, r *http.Request) {
	in, body, ok := readJSON[volunteer.ActivityInput](w, r, h.log)
	if !ok {
		return
	}
	acts, err := h.svc.Publish(r.Context(), Principal(r), r.Header.Get("Idempotency-Key"), body, in)
	h.answer(w, r, http.StatusCreated, map[string]any{"items": acts}, err)
}

func (h *volunteerAPI) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq, err := volunteer.ParseListQuery(q.Get("date"), q.Get("near"), q.Get("radiusKm"), h.svc.TZ())
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	items, err := h.svc.List(r.Context(), lq)
	h.answer(w, r, http.StatusOK, map[string]any{"items": items}, err)
}

func (h *volunteerAPI) activity(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Get(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, v, err)
}

func (h *volunteerAPI) cancel(w http.ResponseWriter, r *http.Request) {
	a, err := h.svc.Cancel(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, a, err)
}

// signupAnswer is what a sign-up or its cancellation answers.
type signupAnswer struct {
	Status   string `json:"status"`
	Position int64  `json:"position,omitempty"`
}

func (h *volunteerAPI) signUp(w http.ResponseWriter, r *http.Request) {
	su, created, err := h.svc.SignUp(r.Context(), Principal(r), r.PathValue("id"))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	h.answer(w, r, status, signupAnswer{Status: su.Status, Position: su.Position}, err)
}

func (h *volunteerAPI) cancelSignup(w http.ResponseWriter, r *http.Request) {
	su, err := h.svc.CancelSignup(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, signupAnswer{Status: su.Status}, err)
}

func (h *volunteerAPI) signups(w http.ResponseWriter, r *http.Request) {
	items, err := h.svc.Signups(r.Context(), Principal(r), r.PathValue("id"))
	if items == nil {
		items = []volunteer.Signup{}
	}
	h.answer(w, r, http.StatusOK, map[string]any{"items": items}, err)
}

func (h *volunteerAPI) mine(w http.ResponseWriter, r *http.Request) {
	items, err := h.svc.Mine(r.Context(), Principal(r))
	if items == nil {
		items = []volunteer.Mine{}
	}
	h.answer(w, r, http.StatusOK, map[string]any{"items": items}, err)
}
