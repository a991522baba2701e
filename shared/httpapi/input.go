package httpapi

import (
	"net/http"
	"regexp"

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

// Rule bounds one input: at most Max bytes matching Pattern (anchored); a value that fails is refused with
// Err. Max is checked first, so a huge value costs no regular expression.
type Rule struct {
	Max     int
	Pattern *regexp.Regexp
	Want    string // what a valid value looks like, for the error message
	Err     *apperr.Error
}

// Check reports whether v satisfies the rule; the error names what (e.g. "path parameter id").
func (r Rule) Check(what, v string) error {
	if len(v) > r.Max || !r.Pattern.MatchString(v) {
		return r.Err.With("%s must be %s", what, r.Want)
	}
	return nil
}

var (
	// id: report and redemption ids (UUIDs), department, area, rule and catalog item ids.
	id     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	idWant = "1-64 characters of A-Z, a-z, 0-9, _ and -"
	// optID is id, or empty (a query parameter whose absence the handler judges).
	optID = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)
	// printable is visible ASCII, as the Idempotency-Key and webhook-id are defined.
	printable = regexp.MustCompile(`^[\x21-\x7e]*$`)
)

// pathParams bounds each path parameter by name. A route whose parameter has no rule answers 400 (and
// TestEveryPathParameterHasARule fails), so a new parameter cannot reach a store unchecked.
var pathParams = map[string]Rule{
	"id":   {Max: 64, Pattern: id, Want: idWant, Err: ErrPathParam},
	"dept": {Max: 64, Pattern: id, Want: idWant, Err: ErrPathParam},
}

// headers bounds headers by canonical name, when present (whether one is required is the handler's call).
var headers = map[string]Rule{
	// Part of IDEM#<scope>#<sub>#<key>: 128 bytes, as idem.ValidateKey says.
	"Idempotency-Key": {Max: idem.MaxKeyLen, Pattern: printable, Want: "1-128 printable ASCII characters", Err: idem.ErrKeyInvalid},
	// Part of the sort key INBOUND#<dept>#<webhook-id>: 256 bytes leaves room for any department id.
	"Webhook-Id":        {Max: 256, Pattern: printable, Want: "at most 256 printable ASCII characters", Err: ErrHeader},
	"Webhook-Timestamp": {Max: 20, Pattern: regexp.MustCompile(`^[0-9]*$`), Want: "Unix seconds", Err: ErrHeader},
	// Space-separated "v1,<base64>" signatures; a few rotated secrets at most.
	"Webhook-Signature": {Max: 1024, Pattern: regexp.MustCompile(`^[\x20-\x7e]*$`), Want: "at most 1024 ASCII characters", Err: ErrHeader},
}

// queryParams bounds query parameters by name, every value of each.
var queryParams = map[string]Rule{
	// Cursors are base64url of a start key: 1,024 characters decode to at most 768 bytes, so no field of
	// one can exceed a key limit, whatever the store puts in it.
	"cursor": {Max: 1024, Pattern: regexp.MustCompile(`^[A-Za-z0-9_-]*$`), Want: "a cursor this API returned", Err: report.ErrInvalidCursor},
	"limit":  {Max: 3, Pattern: regexp.MustCompile(`^[0-9]*$`), Want: "a whole number from 1 to 100", Err: report.ErrInvalidLimit},
	"status": {Max: 32, Pattern: regexp.MustCompile(`^[a-z_]*$`), Want: "a status", Err: ErrBadQuery},
	"dept":   {Max: 64, Pattern: optID, Want: idWant, Err: ErrBadQuery},
	"itemId": {Max: 64, Pattern: optID, Want: idWant, Err: ErrBadQuery},
	"from":   {Max: 10, Pattern: regexp.MustCompile(`^[0-9-]*$`), Want: "a date YYYY-MM-DD", Err: ErrBadQuery},
	"to":     {Max: 10, Pattern: regexp.MustCompile(`^[0-9-]*$`), Want: "a date YYYY-MM-DD", Err: ErrBadQuery},
}

// Body fields that become keys or parts of keys.
var (
	// subRule: a user id as it appears in keys and upload paths (Cognito subs are UUIDs).
	subRule         = Rule{Max: 128, Pattern: regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`), Want: "1-128 characters of A-Z, a-z, 0-9, _ and -", Err: ErrField}
	fieldID         = Rule{Max: 64, Pattern: id, Want: idWant, Err: ErrField}
	fieldPickupCode = Rule{Max: 16, Pattern: regexp.MustCompile(`^[A-Za-z0-9]*$`), Want: "at most 16 letters and digits", Err: ErrField}
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
