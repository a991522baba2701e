package httpapi

import (
	"net/http"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Every value a request names — path parameters, headers, query parameters and the body fields that become
// keys — is bounded here, once, before any handler runs or any store is called. DynamoDB refuses a
// partition key over 2,048 bytes and a sort key over 1,024 (`INBOUND#<dept>#<webhook-id>`,
// `REDEMPTION#<id>`, a cursor's start key …) with a ValidationException, which would be a 500; moto does not
// enforce those limits, so only a bound at the edge keeps the local stack and AWS answering alike.

// Errors of the edge's input checks.
var (
	ErrPathParam = apperr.New(apperr.Invalid, "invalid_path_parameter", "a path parameter is not valid")
	ErrHeader    = apperr.New(apperr.Invalid, "invalid_header", "a header is not valid")
	ErrField     = apperr.New(apperr.Invalid, "invalid_field", "a field of the request body is not valid")
)

// Rule bounds one input: Min to Max bytes, each of them in Chars; a value that fails is refused with Err.
// The rules are checked by hand rather than with regular expressions, which every HTTP function compiled
// at package init (0.25-0.8 ms of its cold start, issue 11); each rule's old pattern is in the tests,
// which hold the two equal (FuzzRulesMatchTheirPatterns).
type Rule struct {
	Min, Max int
	Chars    Chars
	Want     string // what a valid value looks like, for the error message
	Err      *apperr.Error
}

// Check reports whether v satisfies the rule; the error names what (e.g. "path parameter id").
func (r Rule) Check(what, v string) error {
	if len(v) < r.Min || len(v) > r.Max || !r.Chars.all(v) {
		return r.Err.With("%s must be %s", what, r.Want)
	}
	return nil
}

// Chars is a set of ASCII characters, one bit each. A byte of 0x80 or more is in no set, so a value that is
// not ASCII (or not UTF-8) always fails, as it did against the patterns' ASCII classes.
type Chars [2]uint64

// charRanges returns the set of the characters in the inclusive ranges, given as pairs ("azAZ09") plus
// single characters in extra.
func charRanges(pairs, extra string) Chars {
	var c Chars
	for i := 0; i+1 < len(pairs); i += 2 {
		for b := int(pairs[i]); b <= int(pairs[i+1]) && b < 128; b++ {
			c[b/64] |= 1 << (b % 64)
		}
	}
	for i := range len(extra) {
		if b := extra[i]; b < 128 {
			c[b/64] |= 1 << (b % 64)
		}
	}
	return c
}

func (c Chars) all(v string) bool {
	for i := range len(v) {
		b := v[i]
		if b >= 128 || c[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

var (
	// idChars: report and redemption ids (UUIDs), department, area, rule and catalog item ids, user subs and
	// cursors (base64url).
	idChars = charRanges("AZaz09", "_-")
	idWant  = "1-64 characters of A-Z, a-z, 0-9, _ and -"
	// id is 1-64 idChars.
	id = Rule{Min: 1, Max: 64, Chars: idChars, Want: idWant}
	// optID is id, or empty (a query parameter whose absence the handler judges).
	optID = Rule{Max: 64, Chars: idChars, Want: idWant}
	// printable is visible ASCII, as the Idempotency-Key and webhook-id are defined.
	printable = charRanges("\x21\x7e", "")
	digits    = charRanges("09", "")
)

// with returns the rule refusing with err.
func (r Rule) with(err *apperr.Error) Rule {
	r.Err = err
	return r
}

// pathParams bounds each path parameter by name. A route whose parameter has no rule answers 400 (and
// TestEveryPathParameterHasARule fails), so a new parameter cannot reach a store unchecked.
var pathParams = map[string]Rule{
	"id":   id.with(ErrPathParam),
	"dept": id.with(ErrPathParam),
	// A volunteer's user id (/v1/volunteers/{sub}/verify, the attendance routes).
	"sub": subRule.with(ErrPathParam),
	// A consultation slot's id (builders: its start, 20060102T150405Z).
	"slotId": id.with(ErrPathParam),
	// A job's id in the worker's routes (/v1/me/invitations/{jobId}/answer, /v1/me/hires/{jobId}/...).
	"jobId": id.with(ErrPathParam),
}

// headers bounds headers by canonical name, when present (whether one is required is the handler's call).
var headers = map[string]Rule{
	// Part of IDEM#<scope>#<sub>#<key>: 128 bytes, as idem.ValidateKey says.
	"Idempotency-Key": {Max: idem.MaxKeyLen, Chars: printable, Want: "1-128 printable ASCII characters", Err: idem.ErrKeyInvalid},
	// Part of the sort key INBOUND#<dept>#<webhook-id>: 256 bytes leaves room for any department id.
	"Webhook-Id":        {Max: 256, Chars: printable, Want: "at most 256 printable ASCII characters", Err: ErrHeader},
	"Webhook-Timestamp": {Max: 20, Chars: digits, Want: "Unix seconds", Err: ErrHeader},
	// Space-separated "v1,<base64>" signatures; a few rotated secrets at most.
	"Webhook-Signature": {Max: 1024, Chars: charRanges("\x20\x7e", ""), Want: "at most 1024 ASCII characters", Err: ErrHeader},
}

// queryParams bounds query parameters by name, every value of each.
var queryParams = map[string]Rule{
	// Cursors are base64url of a start key: 1,024 characters decode to at most 768 bytes, so no field of
	// one can exceed a key limit, whatever the store puts in it.
	"cursor": {Max: 1024, Chars: idChars, Want: "a cursor this API returned", Err: report.ErrInvalidCursor},
	"limit":  {Max: 3, Chars: digits, Want: "a whole number from 1 to 100", Err: report.ErrInvalidLimit},
	"status": {Max: 32, Chars: charRanges("az", "_"), Want: "a status", Err: ErrBadQuery},
	"dept":   optID.with(ErrBadQuery),
	"itemId": optID.with(ErrBadQuery),
	"from":   {Max: 10, Chars: charRanges("09", "-"), Want: "a date YYYY-MM-DD", Err: ErrBadQuery},
	"to":     {Max: 10, Chars: charRanges("09", "-"), Want: "a date YYYY-MM-DD", Err: ErrBadQuery},
	// The volunteer activities' listing (GET /v1/activities).
	"date":     {Max: 10, Chars: charRanges("09", "-"), Want: "a date YYYY-MM-DD", Err: ErrBadQuery},
	"near":     {Max: 48, Chars: charRanges("09", ".,-"), Want: "lat,lng", Err: ErrBadQuery},
	"radiusKm": {Max: 8, Chars: charRanges("09", "."), Want: "a number of kilometres", Err: ErrBadQuery},
}

// Body fields that become keys or parts of keys.
var (
	// subRule: a user id as it appears in keys and upload paths (Cognito subs are UUIDs).
	subRule         = Rule{Min: 1, Max: 128, Chars: idChars, Want: "1-128 characters of A-Z, a-z, 0-9, _ and -", Err: ErrField}
	fieldID         = id.with(ErrField)
	fieldPickupCode = Rule{Max: 16, Chars: charRanges("AZaz09", ""), Want: "at most 16 letters and digits", Err: ErrField}
)

// checkRequest checks the request's path parameters (named in params), headers and query against the
// tables above.
func checkRequest(r *http.Request, params []string) error {
	for _, name := range params {
		rule, ok := pathParams[name]
		if !ok {
			return ErrPathParam.With("path parameter %s has no rule", name)
		}
		if err := rule.Check("path parameter "+name, r.PathValue(name)); err != nil {
			return err
		}
	}
	for name, rule := range headers {
		for _, v := range r.Header.Values(name) {
			if err := rule.Check("header "+name, v); err != nil {
				return err
			}
		}
	}
	q := r.URL.Query()
	for name, rule := range queryParams {
		for _, v := range q[name] {
			if err := rule.Check("query parameter "+name, v); err != nil {
				return err
			}
		}
	}
	return nil
}
