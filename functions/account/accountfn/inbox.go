package accountfn

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

// The caller's notifications, devices and preferences. Every route is under /v1/me and every key the
// store builds names the caller's sub, so there is no way to name another user's items: another user's
// notification or device id answers 404 like one that never existed.

type inboxRoutes struct {
	inbox *notify.Inbox
	log   *slog.Logger
}

// addInboxRoutes registers the routes on the account router.
func addInboxRoutes(r *httpapi.Router, inbox *notify.Inbox, log *slog.Logger) {
	h := &inboxRoutes{inbox: inbox, log: log}
	r.HandleFunc("GET /v1/me/notifications", h.list)
	r.HandleFunc("POST /v1/me/notifications/read", h.readAll)
	r.HandleFunc("POST /v1/me/notifications/{id}/read", h.readOne)
	r.HandleFunc("GET /v1/me/notification-preferences", h.getPrefs)
	r.HandleFunc("PUT /v1/me/notification-preferences", h.putPrefs)
	r.HandleFunc("PUT /v1/me/devices/{id}", h.putDevice)
	r.HandleFunc("DELETE /v1/me/devices/{id}", h.deleteDevice)
}

// caller returns the signed-in caller's sub, or writes the error.
func (h *inboxRoutes) caller(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := httpapi.Principal(r)
	if err := p.Require(auth.Citizen, auth.Staff, auth.Clerk, auth.Admin); err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return "", false
	}
	return p.Sub, true
}

// body reads and strictly decodes the request body into dst, or writes the error.
func (h *inboxRoutes) body(w http.ResponseWriter, r *http.Request, dst any) bool {
	b, err := httpapi.ReadBody(r)
	if err == nil {
		err = httpapi.DecodeJSON(b, dst)
	}
	if err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return false
	}
	return true
}

func (h *inboxRoutes) list(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	limit := 20
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			httpapi.WriteError(w, r, h.log, report.ErrInvalidLimit)
			return
		}
		limit = n
	}
	page, err := h.inbox.List(r.Context(), sub, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
}

func (h *inboxRoutes) readOne(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := h.inbox.MarkRead(r.Context(), sub, id); err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "read": true})
}

func (h *inboxRoutes) readAll(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	var req struct {
		Before *time.Time `json:"before"`
	}
	if !h.body(w, r, &req) {
		return
	}
	if req.Before == nil {
		httpapi.WriteError(w, r, h.log, notify.ErrInvalidReadMark.With("before is required"))
		return
	}
	if err := h.inbox.MarkAllRead(r.Context(), sub, *req.Before); err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"readThrough": req.Before.UTC()})
}

func (h *inboxRoutes) getPrefs(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	p, err := h.inbox.Preferences(r.Context(), sub)
	if err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

func (h *inboxRoutes) putPrefs(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	var p notify.Preferences
	if !h.body(w, r, &p) {
		return
	}
	if err := h.inbox.SetPreferences(r.Context(), sub, p); err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	h.getPrefs(w, r)
}

func (h *inboxRoutes) putDevice(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	var req struct {
		Platform notify.Platform `json:"platform"`
		Token    string          `json:"token"`
	}
	if !h.body(w, r, &req) {
		return
	}
	d, err := h.inbox.RegisterDevice(r.Context(), sub, notify.Device{ID: r.PathValue("id"), Platform: req.Platform, Token: req.Token})
	if err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	// The token is the caller's own, but it is not echoed: a response may be logged by a client.
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"id": d.ID, "platform": d.Platform, "updatedAt": d.UpdatedAt})
}

func (h *inboxRoutes) deleteDevice(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.caller(w, r)
	if !ok {
		return
	}
	if err := h.inbox.RemoveDevice(r.Context(), sub, r.PathValue("id")); err != nil {
		httpapi.WriteError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
