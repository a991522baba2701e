// Package httpapi is the HTTP edge of every API function: net/http routes over the domain services, one
// table from domain errors to status codes, JSON bodies with hard limits, and the caller's identity read
// from the claims API Gateway's JWT authorizer put in the request context.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
)

// MaxBody is the largest JSON body any route accepts.
const MaxBody = 64 << 10

// statusOf is the one mapping from error kinds to HTTP statuses.
var statusOf = map[apperr.Kind]int{
	apperr.Invalid:         http.StatusBadRequest,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.TooLarge:        http.StatusRequestEntityTooLarge,
	apperr.Unprocessable:   http.StatusUnprocessableEntity,
	apperr.Unavailable:     http.StatusServiceUnavailable,
}

// Errors raised by the edge itself.
var (
	ErrBodyTooLarge = apperr.New(apperr.TooLarge, "body_too_large", "the request body is larger than 64 KiB")
	ErrBadJSON      = apperr.New(apperr.Invalid, "invalid_json", "the request body is not valid JSON for this route")
	ErrBadQuery     = apperr.New(apperr.Invalid, "invalid_query", "a query parameter is not valid")
)

type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestId,omitempty"`
	} `json:"error"`
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes err as {"error":{"code","message"}}. Errors without a kind are 500s whose detail is
// logged with the request id and never shown.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var body errorBody
	body.Error.RequestID = RequestID(r)
	status := http.StatusInternalServerError
	if e := apperr.As(err); e != nil && e.Kind != apperr.Internal {
		status = statusOf[e.Kind]
		body.Error.Code, body.Error.Message = e.Code, e.Message
		if e.RetryAfter > 0 { // the request changed nothing (or its outcome is unknown): send it again then
			w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
		}
		if status >= 500 {
			log.ErrorContext(r.Context(), "request failed", "requestId", body.Error.RequestID, "code", e.Code, "err", err.Error())
		}
	} else {
		body.Error.Code, body.Error.Message = "internal", "internal error"
		log.ErrorContext(r.Context(), "request failed", "requestId", body.Error.RequestID, "err", err.Error())
	}
	WriteJSON(w, status, body)
}

// ReadBody reads the raw body, at most MaxBody bytes.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, ErrBadJSON.Wrap(err)
	}
	if len(b) > MaxBody {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// DecodeJSON decodes body into dst strictly: the body is one JSON object, in valid UTF-8 (encoding/json
// would store invalid bytes, and escaped lone surrogates, as U+FFFD), with no unknown fields and nothing
// but whitespace after it.
func DecodeJSON(body []byte, dst any) error {
	if !utf8.Valid(body) || loneSurrogate(body) {
		return ErrBadJSON.With("the request body is not valid UTF-8")
	}
	if first := bytes.TrimLeft(body, jsonSpace); len(first) > 0 && first[0] != '{' {
		return ErrBadJSON.With("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return ErrBadJSON.With("the request body is not valid JSON for this route: %s", jsonProblem(err))
	}
	// Decoder.More is false before a closing delimiter, so `{"a":1}}` would pass it: look at the bytes.
	if rest := body[dec.InputOffset():]; len(bytes.TrimLeft(rest, jsonSpace)) > 0 {
		return ErrBadJSON.With("the request body has data after the JSON value")
	}
	return nil
}

// jsonSpace is JSON's whitespace (RFC 8259), narrower than unicode.IsSpace.
const jsonSpace = " \t\r\n"

// loneSurrogate reports whether body holds a \u escape of a UTF-16 surrogate that is not a high one followed
// by a low one. Backslashes outside strings make the JSON invalid anyway, so every backslash starts an
// escape here.
func loneSurrogate(body []byte) bool {
	surrogate := func(i int) (rune, bool) {
		if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
		if err != nil {
			return 0, false
		}
		return rune(n), true
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		r, ok := surrogate(i)
		switch {
		case !ok:
			i++ // a two-byte escape such as \\ or \"
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			low, ok := surrogate(i + 6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// jsonProblem describes a decode error without echoing the body.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "field " + typeErr.Field + " has the wrong type"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	return "malformed JSON"
}

// RequestID is API Gateway's request id, or "" outside Lambda.
func RequestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		return rc.RequestID
	}
	return ""
}

// Principal reads the caller from the JWT claims API Gateway verified. Without claims the caller is
// anonymous (Principal{}), which auth.Require refuses. The claims become parts of keys (USER#<sub>,
// ASSIGN#<dept>), so a sub outside subRule makes the caller anonymous and a department that is not an id
// makes it none.
func Principal(r *http.Request) auth.Principal {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return auth.Principal{}
	}
	c := rc.Authorizer.JWT.Claims
	if subRule.Check("sub", c["sub"]) != nil {
		return auth.Principal{}
	}
	p := auth.Principal{Sub: c["sub"]}
	if fieldID.Check("custom:dept", c["custom:dept"]) == nil {
		p.Dept = c["custom:dept"]
	}
	for _, g := range ParseGroups(c["cognito:groups"]) {
		p.Groups = append(p.Groups, auth.Role(g))
	}
	return p
}

// ParseGroups reads a list claim as API Gateway passes it. HTTP APIs flatten every claim to a string, and
// an array arrives as "[citizen staff]"; JSON arrays and comma lists are accepted too.
func ParseGroups(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var list []string
		if json.Unmarshal([]byte(s), &list) == nil {
			return list
		}
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// readJSON reads and strictly decodes the request body into a T; on failure it writes the error and returns
// false. The raw body comes back too, for idempotency hashing.
func readJSON[T any](w http.ResponseWriter, r *http.Request, log *slog.Logger) (T, []byte, bool) {
	var v T
	body, err := ReadBody(r)
	if err == nil {
		err = DecodeJSON(body, &v)
	}
	if err != nil {
		WriteError(w, r, log, err)
		return v, nil, false
	}
	return v, body, true
}

// limitParam reads ?limit= (1–100, default def); on a bad value it writes invalid_limit and returns false.
func limitParam(w http.ResponseWriter, r *http.Request, log *slog.Logger, def int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		WriteError(w, r, log, report.ErrInvalidLimit)
		return 0, false
	}
	return n, true
}
