package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
)

// countingStore counts the reads a Directory makes; version "" with versioned false is a store without a
// version item.
type countingStore struct {
	versioned      bool
	version        string
	versionReads   int
	departmentLoad int
}

func (c *countingStore) Departments(context.Context) ([]Department, error) {
	c.departmentLoad++
	return []Department{{ID: "roads"}}, nil
}
func (c *countingStore) Areas(context.Context) ([]Area, error)                 { return nil, nil }
func (c *countingStore) Rules(context.Context) ([]Rule, error)                 { return nil, nil }
func (c *countingStore) Categories(context.Context) ([]report.Category, error) { return nil, nil }

type versioned struct{ *countingStore }

func (v versioned) ConfigVersion(context.Context) (string, error) {
	v.versionReads++
	return v.version, nil
}

// An aged cache is checked with the version item and reloaded only when the version moved; a store without
// one reloads on every expiry, as before.
func TestDirectoryValidatesAnAgedCacheByVersion(t *testing.T) {
	for _, tc := range []struct {
		name      string
		versioned bool
		steps     []struct {
			advance time.Duration
			bump    bool
		}
		wantVersionReads, wantLoads int
	}{
		{name: "versioned, unchanged for an hour", versioned: true, steps: []struct {
			advance time.Duration
			bump    bool
		}{{0, false}, {10 * time.Second, false}, {2 * time.Minute, false}, {time.Hour, false}}, wantVersionReads: 3, wantLoads: 1},
		{name: "versioned, edited", versioned: true, steps: []struct {
			advance time.Duration
			bump    bool
		}{{0, false}, {2 * time.Minute, true}, {10 * time.Second, false}, {2 * time.Minute, false}}, wantVersionReads: 3, wantLoads: 2},
		{name: "unversioned store reloads on expiry", versioned: false, steps: []struct {
			advance time.Duration
			bump    bool
		}{{0, false}, {10 * time.Second, false}, {2 * time.Minute, false}, {time.Hour, false}}, wantVersionReads: 0, wantLoads: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
			cs := &countingStore{version: "1"}
			var store ConfigStore = cs
			if tc.versioned {
				store = versioned{cs}
			}
			d := NewDirectory(store, time.Minute, time.UTC, func() time.Time { return now })
			for _, st := range tc.steps {
				now = now.Add(st.advance)
				if st.bump {
					cs.version += "1"
				}
				cfg, err := d.Get(context.Background())
				if err != nil || cfg.Departments["roads"].ID != "roads" {
					t.Fatalf("Get = %+v, %v", cfg, err)
				}
			}
			if cs.versionReads != tc.wantVersionReads || cs.departmentLoad != tc.wantLoads {
				t.Errorf("%d version reads, %d loads; want %d, %d", cs.versionReads, cs.departmentLoad, tc.wantVersionReads, tc.wantLoads)
			}
		})
	}
}
