package dynamostore

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// attrs lists the attributes a struct decodes (its dynamodbav names).
func attrs(v any) []string {
	var out []string
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("dynamodbav"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestIndexProjectionsCarryWhatTheirReadersDecode holds template.yaml's INCLUDE lists to the readers: each
// index Query's decoded attributes are projected (a missing one would read as empty, silently), and a user
// profile's changing attributes are not (so a points change rewrites no index entry).
func TestIndexProjectionsCarryWhatTheirReadersDecode(t *testing.T) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	projected := map[string][]string{}
	for _, ix := range tpl.Tables["Table"].GlobalSecondaryIndexes {
		if ix.ProjectionType == "ALL" {
			projected[ix.Name] = nil
			continue
		}
		if ix.ProjectionType != "INCLUDE" {
			t.Fatalf("%s projects %s; this test knows ALL and INCLUDE", ix.Name, ix.ProjectionType)
		}
		keys := []string{"pk", "sk"}
		for _, k := range ix.KeySchema {
			keys = append(keys, k.Name)
		}
		projected[ix.Name] = append(keys, ix.NonKeyAttributes...)
	}
	gsiKeys := func(name string) bool { return strings.HasPrefix(name, "gsi") }
	readers := []struct {
		index, reader string
		attrs         []string
	}{
		{"gsi2", "Nearby (reports)", attrs(reportItem{})},
		{"gsi2", "Queue, OpenReports (assignments)", attrs(assignmentItem{})},
		{"gsi2", "ByItem (redemptions)", attrs(redemptionItem{})},
		{"gsi2", "TouchedUsers", []string{"gsi2sk"}},
		{"gsi3", "DayInputs: created", []string{"id", "category", "status", "duplicateOf", "rejectReason", "reporterSub", "leadDept"}},
		{"gsi3", "DayInputs: resolutions", []string{"reportId", "category", "leadDept", "createdAt", "resolvedAt", "slaDeadline"}},
		{"gsi3", "DayInputs: points", []string{"kind", "delta"}},
		{"gsi3", "DayInputs: redemptions", []string{"kind", "amount", "status"}},
		{"gsi4", "Overdue", []string{"pk", "sk", "gsi4pk", "gsi4sk"}},
		{"gsi4", "DuplicateReporters", []string{"id", "reporterSub"}},
		{"gsi4", "ExpiredReservations (redemptions)", attrs(redemptionItem{})},
		{"gsi4", "DayInputs: registered", []string{"gsi4sk"}},
	}
	for _, r := range readers {
		p, ok := projected[r.index]
		if !ok {
			t.Fatalf("template has no %s", r.index)
		}
		if p == nil {
			continue // ALL
		}
		for _, a := range r.attrs {
			if gsiKeys(a) && !slices.Contains(p, a) && a != r.index+"pk" && a != r.index+"sk" {
				continue // another index's keys: stored, never decoded from this one
			}
			if !slices.Contains(p, a) {
				t.Errorf("%s does not project %q, which %s decodes", r.index, a, r.reader)
			}
		}
	}
	for _, a := range []string{"balance", "merit", "validReports", "honors", "lifetimeEarned", "lifetimeRedeemed", "debt", "version", "day", "dayEarned", "monthEarned"} {
		if !slices.Contains(attrs(profileItem{}), a) {
			t.Fatalf("profileItem has no %q: update this test", a)
		}
		for _, ix := range []string{"gsi2", "gsi4"} { // the profile's indexes (TOUCHED#, REGISTERED#)
			if p := projected[ix]; p == nil || slices.Contains(p, a) {
				t.Errorf("%s projects the profile's %q: every points change would rewrite its entry", ix, a)
			}
		}
	}
}
