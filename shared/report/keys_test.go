package report

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns the hand-written checks stand for (issue 11: no regexp compiled at init): the tests hold
// the checks equal to them.
var (
	uploadKeyPattern = regexp.MustCompile(`^photos/([0-9]{4}-[0-9]{2}-[0-9]{2})/[0-9a-f-]{36}\.(jpg|png|webp|heic)$`)
	oldValidSub      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

const uuid36 = "0192f3a4-5b6c-7d8e-9f01-23456789abcd"

func TestParseUploadKey(t *testing.T) {
	const d = "photos/2026-11-30/"
	cases := []struct {
		key string
		day string // "" when refused
	}{
		{d + uuid36 + ".jpg", "2026-11-30"},
		{d + uuid36 + ".heic", "2026-11-30"},
		{d + uuid36 + ".webp", "2026-11-30"},
		{d + uuid36 + ".png", "2026-11-30"},
		{"photos/9999-99-99/" + uuid36 + ".jpg", "9999-99-99"}, // the shape only: the date is VerifyPhotos'
		{d + "u1/" + uuid36 + ".jpg", ""},                      // an owner in the key: the shape before
		{d + "/" + uuid36 + ".jpg", ""},
		{d + uuid36 + ".jpeg", ""},
		{d + uuid36 + ".JPG", ""},
		{d + uuid36 + ".jpg\n", ""},
		{d + uuid36 + ".jpg.png", ""},
		{d + uuid36 + "0.jpg", ""},
		{d + uuid36[1:] + ".jpg", ""},
		{d + strings.ToUpper(uuid36) + ".jpg", ""},
		{d + uuid36, ""},
		{"/" + d + uuid36 + ".jpg", ""},
		{"photos/2026-1-30/" + uuid36 + ".jpg", ""},
		{"photos/2026/11/30/" + uuid36 + ".jpg", ""},
		{"photos/20261130xx/" + uuid36 + ".jpg", ""},
		{"photos/2026-11-3a/" + uuid36 + ".jpg", ""},
		{"photos/" + uuid36 + ".jpg", ""},
		{"uploads/pending/u1/" + uuid36 + ".jpg", ""}, // the shape before issue 11
		{"reports/r1/0.jpg", ""},
		{"", ""},
		{d + "用户" + uuid36[2:] + ".jpg", ""},
	}
	for _, c := range cases {
		day, ok := parseUploadKey(c.key)
		if ok != (c.day != "") || day != c.day {
			t.Errorf("parseUploadKey(%q) = %q, %v; want %q", c.key, day, ok, c.day)
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
	for _, s := range []string{"photos/2026-11-30/" + uuid36 + ".jpg", "photos/2026-01-02/" + uuid36 + ".heic", "u1", ""} {
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
	day, ok := parseUploadKey(key)
	m := uploadKeyPattern.FindStringSubmatch(key)
	if ok != (m != nil) || (m != nil && day != m[1]) {
		t.Fatalf("parseUploadKey(%q) = %q, %v; the pattern gives %q", key, day, ok, m)
	}
}
