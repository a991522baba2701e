package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/kpi"
)

// MapLayer is what the open-reports map draws under the points: the city's areas and its bounding box.
type MapLayer struct {
	Areas any        `json:"areas"`
	BBox  [4]float64 `json:"bbox"` // minLat, minLng, maxLat, maxLng
}

// Dashboard serves the KPI API (staff and admins), the public stats and the console's static files.
func Dashboard(svc *kpi.Service, console http.Handler, layer func(ctx context.Context) (MapLayer, error), log *slog.Logger) *Router {
	h := &dashboard{svc: svc, log: log}
	mux := newRouter(log)
	mux.Handle("GET /v1/kpi/summary", h.staff(h.summary))
	mux.Handle("GET /v1/kpi/daily", h.staff(h.daily))
	mux.Handle("GET /v1/kpi/departments", h.staff(h.departments))
	mux.Handle("GET /v1/kpi/open-reports", h.staff(func(w http.ResponseWriter, r *http.Request) {
		items, at, err := svc.OpenReports(r.Context())
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		l, err := layer(r.Context())
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		WriteJSON(w, http.StatusOK, map[string]any{"items": items, "asOf": at, "areas": l.Areas, "bbox": l.BBox})
	}))
	mux.HandleFunc("GET /v1/public/stats", func(w http.ResponseWriter, r *http.Request) {
		p, err := svc.Public(r.Context())
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		WriteJSON(w, http.StatusOK, p)
	})
	if console != nil {
		mux.Handle("GET /console/", console)
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	}
	return mux
}

type dashboard struct {
	svc *kpi.Service
	log *slog.Logger
}

func (h *dashboard) staff(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Principal(r).Require(auth.Staff, auth.Admin); err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		next(w, r)
	})
}

// rangeOf reads from/to, defaulting to the last 30 local days.
func (h *dashboard) rangeOf(r *http.Request) (string, string) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if to == "" {
		to = h.svc.Today()
	}
	if from == "" {
		t, err := time.Parse(time.DateOnly, to)
		if err == nil {
			from = t.AddDate(0, 0, -29).Format(time.DateOnly)
		}
	}
	return from, to
}

func (h *dashboard) summary(w http.ResponseWriter, r *http.Request) {
	from, to := h.rangeOf(r)
	s, err := h.svc.Summary(r.Context(), from, to)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, s)
}

func (h *dashboard) daily(w http.ResponseWriter, r *http.Request) {
	from, to := h.rangeOf(r)
	days, err := h.svc.DailySeries(r.Context(), from, to)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "days": days})
}

func (h *dashboard) departments(w http.ResponseWriter, r *http.Request) {
	from, to := h.rangeOf(r)
	rows, minCases, err := h.svc.Departments(r.Context(), from, to)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "minCases": minCases, "items": rows})
}
