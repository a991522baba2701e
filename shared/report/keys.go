package report

import "strings"

// Photo keys and owners are checked by hand rather than by regular expression: two patterns compiled at
// package init cost every function that links this package about a millisecond of cold start, most of
// them never checking a key (issue 11). keys_test.go holds these checks equal to the patterns they replace.

// maxOwner is the longest owner (subject) an upload may name: Cognito subs are 36-character UUIDs,
// department owners "dept-<id>".
const maxOwner = 128

// uploadKeyPrefix begins every uploaded photo's key: photos/<local day>/<uuid>.<ext>, where it stays
// (photos.go). The key names no one — the uploader is the object's owner metadata — so it can be shown to
// departments and on Open311. Keys of reports filed before it (reports/<id>/…) are still read as stored.
const uploadKeyPrefix = "photos/"

// dayLayout is a key's day, the city's local day the upload was handed out on.
const dayLayout = "2006-01-02"

// UploadDayPrefix is the prefix of the photos uploaded on local day (YYYY-MM-DD): what the sweeper lists.
func UploadDayPrefix(day string) string { return uploadKeyPrefix + day + "/" }

// validOwner reports whether s may be an upload's owner (its x-amz-meta-owner): 1–maxOwner of A–Z, a–z,
// 0–9, '_', '-'.
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

// parseUploadKey returns the day of a key of the shape PresignUpload hands out, photos/<day>/<uuid>.<ext>
// (day as dddd-dd-dd, the uuid as 36 of 0–9, a–f and '-'; ext jpg, png, webp or heic), and false for any
// other string. Whether the day is a date is the caller's to check.
func parseUploadKey(k string) (day string, ok bool) {
	rest, ok := strings.CutPrefix(k, uploadKeyPrefix)
	if !ok || len(rest) < 11 || rest[10] != '/' {
		return "", false
	}
	day, file := rest[:10], rest[11:]
	for i := 0; i < len(day); i++ {
		if c := day[i]; i == 4 || i == 7 {
			if c != '-' {
				return "", false
			}
		} else if c < '0' || c > '9' {
			return "", false
		}
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
		return day, true
	}
	return "", false
}
