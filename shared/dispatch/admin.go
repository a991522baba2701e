package dispatch

import (
	"context"
	"slices"
	"strings"
)

// AdminStore reads and writes single configuration items.
type AdminStore interface {
	ConfigStore
	Department(ctx context.Context, id string) (Department, error)
	Area(ctx context.Context, id string) (Area, error)
	Rule(ctx context.Context, id string) (Rule, error)
	PutDepartment(ctx context.Context, d Department) error
	PutArea(ctx context.Context, a Area) error
	PutRule(ctx context.Context, r Rule) error
}

// Admin lets admins read and replace departments, areas and rules, validated before anything is written.
type Admin struct {
	store    AdminStore
	dir      *Directory
	checkURL func(string) error // the egress policy's URL check
}

// NewAdmin returns an Admin.
func NewAdmin(store AdminStore, dir *Directory, checkURL func(string) error) *Admin {
	return &Admin{store: store, dir: dir, checkURL: checkURL}
}

// Department returns one department.
func (a *Admin) Department(ctx context.Context, id string) (Department, error) {
	return a.store.Department(ctx, id)
}

// Area returns one area.
func (a *Admin) Area(ctx context.Context, id string) (Area, error) { return a.store.Area(ctx, id) }

// Rule returns one rule.
func (a *Admin) Rule(ctx context.Context, id string) (Rule, error) { return a.store.Rule(ctx, id) }

// PutDepartment validates and stores d under id.
func (a *Admin) PutDepartment(ctx context.Context, id string, d Department) error {
	if d.ID == "" {
		d.ID = id
	}
	if d.ID != id {
		return ErrInvalidConfig.With("the body's id %q differs from the path's %q", d.ID, id)
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.WebhookURL != "" {
		if err := a.checkURL(d.WebhookURL); err != nil {
			return ErrInvalidConfig.With("webhookUrl: %v", err)
		}
	}
	if err := a.checkSecretRef(ctx, d); err != nil {
		return err
	}
	if err := a.store.PutDepartment(ctx, d); err != nil {
		return err
	}
	a.dir.Invalidate()
	return nil
}

// checkSecretRef keeps a department's secretRef where the functions can read it. A secret keeps its name
// for life (rotation changes its value), so a department's ref, once set, never changes; a new
// department's is <the city's prefix>/dept/<id>, the prefix the other departments' refs share (the
// functions may read only secrets under it). Any other ref names a secret that is missing or unreadable,
// and every signed callback of the department would fail with a 500.
func (a *Admin) checkSecretRef(ctx context.Context, d Department) error {
	if d.SecretRef == "" {
		return nil
	}
	cfg, err := a.dir.Get(ctx)
	if err != nil {
		return err
	}
	if old, ok := cfg.Departments[d.ID]; ok && old.SecretRef != "" {
		if d.SecretRef != old.SecretRef {
			return ErrInvalidConfig.With("the secretRef of %s is %s and cannot change (rotate the secret's value instead)", d.ID, old.SecretRef)
		}
		return nil
	}
	ids := make([]string, 0, len(cfg.Departments))
	for id := range cfg.Departments {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if prefix, ok := strings.CutSuffix(cfg.Departments[id].SecretRef, "/dept/"+id); ok {
			if want := prefix + "/dept/" + d.ID; d.SecretRef != want {
				return ErrInvalidConfig.With("the secretRef of a new department must be %s", want)
			}
			return nil
		}
	}
	return nil
}

// PutArea validates and stores ar under id.
func (a *Admin) PutArea(ctx context.Context, id string, ar Area) error {
	if ar.ID == "" {
		ar.ID = id
	}
	if ar.ID != id {
		return ErrInvalidConfig.With("the body's id %q differs from the path's %q", ar.ID, id)
	}
	if err := ar.Validate(); err != nil {
		return err
	}
	if err := a.store.PutArea(ctx, ar); err != nil {
		return err
	}
	a.dir.Invalidate()
	return nil
}

// PutRule validates r against the current departments and areas and stores it under id.
func (a *Admin) PutRule(ctx context.Context, id string, r Rule) error {
	if r.ID == "" {
		r.ID = id
	}
	if r.ID != id {
		return ErrInvalidConfig.With("the body's id %q differs from the path's %q", r.ID, id)
	}
	depts, err := a.store.Departments(ctx)
	if err != nil {
		return err
	}
	known := func(d string) bool { return slices.ContainsFunc(depts, func(x Department) bool { return x.ID == d }) }
	if err := r.Validate(known); err != nil {
		return err
	}
	if len(r.Areas) > 0 {
		areas, err := a.store.Areas(ctx)
		if err != nil {
			return err
		}
		for _, id := range r.Areas {
			if !slices.ContainsFunc(areas, func(x Area) bool { return x.ID == id }) {
				return ErrInvalidConfig.With("rule %s: unknown area %q", r.ID, id)
			}
		}
	}
	if err := a.store.PutRule(ctx, r); err != nil {
		return err
	}
	a.dir.Invalidate()
	return nil
}
