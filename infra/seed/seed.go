// Package seed holds the city's starting data (categories; later departments, areas and rules) and loads it
// into a store. The JSON files beside this one are the source of truth for `make run`.
package seed

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/report"
)

//go:embed *.json
var files embed.FS

// Categories returns the seeded categories.
func Categories() ([]report.Category, error) {
	var cats []report.Category
	if err := load("categories.json", &cats); err != nil {
		return nil, err
	}
	return cats, nil
}

func load(name string, v any) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return fmt.Errorf("seed %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("seed %s: %w", name, err)
	}
	return nil
}

// Department is a seeded department with its local signing secret. In AWS the secret lives only in Secrets
// Manager; the seed carries one so the local stack (and its tests) can sign department callbacks.
type Department struct {
	dispatch.Department
	LocalSecret string `json:"localSecret"`
}

// Departments returns the seeded departments. webhookUrl "{LOCAL_API}" stands for the local API's base URL.
func Departments() ([]Department, error) {
	var ds []Department
	return ds, load("departments.json", &ds)
}

// Areas returns the seeded areas.
func Areas() ([]dispatch.Area, error) {
	var as []dispatch.Area
	return as, load("areas.json", &as)
}

// Rules returns the seeded rules.
func Rules() ([]dispatch.Rule, error) {
	var rs []dispatch.Rule
	return rs, load("rules.json", &rs)
}

// CategoryWriter stores categories.
type CategoryWriter interface {
	PutCategory(ctx context.Context, c report.Category) error
}

// LoadCategories writes the seeded categories (all intake needs).
func LoadCategories(ctx context.Context, store CategoryWriter) error {
	cats, err := Categories()
	if err != nil {
		return err
	}
	for _, c := range cats {
		if err := store.PutCategory(ctx, c); err != nil {
			return fmt.Errorf("seed category %s: %w", c.Code, err)
		}
	}
	return nil
}

// Catalog returns the honor supermarket's seeded items.
func Catalog() ([]market.Item, error) {
	var items []market.Item
	return items, load("catalog.json", &items)
}

// Store is where the seed goes.
type Store interface {
	PutItem(ctx context.Context, it market.Item, resetStock bool) error
	PutCategory(ctx context.Context, c report.Category) error
	PutDepartment(ctx context.Context, d dispatch.Department) error
	PutArea(ctx context.Context, a dispatch.Area) error
	PutRule(ctx context.Context, r dispatch.Rule) error
}

// SecretWriter stores a department's signing secret under a name (Secrets Manager).
type SecretWriter func(ctx context.Context, name, value string) error

// Options of Load.
type Options struct {
	LocalAPI     string // replaces {LOCAL_API} in webhook URLs
	SecretPrefix string // secrets are named <prefix>/dept/<id>
}

// Load writes the seed: categories, then departments (with their secrets), areas and rules. It is
// idempotent: seeding twice leaves the same data.
func Load(ctx context.Context, store Store, putSecret SecretWriter, opts Options) error {
	if err := LoadCategories(ctx, store); err != nil {
		return err
	}
	depts, err := Departments()
	if err != nil {
		return err
	}
	for _, d := range depts {
		d.WebhookURL = strings.ReplaceAll(d.WebhookURL, "{LOCAL_API}", opts.LocalAPI)
		d.SecretRef = opts.SecretPrefix + "/dept/" + d.ID
		if err := putSecret(ctx, d.SecretRef, d.LocalSecret); err != nil {
			return fmt.Errorf("seed secret of %s: %w", d.ID, err)
		}
		if err := store.PutDepartment(ctx, d.Department); err != nil {
			return fmt.Errorf("seed department %s: %w", d.ID, err)
		}
	}
	areas, err := Areas()
	if err != nil {
		return err
	}
	for _, a := range areas {
		if err := store.PutArea(ctx, a); err != nil {
			return fmt.Errorf("seed area %s: %w", a.ID, err)
		}
	}
	rules, err := Rules()
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := store.PutRule(ctx, r); err != nil {
			return fmt.Errorf("seed rule %s: %w", r.ID, err)
		}
	}
	items, err := Catalog()
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := store.PutItem(ctx, it, it.Kind == market.Goods); err != nil {
			return fmt.Errorf("seed catalog item %s: %w", it.ID, err)
		}
	}
	return nil
}
