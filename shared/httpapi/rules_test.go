package httpapi

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The patterns the hand-written checks replaced (issue 11, cold start): a rule passes a value exactly when
// the value is at most Max bytes and matches the rule's old pattern, as Check did with regexp.
var oldPatterns = map[string]string{
	"path id":                  `^[A-Za-z0-9_-]{1,64}$`,
	"path dept":                `^[A-Za-z0-9_-]{1,64}$`,
	"header Idempotency-Key":   `^[\x21-\x7e]*$`,
	"header Webhook-Id":        `^[\x21-\x7e]*$`,
	"header Webhook-Timestamp": `^[0-9]*$`,
	"header Webhook-Signature": `^[\x20-\x7e]*$`,
	"query cursor":             `^[A-Za-z0-9_-]*$`,
	"query limit":              `^[0-9]*$`,
	"query status":             `^[a-z_]*$`,
	"query dept":               `^[A-Za-z0-9_-]*$`,
	"query itemId":             `^[A-Za-z0-9_-]*$`,
	"query from":               `^[0-9-]*$`,
	"query to":                 `^[0-9-]*$`,
	"field sub":                `^[A-Za-z0-9_-]{1,128}$`,
	// Rules added with the volunteer service (issue 15), held to the patterns they would have been.
	"path sub":         `^[A-Za-z0-9_-]{1,128}$`,
	"path slotId":      `^[A-Za-z0-9_-]{1,64}$`,
	"path jobId":       `^[A-Za-z0-9_-]{1,64}$`,
	"query date":       `^[0-9-]*$`,
	"query near":       `^[0-9.,-]*$`,
	"query radiusKm":   `^[0-9.]*$`,
	"field id":         `^[A-Za-z0-9_-]{1,64}$`,
	"field pickupCode": `^[A-Za-z0-9]*$`,
}

// allRules names every rule of the input tables, as oldPatterns does.
func allRules() map[string]Rule {
	out := map[string]Rule{"field sub": subRule, "field id": fieldID, "field pickupCode": fieldPickupCode}
	for prefix, m := range map[string]map[string]Rule{"path": pathParams, "header": headers, "query": queryParams} {
		for name, r := range m {
			out[prefix+" "+name] = r
		}
	}
	return out
}

func TestEveryRuleHasItsOldPattern(t *testing.T) {
	rules := allRules()
	for name := range rules {
		if _, ok := oldPatterns[name]; !ok {
			t.Errorf("rule %s has no pattern in oldPatterns", name)
		}
	}
	for name := range oldPatterns {
		if _, ok := rules[name]; !ok {
			t.Errorf("oldPatterns names %s, which is not a rule", name)
		}
	}
}

func TestRulesMatchTheirPatterns(t *testing.T) {
	values := []string{
		"", "a", "A", "0", "_", "-", "~", "!", " ", "a b", "a\tb", "a\n", "\n", "a#b", "a.b", "a/b", "a%23b",
		"019a7b2c-1d2e-7f30-8a9b-0c1d2e3f4a5b", "in_progress", "2026-11-30", "1764500000", "1e9",
		"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,abc=", "eyJ9%2B%2F", "路灯", "a\xff", "\xff", "a\x00", "\x7f",
		"Municipal", "ABCdef123", strings.Repeat("a", 3), strings.Repeat("a", 4), strings.Repeat("9", 20), strings.Repeat("9", 21),
	}
	for _, n := range []int{10, 11, 16, 17, 32, 33, 63, 64, 65, 127, 128, 129, 256, 257, 1024, 1025} {
		values = append(values, strings.Repeat("A", n), strings.Repeat("~", n), strings.Repeat("1", n), strings.Repeat("-", n))
	}
	patterns := compiledPatterns()
	for _, v := range values {
		assertRulesLikePatterns(t, patterns, v)
	}
}

// FuzzRulesMatchTheirPatterns holds every rule equal to its old pattern on any input.
func FuzzRulesMatchTheirPatterns(f *testing.F) {
	for _, s := range []string{"", "municipal", "019a-7b_c", "a b", "~!", "路灯", "a\xff", "2026-11-30", strings.Repeat("A", 64)} {
		f.Add(s)
	}
	patterns := compiledPatterns()
	f.Fuzz(func(t *testing.T, s string) { assertRulesLikePatterns(t, patterns, s) })
}

func compiledPatterns() map[string]*regexp.Regexp {
	out := map[string]*regexp.Regexp{}
	for name, p := range oldPatterns {
		out[name] = regexp.MustCompile(p)
	}
	return out
}

func assertRulesLikePatterns(t *testing.T, patterns map[string]*regexp.Regexp, v string) {
	t.Helper()
	for name, rule := range allRules() {
		pattern := patterns[name]
		want := len(v) <= rule.Max && pattern.MatchString(v)
		if got := rule.Check(name, v) == nil; got != want {
			t.Fatalf("rule %s on %q: passes %v, the pattern %s says %v", name, v, got, oldPatterns[name], want)
		}
	}
}

// oldWildcard is the pattern wildcards replaced.
var oldWildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

func TestWildcards(t *testing.T) {
	tests := []struct {
		path, apiPath string
		names         []string
	}{
		{"/v1/health", "/v1/health", nil},
		{"/v1/reports/{id}", "/v1/reports/{id}", []string{"id"}},
		{"/v1/departments/{dept}/events", "/v1/departments/{dept}/events", []string{"dept"}},
		{"/v1/a/{x}/b/{y_2}", "/v1/a/{x}/b/{y_2}", []string{"x", "y_2"}},
		{"/files/{path...}", "/files/{path+}", []string{"path"}},
		{"/console/", "/console/", nil},
		{"/v1/{$}", "/v1/{$}", nil},
		{"/", "/", nil},
	}
	for _, tt := range tests {
		names, apiPath := wildcards(tt.path)
		if !slices.Equal(names, tt.names) || apiPath != tt.apiPath {
			t.Errorf("wildcards(%q) = %v, %q; want %v, %q", tt.path, names, apiPath, tt.names, tt.apiPath)
		}
		assertWildcardsLikePattern(t, tt.path)
	}
}

// FuzzWildcards holds wildcards equal to the old pattern on every path ServeMux accepts (a wildcard that is
// not a whole segment makes ServeMux panic, so no route has one).
func FuzzWildcards(f *testing.F) {
	for _, s := range []string{"/v1/reports/{id}", "/files/{path...}", "/v1/{$}", "/a/{b}/c/{d...}", "/{_x9}/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if !serveMuxAccepts("GET " + path) {
			return
		}
		assertWildcardsLikePattern(t, path)
	})
}

func serveMuxAccepts(pattern string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	http.NewServeMux().HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	return true
}

func assertWildcardsLikePattern(t *testing.T, path string) {
	t.Helper()
	var want []string
	for _, m := range oldWildcard.FindAllStringSubmatch(path, -1) {
		want = append(want, m[1])
	}
	wantPath := oldWildcard.ReplaceAllStringFunc(path, func(w string) string {
		if strings.HasSuffix(w, "...}") {
			return strings.TrimSuffix(w, "...}") + "+}"
		}
		return w
	})
	names, apiPath := wildcards(path)
	if !slices.Equal(names, want) || apiPath != wantPath {
		t.Fatalf("wildcards(%q) = %v, %q; the pattern says %v, %q", path, names, apiPath, want, wantPath)
	}
}

// A value that passes costs no allocation: the checks run on every request, before any handler.
func TestPassingCheckAllocatesNothing(t *testing.T) {
	v := strings.Repeat("A", 64)
	if allocs := testing.AllocsPerRun(100, func() { _ = pathParams["id"].Check("path parameter id", v) }); allocs != 0 {
		t.Errorf("a passing check allocates %v times, want 0", allocs)
	}
}
