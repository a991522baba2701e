package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/ttl"
)

// ConfigStore reads the city's configuration.
type ConfigStore interface {
	Departments(ctx context.Context) ([]Department, error)
	Areas(ctx context.Context) ([]Area, error)
	Rules(ctx context.Context) ([]Rule, error)
	Categories(ctx context.Context) ([]report.Category, error)
}

// VersionedStore is a ConfigStore whose writes bump a version (dynamostore's CONFIG/VERSION item): an
// aged cache is then checked with one small read and reloaded only when the version moved.
type VersionedStore interface {
	ConfigVersion(ctx context.Context) (string, error)
}

// Config is one consistent load of the configuration.
type Config struct {
	Departments map[string]Department
	Categories  map[string]report.Category
	Engine      *Engine
	// Loaded is when the configuration was loaded or last found current; Version what the store's
	// version was before it was loaded.
	Loaded  time.Time
	Version string
}

// Directory caches the configuration per container for a short TTL, so admins' edits take effect within
// a minute without a read per report. When the TTL has passed, a versioned store is asked for its version
// (one GetItem) and the four Queries of a load are made only when it moved: at a quiet city's pace, where
// the cache has aged on most calls, a call costs one small read, not four Queries.
type Directory struct {
	store ConfigStore
	ttl   time.Duration
	tz    *time.Location
	now   func() time.Time

	mu  sync.Mutex
	cfg *Config
}

// NewDirectory returns a Directory.
func NewDirectory(store ConfigStore, ttl time.Duration, tz *time.Location, now func() time.Time) *Directory {
	return &Directory{store: store, ttl: ttl, tz: tz, now: now}
}

// Get returns the cached configuration, loading it when stale.
func (d *Directory) Get(ctx context.Context) (*Config, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg != nil && ttl.Fresh(d.cfg.Loaded, d.now(), d.ttl) {
		return d.cfg, nil
	}
	var version string
	if vs, ok := d.store.(VersionedStore); ok {
		v, err := vs.ConfigVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("load configuration version: %w", err)
		}
		if d.cfg != nil && v == d.cfg.Version {
			current := *d.cfg
			current.Loaded = d.now()
			d.cfg = &current
			return d.cfg, nil
		}
		version = v
	}
	depts, err := d.store.Departments(ctx)
	if err != nil {
		return nil, fmt.Errorf("load departments: %w", err)
	}
	areas, err := d.store.Areas(ctx)
	if err != nil {
		return nil, fmt.Errorf("load areas: %w", err)
	}
	rules, err := d.store.Rules(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	cats, err := d.store.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("load categories: %w", err)
	}
	engine, err := NewEngine(rules, areas, d.tz)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Departments: map[string]Department{}, Categories: map[string]report.Category{}, Engine: engine, Loaded: d.now(), Version: version}
	for _, dep := range depts {
		cfg.Departments[dep.ID] = dep
	}
	for _, c := range cats {
		cfg.Categories[c.Code] = c
	}
	d.cfg = cfg
	return cfg, nil
}

// Invalidate forgets the cache (after an admin edit in this container).
func (d *Directory) Invalidate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg = nil
}
