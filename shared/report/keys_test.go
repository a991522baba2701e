package report

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns the hand-written checks stand for (issue 11: no regexp compiled at init): the tests hold
// the checks equal to them.
var (
	uploadKeyPattern = regexp.MustCompile(`^photos/([0-9]{4}-[0-9]{2}-[0-9]{2})/([A-Za-z0-9_-]{1,128})/[0-9a-f-]{36}\.(jpg|png|webp|heic)$`)
	oldValidSub      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

const uuid36 = "0192f3a4-5b6c-7d8e-9f01-23456789abcd"

func TestParseUploadKey(t *testing.T) {
	long := strings.Repeat("a", 128)
	const d = "photos/2026-11-30/"
	cases := []struct {
		key   string
		owner string // "" when refused
	}{
		{d + "u1/" + uuid36 + ".jpg", "u1"},
		{d + "dept-municipal/" + uuid36 + ".heic", "dept-municipal"},
		{d + long + "/" + uuid36 + ".webp", long},
		{d + "A_b-9/" + uuid36 + ".png", "A_b-9"},
		{"photos/9999-99-99/u1/" + uuid36 + ".jpg", "u1"}, // the shape only: the date is VerifyPhotos'
		{d + long + "a/" + uuid36 + ".jpg", ""},           // owner of 129
		{d + "/" + uuid36 + ".jpg", ""},
		{d + "u.1/" + uuid36 + ".jpg", ""},
		{d + "u1/x/" + uuid36 + ".jpg", ""},
		{d + "u1/" + uuid36 + ".jpeg", ""},
		{d + "u1/" + uuid36 + ".JPG", ""},
		{d + "u1/" + uuid36 + ".jpg\n", ""},
		{d + "u1/" + uuid36 + ".jpg.png", ""},
		{d + "u1/" + uuid36 + "0.jpg", ""},
		{d + "u1/" + uuid36[1:] + ".jpg", ""},
		{d + "u1/" + strings.ToUpper(uuid36) + ".jpg", ""},
		{d + "u1/" + uuid36, ""},
		{"/" + d + "u1/" + uuid36 + ".jpg", ""},
		{"photos/2026-1-30/u1/" + uuid36 + ".jpg", ""},
		{"photos/2026/11/30/u1/" + uuid36 + ".jpg", ""},
		{"photos/2026-11-30u1/" + uuid36 + ".jpg", ""},
		{"photos/20261130xx/u1/" + uuid36 + ".jpg", ""},
		{"photos/2026-11-3a/u1/" + uuid36 + ".jpg", ""},
		{"photos/u1/" + uuid36 + ".jpg", ""},
		{"uploads/pending/u1/" + uuid36 + ".jpg", ""}, // the shape before issue 11
		{"reports/r1/0.jpg", ""},
		{"", ""},
		{d + "用户/" + uuid36 + ".jpg", ""},
	}
	for _, c := range cases {
		owner, ok := uploadKeyOwner(c.key)
		if ok != (c.owner != "") || owner != c.owner {
			t.Errorf("uploadKeyOwner(%q) = %q, %v; want %q", c.key, owner, ok, c.owner)
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

// FuzzParseUploadKey holds the checks equal to the patterns on any input.
func FuzzParseUploadKey(f *testing.F) {
	for _, s := range []string{"photos/2026-11-30/u1/" + uuid36 + ".jpg", "photos/2026-01-02/dept-x/" + uuid36 + ".heic", "u1", ""} {
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
	day, owner, ok := parseUploadKey(key)
	m := uploadKeyPattern.FindStringSubmatch(key)
	if ok != (m != nil) || (m != nil && (day != m[1] || owner != m[2])) {
		t.Fatalf("parseUploadKey(%q) = %q, %q, %v; the pattern gives %q", key, day, owner, ok, m)
	}
}
