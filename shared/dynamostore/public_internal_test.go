package dynamostore

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// The map index carries what MapCell filters on and nothing a report's life changes (status, counts,
// resolution, lead), so a report's entry is written once, by intake.
func TestMapIndexProjectsOnlyImmutableFacts(t *testing.T) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range tpl.Tables["Table"].GlobalSecondaryIndexes {
		if ix.Name != mapIndex {
			continue
		}
		if ix.ProjectionType != "INCLUDE" {
			t.Fatalf("%s projects %s, want INCLUDE", ix.Name, ix.ProjectionType)
		}
		for _, a := range []string{"category", "createdAt", "lat", "lng"} { // MapCell's filter
			if !slices.Contains(ix.NonKeyAttributes, a) {
				t.Errorf("%s does not project %q, which MapCell filters on", ix.Name, a)
			}
		}
		for _, a := range attrs(publicReportItem{}) {
			if a != "id" && a != "category" && a != "createdAt" && a != "lat" && a != "lng" && slices.Contains(ix.NonKeyAttributes, a) {
				t.Errorf("%s projects %q: a change of it would rewrite every report's map entry", ix.Name, a)
			}
		}
		return
	}
	t.Fatalf("template.yaml has no %s", mapIndex)
}
