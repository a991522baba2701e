package report

import "strings"

// Photo keys and owners are checked by hand rather than by regular expression: two patterns compiled at
// package init cost every function that links this package about a millisecond of cold start, most of
// them never checking a key (issue 11). keys_test.go holds these checks equal to the patterns they replace.

// maxOwner is the longest owner (subject) accepted in a key: Cognito subs are 36-character UUIDs,
// department owners "dept-<id>".
const maxOwner = 128

// validOwner reports whether s may be the owner part of an S3 key: 1–maxOwner of A–Z, a–z, 0–9, '_', '-'.
func validOwner(s string) bool {
	if len(s) < 1 || len(s) > maxOwner {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// pendingKeyOwner returns the owner of a key of the shape PresignUpload hands out,
// uploads/pending/<owner>/<uuid>.<ext> (the uuid as 36 of 0–9, a–f and '-'; ext jpg, png, webp or heic),
// and false for any other string.
func pendingKeyOwner(k string) (string, bool) {
	rest, ok := strings.CutPrefix(k, "uploads/pending/")
	if !ok {
		return "", false
	}
	owner, file, ok := strings.Cut(rest, "/")
	if !ok || !validOwner(owner) {
		return "", false
	}
	name, ext, ok := strings.Cut(file, ".")
	if !ok || len(name) != 36 {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '-') {
			return "", false
		}
	}
	switch ext {
	case "jpg", "png", "webp", "heic":
		return owner, true
	}
	return "", false
}
