package points

import (
	"regexp"
	"strings"
	"testing"
)

// oldCategoryCode is the pattern validCategoryCode replaced (issue 11).
var oldCategoryCode = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

func TestValidCategoryCode(t *testing.T) {
	cases := []struct {
		c  string
		ok bool
	}{
		{"street_light", true}, {"a-1", true}, {strings.Repeat("a", 64), true},
		{"", false}, {strings.Repeat("a", 65), false}, {"Street", false}, {"a b", false}, {"路灯", false}, {"a\xff", false},
	}
	for _, c := range cases {
		if got := validCategoryCode(c.c); got != c.ok {
			t.Errorf("validCategoryCode(%q) = %v, want %v", c.c, got, c.ok)
		}
		if want := oldCategoryCode.MatchString(c.c); want != c.ok {
			t.Errorf("case %q: want %v, the pattern says %v", c.c, c.ok, want)
		}
	}
}

// FuzzValidCategoryCode holds the check equal to the pattern on any input.
func FuzzValidCategoryCode(f *testing.F) {
	for _, s := range []string{"street_light", "", "A", "a\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validCategoryCode(s), oldCategoryCode.MatchString(s); got != want {
			t.Fatalf("validCategoryCode(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
