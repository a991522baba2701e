package fuzz

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/infra/stack"
)

// Every POST, PUT and DELETE route of template.yaml has a model, so a new route is fuzzed or the run fails; the
// GET routes fuzzed are those that take query parameters.
func TestEveryWriteRouteHasAModel(t *testing.T) {
	routes, err := Routes("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, fn := range tpl.Functions {
		for _, ev := range fn.HTTPAPIEvents {
			key := ev.Method + " " + ev.Path
			if writeMethod(ev.Method) {
				writes++
				if !slices.Contains(routes, key) {
					t.Errorf("%s is not fuzzed", key)
				}
			}
		}
	}
	if writes < 15 {
		t.Errorf("only %d POST, PUT and DELETE routes in the template; is it the right file?", writes)
	}
	for key := range models {
		if !slices.Contains(routes, key) {
			t.Errorf("model for %s, which template.yaml does not declare (or declares without a query model)", key)
		}
	}
}

// A run is repeatable from its seed: the same seed damages the same request the same way.
func TestSameSeedSameRequests(t *testing.T) {
	newFixture := func() *fixture {
		return &fixture{depts: []string{"municipal", "police"}, areas: []string{"old_town"}, rules: []string{"r1"},
			items: []string{"fuzz-goods", "fuzz-cause"}, reports: []reportRef{{ID: "r1", Dept: "municipal"}},
			citizenKeys: []string{"uploads/pending/fuzz-citizen/k.jpg"}, staffKeys: map[string]string{}, deptKeys: map[string]string{},
			redemptions: []redemptionRef{{ID: "d1", Code: "123456"}},
			configs: map[string]map[string]any{"point-rules": {"dailyCap": 50.0, "honors": []any{map[string]any{"title": "x"}}},
				"departments/municipal": {"id": "municipal"}, "departments/police": {"id": "police"}, "areas/old_town": {"id": "old_town"},
				"rules/r1": {"id": "r1"}, "catalog/fuzz-goods": {"id": "fuzz-goods"}, "catalog/fuzz-cause": {"id": "fuzz-cause"}}}
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range models {
			if !yield(k) {
				return
			}
		}
	})
	run := func() []byte {
		g, f := newGen(42), newFixture()
		var out []Request
		for range 500 {
			out = append(out, makeRequest(g, f, pickRoute(g, keys)))
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(), run()
	if string(a) != string(b) {
		t.Fatal("two runs with one seed made different requests")
	}
	if !strings.Contains(string(a), `"method":"PUT"`) || !strings.Contains(string(a), `"method":"POST"`) {
		t.Fatal("500 requests without both a POST and a PUT")
	}
}

func TestHeaderSafeAndEscapePath(t *testing.T) {
	if got := headerSafe("a\r\nb\x00c\x7fd\te\xff"); got != "abcd\te\xff" {
		t.Errorf("headerSafe = %q", got)
	}
	for in, want := range map[string]string{"": "%20", "a b": "a%20b", "a/b#c": "a%2Fb%23c", "路": "%E8%B7%AF", "A-z_0.~": "A-z_0.~"} {
		if got := escapePath(in); got != want {
			t.Errorf("escapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// Damaged bodies stay within what the routes are meant to see: every mutation of a body keeps the
// document a JSON object until mutateBytes damages the bytes.
func TestMutateBodyKeepsAnObject(t *testing.T) {
	g := newGen(1)
	rawInvalid := 0
	base := map[string]any{"a": "x", "n": 1.0, "list": []any{"k"}, "obj": map[string]any{"lat": 1.0}}
	for range 1000 {
		b, err := json.Marshal(g.mutateBody(base))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
			t.Fatalf("mutated body %.200q is not an object", b)
		}
		if strings.Contains(string(b), "\xff") {
			rawInvalid++
		}
	}
	if rawInvalid == 0 {
		t.Error("no mutated body carried an invalid UTF-8 byte")
	}
	if base["a"] != "x" || len(base["list"].([]any)) != 1 {
		t.Fatalf("mutateBody changed its input: %v", base)
	}
}
