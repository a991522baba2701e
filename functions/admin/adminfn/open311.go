package adminfn

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/open311"
)

// open311Clients serves the administration of Open311 client applications (admins only): list, create
// (the answer is the only place the api_key is ever shown; the table keeps its SHA-256) and revoke.
func open311Clients(router *httpapi.Router, svc *open311.Service, log *slog.Logger) {
	router.HandleFunc("GET /v1/admin/open311/clients", func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.ListClients(r.Context(), httpapi.Principal(r))
		if err != nil {
			httpapi.WriteError(w, r, log, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	})
	router.HandleFunc("POST /v1/admin/open311/clients", func(w http.ResponseWriter, r *http.Request) {
		p := httpapi.Principal(r)
		if err := p.Require(auth.Admin); err != nil {
			httpapi.WriteError(w, r, log, err)
			return
		}
		body, err := httpapi.ReadBody(r)
		if err != nil {
			httpapi.WriteError(w, r, log, err)
			return
		}
		var n open311.NewClient
		if err := httpapi.DecodeJSON(body, &n); err != nil {
			httpapi.WriteError(w, r, log, err)
			return
		}
		c, err := svc.CreateClient(r.Context(), p, n)
		if err != nil {
			httpapi.WriteError(w, r, log, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusCreated, c)
	})
	router.HandleFunc("POST /v1/admin/open311/clients/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		c, err := svc.RevokeClient(r.Context(), httpapi.Principal(r), r.PathValue("id"))
		if err != nil {
			httpapi.WriteError(w, r, log, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, c)
	})
}
