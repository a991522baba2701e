package report

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns the hand-written checks replaced (issue 11): the tests hold the checks equal to them.
var (
	oldPendingKey = regexp.MustCompile(`^uploads/pending/([A-Za-z0-9_-]{1,128})/[0-9a-f-]{36}\.(jpg|png|webp|heic)$`)
	oldValidSub   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

const uuid36 = "0192f3a4-5b6c-7d8e-9f01-23456789abcd"

func TestPendingKeyOwner(t *testing.T) {
	long := strings.Repeat("a", 128)
	cases := []struct {
		key   string
		owner string // "" when refused
	}{
		{"uploads/pending/u1/" + uuid36 + ".jpg", "u1"},
		{"uploads/pending/dept-municipal/" + uuid36 + ".heic", "dept-municipal"},
		{"uploads/pending/" + long + "/" + uuid36 + ".webp", long},
		{"uploads/pending/A_b-9/" + uuid36 + ".png", "A_b-9"},
		{"uploads/pending/" + long + "a/" + uuid36 + ".jpg", ""}, // owner of 129
		{"uploads/pending//" + uuid36 + ".jpg", ""},
		{"uploads/pending/u.1/" + uuid36 + ".jpg", ""},
		{"uploads/pending/u1/x/" + uuid36 + ".jpg", ""},
		{"uploads/pending/u1/" + uuid36 + ".jpeg", ""},
		{"uploads/pending/u1/" + uuid36 + ".JPG", ""},
		{"uploads/pending/u1/" + uuid36 + ".jpg\n", ""},
		{"uploads/pending/u1/" + uuid36 + ".jpg.png", ""},
		{"uploads/pending/u1/" + uuid36 + "0.jpg", ""},
		{"uploads/pending/u1/" + uuid36[1:] + ".jpg", ""},
		{"uploads/pending/u1/" + strings.ToUpper(uuid36) + ".jpg", ""},
		{"uploads/pending/u1/" + uuid36, ""},
		{"/uploads/pending/u1/" + uuid36 + ".jpg", ""},
		{"reports/r1/0.jpg", ""},
		{"", ""},
		{"uploads/pending/用户/" + uuid36 + ".jpg", ""},
	}
	for _, c := range cases {
		owner, ok := pendingKeyOwner(c.key)
		if ok != (c.owner != "") || owner != c.owner {
			t.Errorf("pendingKeyOwner(%q) = %q, %v; want %q", c.key, owner, ok, c.owner)
		}
		assertLikePattern(t, c.key)
	}
}

func TestValidOwner(t *testing.T) {
	cases := []struct {
		s  string
		ok bool
	}{
		{"u1", true}, {"dept-municipal", true}, {"A_z-09", true}, {strings.Repeat("x", 128), true},
		{"", false}, {strings.Repeat("x", 129), false}, {"a/b", false}, {"a b", false}, {"a\n", false}, {"é", false},
	}
	for _, c := range cases {
		if got := validOwner(c.s); got != c.ok {
			t.Errorf("validOwner(%q) = %v, want %v", c.s, got, c.ok)
		}
		if want := oldValidSub.MatchString(c.s); c.ok != want {
			t.Errorf("case %q: want %v, the pattern says %v", c.s, c.ok, want)
		}
	}
}

// FuzzPendingKeyOwner holds the checks equal to the patterns on any input.
func FuzzPendingKeyOwner(f *testing.F) {
	for _, s := range []string{"uploads/pending/u1/" + uuid36 + ".jpg", "uploads/pending/dept-x/" + uuid36 + ".heic", "u1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		assertLikePattern(t, s)
		if got, want := validOwner(s), oldValidSub.MatchString(s); got != want {
			t.Fatalf("validOwner(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

func assertLikePattern(t *testing.T, key string) {
	t.Helper()
	owner, ok := pendingKeyOwner(key)
	m := oldPendingKey.FindStringSubmatch(key)
	if ok != (m != nil) || (m != nil && owner != m[1]) {
		t.Fatalf("pendingKeyOwner(%q) = %q, %v; the pattern gives %q", key, owner, ok, m)
	}
}
