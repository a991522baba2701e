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

// without is names less the given ones.
func without(names []string, drop ...string) []string {
	return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(drop, n) })
}

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
		if ix.ProjectionType != "INCLUDE" && ix.ProjectionType != "KEYS_ONLY" {
			t.Fatalf("%s projects %s; this test knows ALL, INCLUDE and KEYS_ONLY", ix.Name, ix.ProjectionType)
		}
		keys := []string{"pk", "sk"}
		for _, k := range ix.KeySchema {
			keys = append(keys, k.Name)
		}
		projected[ix.Name] = append(keys, ix.NonKeyAttributes...)
	}
	// What a status change writes must be in no index but the ones the item's keys move in (and an
	// assignment's queue entry, gsi2, whose key stays in the open partition while astatus moves between open
	// statuses): a report's entries (gsi3 CREATED#, gsi5 mine) and an assignment's SLA and NEAR entries
	// (gsi4, gsi3) stay as they are when a report or an assignment changes status.
	for _, c := range []struct {
		index string
		attrs []string
	}{
		{"gsi2", []string{"log"}},
		{"gsi3", []string{"status", "astatus", "updatedAt", "resolvedAt", "proofPhotos", "lastChange", "overdue", "closed", "log"}},
		{"gsi4", []string{"astatus", "updatedAt", "resolvedAt", "proofPhotos", "lastChange", "leadDept", "log"}},
		{"gsi5", []string{"status", "updatedAt", "leadDept"}},
	} {
		for _, a := range c.attrs {
			if p := projected[c.index]; p == nil || slices.Contains(p, a) {
				t.Errorf("%s projects %q: a status change would rewrite its report or assignment entries", c.index, a)
			}
		}
	}
	gsiKeys := func(name string) bool { return strings.HasPrefix(name, "gsi") }
	readers := []struct {
		index, reader string
		attrs         []string
	}{
		// Queue filters the open partition on astatus, OpenReports shows it; neither reads a dispatch marker or
		// log.
		{"gsi2", "Queue, OpenReports (assignments)", without(attrs(assignmentItem{}), "status", "dispatched", "log")},
		{"gsi2", "ByItem (redemptions)", attrs(redemptionItem{})},
		{"gsi2", "TouchedUsers", []string{"gsi2sk"}},
		{"gsi3", "Nearby (lead assignments' NEAR entries)", attrs(nearItem{})},
		{"gsi3", "DayInputs: created", []string{"id", "category", "duplicateOf", "rejectReason", "reporterSub", "leadDept"}},
		{"gsi3", "DayInputs: resolutions before issue 11", []string{"gsi3sk", "reportId", "category", "leadDept", "createdAt", "slaDeadline"}},
		{"gsi3", "DayInputs: points", []string{"kind", "delta"}},
		{"gsi3", "DayInputs: redemptions (their status by BatchGetItem)", []string{"id", "kind", "amount"}},
		{"gsi3", "DayInputs: answers (the rest is in the key)", []string{"gsi3sk"}},
		{"gsi3", "PhotosOfDays: answers (then BatchGetItem)", []string{"pk"}},
		{"gsi4", "DueForAutoConfirm (then BatchGetItem)", []string{"pk"}},
		{"gsi4", "Overdue", []string{"pk", "sk", "gsi4pk", "gsi4sk"}},
		{"gsi4", "DuplicateReporters", []string{"id", "reporterSub"}},
		{"gsi4", "ExpiredReservations (redemptions)", attrs(redemptionItem{})},
		{"gsi4", "DayInputs: registered", []string{"gsi4sk"}},
		{"gsi4", "DayInputs: resolutions (the rest is in the key)", []string{"pk", "gsi4sk", "createdAt"}},
		{"gsi5", "ListByReporter (then BatchGetItem)", []string{"pk", "sk", "reporterSub", "createdAt"}},
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
