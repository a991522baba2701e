package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// Builders is the builders' home routes (建设者之家): employers, settings, worker profiles, jobs and
// matching here (H1, H2), hires in builders_hire.go (H3), fairs, transfers and consultations in
// builders_fair.go (H4).
func Builders(svc *builders.Service, hires *builders.HireService, fairs *builders.FairService, log *slog.Logger) *Router {
	mux := newRouter(log)
	mux.HandleFunc("GET /v1/builders/trades", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]any{"items": builders.Trades()})
	})
	builderRoutes(mux, svc, log)
	jobRoutes(mux, svc, log)
	hireRoutes(mux, hires, log)
	fairRoutes(mux, fairs, log)
	return mux
}

// createdStatus is 201 when the request created the item, 200 when it found it (a re-sent request).
func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}
