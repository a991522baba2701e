package dispatch

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns the hand-written checks replaced (issue 11): the tests hold the checks equal to them.
var (
	oldIDPattern    = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	oldSecretPrefix = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,400}$`)
)

func TestValidIDAndSecretPrefix(t *testing.T) {
	cases := []struct {
		s             string
		id, secretRef bool
	}{
		{"municipal", true, true},
		{"dept_1-a", true, true},
		{strings.Repeat("a", 64), true, true},
		{strings.Repeat("a", 65), false, true},
		{strings.Repeat("a", 400), false, true},
		{strings.Repeat("a", 401), false, false},
		{"", false, false},
		{"Municipal", false, true},
		{"civicsnap/prod", false, true},
		{"a+b=c.d@e", false, true},
		{"a b", false, false},
		{"a\n", false, false},
		{"市政", false, false},
		{"a\xff", false, false},
	}
	for _, c := range cases {
		if got := ValidID(c.s); got != c.id {
			t.Errorf("ValidID(%q) = %v, want %v", c.s, got, c.id)
		}
		if got := validSecretPrefix(c.s); got != c.secretRef {
			t.Errorf("validSecretPrefix(%q) = %v, want %v", c.s, got, c.secretRef)
		}
		assertLikePatterns(t, c.s)
	}
}

// FuzzValidID holds the checks equal to the patterns on any input.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"municipal", "civicsnap/local", "", "A", "a\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { assertLikePatterns(t, s) })
}

func assertLikePatterns(t *testing.T, s string) {
	t.Helper()
	if got, want := ValidID(s), oldIDPattern.MatchString(s); got != want {
		t.Fatalf("ValidID(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := validSecretPrefix(s), oldSecretPrefix.MatchString(s); got != want {
		t.Fatalf("validSecretPrefix(%q) = %v, the pattern says %v", s, got, want)
	}
}
