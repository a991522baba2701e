package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/market"
)

// Market serves the honor supermarket: the catalog, redemptions, pickup and cancellation.
func Market(svc *market.Service, log *slog.Logger) *Router {
	h := &marketAPI{svc: svc, log: log}
	mux := newRouter(log)
	mux.HandleFunc("GET /v1/catalog", h.catalog)
	mux.HandleFunc("POST /v1/redemptions", h.redeem)
	mux.HandleFunc("GET /v1/me/redemptions", h.mine)
	mux.HandleFunc("POST /v1/redemptions/{id}/verify", h.verify)
	mux.HandleFunc("POST /v1/redemptions/{id}/fulfil", h.fulfil)
	mux.HandleFunc("POST /v1/redemptions/{id}/cancel", h.cancel)
	return mux
}

type marketAPI struct {
	svc *market.Service
	log *slog.Logger
}

func (h *marketAPI) catalog(w http.ResponseWriter, r *http.Request) {
	items, err := h.svc.Catalog(r.Context())
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if items == nil {
		items = []market.CatalogEntry{}
	}
	w.Header().Set("Cache-Control", "public, max-age=30")
	WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *marketAPI) redeem(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if p.Sub == "" {
		WriteError(w, r, h.log, auth.ErrUnauthenticated)
		return
	}
	req, body, ok := readJSON[market.Request](w, r, h.log)
	if !ok {
		return
	}
	if err := fieldID.Check("itemId", req.ItemID); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	red, err := h.svc.Redeem(r.Context(), p, r.Header.Get("Idempotency-Key"), body, req)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, red)
}

func (h *marketAPI) mine(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r, h.log, 20)
	if !ok {
		return
	}
	items, next, err := h.svc.Mine(r.Context(), Principal(r), limit, r.URL.Query().Get("cursor"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if items == nil {
		items = []market.Redemption{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
}

// pickupCode reads the body of a pickup (verify, fulfil): {"pickupCode"}.
func (h *marketAPI) pickupCode(w http.ResponseWriter, r *http.Request) (string, bool) {
	req, _, ok := readJSON[struct {
		PickupCode string `json:"pickupCode"`
	}](w, r, h.log)
	if !ok {
		return "", false
	}
	if err := fieldPickupCode.Check("pickupCode", req.PickupCode); err != nil {
		WriteError(w, r, h.log, err)
		return "", false
	}
	return req.PickupCode, true
}

// verify is the counter's look before the handover. A POST, as the code is a secret (no URL carries it
// into a log) and a wrong one is counted.
func (h *marketAPI) verify(w http.ResponseWriter, r *http.Request) {
	code, ok := h.pickupCode(w, r)
	if !ok {
		return
	}
	v, err := h.svc.Verify(r.Context(), Principal(r), r.PathValue("id"), code)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

func (h *marketAPI) fulfil(w http.ResponseWriter, r *http.Request) {
	code, ok := h.pickupCode(w, r)
	if !ok {
		return
	}
	red, err := h.svc.Fulfil(r.Context(), Principal(r), r.PathValue("id"), code)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, red)
}

func (h *marketAPI) cancel(w http.ResponseWriter, r *http.Request) {
	red, err := h.svc.Cancel(r.Context(), Principal(r), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, red)
}
