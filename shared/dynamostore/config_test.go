package dynamostore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Every configuration write moves the version a Directory validates its cache with; a directory over the
// store reloads after an edit and otherwise only reads the version.
func TestConfigWritesBumpTheVersion(t *testing.T) {
	ctx := t.Context()
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(ctx, cfg, fmt.Sprintf("cfgver%d", tables.Add(1)), motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), res.Tables["Table"].Name, time.UTC)
	if v, err := store.ConfigVersion(ctx); err != nil || v != "" {
		t.Fatalf("version of an empty table = %q, %v; want \"\"", v, err)
	}
	writes := []struct {
		name  string
		write func() error
	}{
		{"department", func() error {
			return store.PutDepartment(ctx, dispatch.Department{ID: "roads", NameZH: "路", NameEN: "Roads"})
		}},
		{"area", func() error {
			return store.PutArea(ctx, dispatch.Area{ID: "a1", Name: "old town",
				Geometry: []byte(`{"type":"Polygon","coordinates":[[[103,23],[104,23],[104,24],[103,23]]]}`)})
		}},
		{"rule", func() error {
			return store.PutRule(ctx, dispatch.Rule{ID: "r1", Categories: []string{"rubbish"}, Lead: "roads"})
		}},
		{"category", func() error {
			return store.PutCategory(ctx, report.Category{Code: "rubbish", NameZH: "垃圾", NameEN: "Rubbish"})
		}},
	}
	prev := ""
	for _, w := range writes {
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		v, err := store.ConfigVersion(ctx)
		if err != nil || v == prev {
			t.Errorf("after a %s write the version is %q (%v), was %q", w.name, v, err, prev)
		}
		prev = v
	}
	now := time.Now()
	dir := dispatch.NewDirectory(store, time.Minute, time.UTC, func() time.Time { return now })
	if c, err := dir.Get(ctx); err != nil || c.Departments["roads"].NameEN != "Roads" || c.Version != prev {
		t.Fatalf("first load = %+v, %v", c, err)
	}
	now = now.Add(2 * time.Minute)
	if err := store.PutDepartment(ctx, dispatch.Department{ID: "roads", NameZH: "路", NameEN: "Roads and bridges"}); err != nil {
		t.Fatal(err)
	}
	if c, err := dir.Get(ctx); err != nil || c.Departments["roads"].NameEN != "Roads and bridges" {
		t.Errorf("after an edit and the TTL = %+v, %v; want the edit", c.Departments, err)
	}
}
