package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Redriver moves up to max dead-lettered notifications back to the outbox.
type Redriver func(ctx context.Context, max int) (int, error)

// Revoker revokes a resolved report.
type Revoker func(ctx context.Context, reportID, reason string) (report.Report, error)

// DeliveryLog lists a department's notification deliveries, newest first.
type DeliveryLog interface {
	Deliveries(ctx context.Context, dept string, limit int, cursor string) ([]notify.Delivery, string, error)
}

// AdminDeps are the services behind the admin routes.
type AdminDeps struct {
	Config     *dispatch.Admin
	Deliveries DeliveryLog
	Redrive    Redriver
	Points     *points.Service
	Revoke     Revoker
	Market     *market.Service
}

// Admin serves the command center's configuration, delivery, points and supermarket routes (admin group
// only).
func Admin(d AdminDeps, log *slog.Logger) *Router {
	cfg, pts, revoke := d.Config, d.Points, d.Revoke
	h := &admin{cfg: cfg, deliveries: d.Deliveries, redrive: d.Redrive, log: log}
	mux := newRouter(log)
	mux.Handle("GET /v1/admin/departments/{id}", h.only(getConfig(h, cfg.Department)))
	mux.Handle("PUT /v1/admin/departments/{id}", h.only(putConfig(h, cfg.PutDepartment)))
	mux.Handle("GET /v1/admin/areas/{id}", h.only(getConfig(h, cfg.Area)))
	mux.Handle("PUT /v1/admin/areas/{id}", h.only(putConfig(h, cfg.PutArea)))
	mux.Handle("GET /v1/admin/rules/{id}", h.only(getConfig(h, cfg.Rule)))
	mux.Handle("PUT /v1/admin/rules/{id}", h.only(putConfig(h, cfg.PutRule)))
	mux.Handle("GET /v1/admin/deliveries", h.only(http.HandlerFunc(h.listDeliveries)))
	mux.Handle("POST /v1/admin/deliveries/redrive", h.only(http.HandlerFunc(h.redriveDeliveries)))
	mux.Handle("GET /v1/admin/point-rules", h.only(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules, err := pts.Rules(r.Context())
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		if rules.Honors == nil {
			rules.Honors = []points.Honor{} // what a GET shows, a PUT takes back: [] (null is refused)
		}
		showVolunteerRules(&rules)
		WriteJSON(w, http.StatusOK, rules)
	})))
	mux.Handle("PUT /v1/admin/point-rules", h.only(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _, ok := readJSON[pointRulesBody](w, r, h.log)
		if !ok {
			return
		}
		rules, err := req.rules()
		if err == nil {
			err = pts.PutRules(r.Context(), rules)
		}
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		showVolunteerRules(&rules)
		WriteJSON(w, http.StatusOK, rules)
	})))
	mux.Handle("GET /v1/admin/catalog/{id}", h.only(getConfig(h, d.Market.GetItem)))
	mux.Handle("PUT /v1/admin/catalog/{id}", h.only(putConfig(h, func(ctx context.Context, id string, it market.Item) error {
		_, err := d.Market.PutItem(ctx, id, it)
		return err
	})))
	mux.Handle("GET /v1/admin/redemptions", h.only(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, ok := limitParam(w, r, h.log, 20)
		if !ok {
			return
		}
		if q.Get("itemId") == "" {
			WriteError(w, r, h.log, ErrBadQuery.With("itemId is required"))
			return
		}
		items, next, err := d.Market.ByItem(r.Context(), q.Get("itemId"), limit, q.Get("cursor"))
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		if items == nil {
			items = []market.Redemption{}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
	})))
	mux.Handle("POST /v1/admin/reports/{id}/revoke", h.only(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _, ok := readJSON[struct {
			Reason string `json:"reason"`
		}](w, r, h.log)
		if !ok {
			return
		}
		rep, err := revoke(r.Context(), r.PathValue("id"), req.Reason)
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		WriteJSON(w, http.StatusOK, rep)
	})))
	return mux
}

type admin struct {
	cfg        *dispatch.Admin
	deliveries DeliveryLog
	redrive    Redriver
	log        *slog.Logger
}

func (h *admin) only(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Principal(r).Require(auth.Admin); err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func getConfig[T any](h *admin, get func(context.Context, string) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !dispatch.ValidID(id) {
			WriteError(w, r, h.log, dispatch.ErrConfigMissing)
			return
		}
		v, err := get(r.Context(), id)
		if err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})
}

func putConfig[T any](h *admin, put func(context.Context, string, T) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _, ok := readJSON[T](w, r, h.log)
		if !ok {
			return
		}
		if err := put(r.Context(), r.PathValue("id"), v); err != nil {
			WriteError(w, r, h.log, err)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})
}

func (h *admin) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dept := q.Get("dept")
	if !dispatch.ValidID(dept) {
		WriteError(w, r, h.log, ErrBadQuery.With("dept is required"))
		return
	}
	limit, ok := limitParam(w, r, h.log, 20)
	if !ok {
		return
	}
	items, next, err := h.deliveries.Deliveries(r.Context(), dept, limit, q.Get("cursor"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if items == nil {
		items = []notify.Delivery{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
}

func (h *admin) redriveDeliveries(w http.ResponseWriter, r *http.Request) {
	n, err := h.redrive(r.Context(), 100)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]int{"redriven": n})
}

// pointRulesBody is the body of PUT /v1/admin/point-rules. The PUT replaces the rules whole, so every field
// but categoryPoints is required: a missing one would silently become 0 (no caps, no merit) or no honors.
type pointRulesBody struct {
	CategoryPoints map[string]int64 `json:"categoryPoints"`
	DuplicateAward *int64           `json:"duplicateAward"`
	DailyCap       *int64           `json:"dailyCap"`
	MonthlyCap     *int64           `json:"monthlyCap"`
	MeritPerReport *int64           `json:"meritPerReport"`
	Honors         *[]points.Honor  `json:"honors"`
	Volunteer      *volunteerRules  `json:"volunteer"` // optional: left out, the defaults (points/volunteer.go)
	Builders       *buildersRules   `json:"builders"`  // optional: left out, the defaults (off; points/builders.go)
}

// buildersRules is the builders' home part of the point rules' body (issue 16): given, it is whole.
type buildersRules struct {
	Enabled       *bool  `json:"enabled"`
	HireCompleted *int64 `json:"hireCompleted"`
	Consultation  *int64 `json:"consultation"`
}

// volunteerRules is the volunteer part of the point rules' body: given, it is whole.
type volunteerRules struct {
	PointsPerHour *int64          `json:"pointsPerHour"`
	MeritPerHour  *int64          `json:"meritPerHour"`
	Stars         *[]points.Honor `json:"stars"`
}

// showVolunteerRules fills in the volunteer and builders' rules in effect, so a GET shows what a PUT may
// send back.
func showVolunteerRules(r *points.Rules) {
	v := r.VolunteerRules()
	if v.Stars == nil {
		v.Stars = []points.Honor{}
	}
	r.Volunteer = &v
	b := r.BuildersRules()
	r.Builders = &b
}

func (b pointRulesBody) rules() (points.Rules, error) {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"duplicateAward", b.DuplicateAward != nil}, {"dailyCap", b.DailyCap != nil}, {"monthlyCap", b.MonthlyCap != nil},
		{"meritPerReport", b.MeritPerReport != nil}, {"honors", b.Honors != nil},
	} {
		if !f.set {
			return points.Rules{}, points.ErrInvalidRules.With("%s is required (the rules are replaced whole; send [] for no honors)", f.name)
		}
	}
	r := points.Rules{CategoryPoints: b.CategoryPoints, DuplicateAward: *b.DuplicateAward, DailyCap: *b.DailyCap,
		MonthlyCap: *b.MonthlyCap, MeritPerReport: *b.MeritPerReport, Honors: *b.Honors}
	if v := b.Volunteer; v != nil {
		if v.PointsPerHour == nil || v.MeritPerHour == nil || v.Stars == nil {
			return points.Rules{}, points.ErrInvalidRules.With("volunteer needs pointsPerHour, meritPerHour and stars ([] for none)")
		}
		r.Volunteer = &points.VolunteerRules{PointsPerHour: *v.PointsPerHour, MeritPerHour: *v.MeritPerHour, Stars: *v.Stars}
	}
	if b := b.Builders; b != nil {
		if b.Enabled == nil || b.HireCompleted == nil || b.Consultation == nil {
			return points.Rules{}, points.ErrInvalidRules.With("builders needs enabled, hireCompleted and consultation")
		}
		r.Builders = &points.BuildersRules{Enabled: *b.Enabled, HireCompleted: *b.HireCompleted, Consultation: *b.Consultation}
	}
	return r, nil
}
