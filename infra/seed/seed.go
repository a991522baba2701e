// Package seed holds the city's starting data (categories; later departments, areas and rules) and loads it
// into a store. The JSON files beside this one are the source of truth for `make run`.
package seed

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"

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

// CategoryWriter stores categories.
type CategoryWriter interface {
	PutCategory(ctx context.Context, c report.Category) error
}

// Load writes the seed into the store. It is idempotent: seeding twice leaves the same data.
func Load(ctx context.Context, store CategoryWriter) error {
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
