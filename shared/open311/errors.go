package open311

import (
	"errors"
	"net/http"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Errors of the Open311 surface. Codes are stable (the description starts with one); the HTTP status is
// GeoReport's error code.
var (
	ErrNotFound       = apperr.New(apperr.NotFound, "not_found", "no such resource")
	ErrMethod         = apperr.New(apperr.NotFound, "not_found", "no such resource for this method")
	ErrFormat         = apperr.New(apperr.NotFound, "unsupported_format", "resources are served as .xml or .json")
	ErrJurisdiction   = apperr.New(apperr.NotFound, "unknown_jurisdiction", "this server serves one jurisdiction, and not that one")
	ErrServiceCode    = apperr.New(apperr.NotFound, "unknown_service_code", "no such service_code")
	ErrRequestID      = apperr.New(apperr.NotFound, "unknown_service_request", "no such service_request_id")
	ErrKeyRequired    = apperr.New(apperr.Invalid, "api_key_required", "api_key is required")
	ErrKeyInvalid     = apperr.New(apperr.Forbidden, "api_key_invalid", "the api_key is not valid or was revoked")
	ErrParam          = apperr.New(apperr.Invalid, "invalid_parameter", "a parameter is not valid")
	ErrForm           = apperr.New(apperr.Invalid, "invalid_form", "the body must be application/x-www-form-urlencoded UTF-8 of at most 64 KiB")
	ErrDateRange      = apperr.New(apperr.Invalid, "invalid_date_range", "start_date and end_date must be W3C date-times with a zone, start before end, at most 90 days apart")
	ErrMediaURL       = apperr.New(apperr.Invalid, "invalid_media_url", "media_url must be an https URL of a public host serving a JPEG, PNG, WebP or HEIC photo")
	ErrAccountID      = apperr.New(apperr.Forbidden, "account_id_not_allowed", "only a trusted client application may file reports for a civicsnap account")
	ErrUpdateID       = apperr.New(apperr.Invalid, "invalid_update_id", "update_id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
	ErrUpdateConflict = apperr.New(apperr.Unprocessable, "update_id_reused", "this update_id was used for another update")
	ErrTooManyUpdates = apperr.New(apperr.Invalid, "window_too_busy", "the window holds more updates than one answer carries; ask for a shorter one")
)

// LimitError is a client's request over its per-minute limit: 429 with Retry-After.
type LimitError struct {
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return "rate_limited: the api_key's requests per minute are used up"
}

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

// ErrorAnswer is err as GeoReport's error list, with its HTTP status and, for a limit or a transient
// failure, how long to wait. An error without a kind is a 500 whose detail is never shown.
func ErrorAnswer(err error) (status int, body Errors, retryAfter time.Duration) {
	var lim *LimitError
	if errors.As(err, &lim) {
		return http.StatusTooManyRequests, errorList(http.StatusTooManyRequests, lim.Error()), lim.RetryAfter
	}
	e := apperr.As(err)
	if e == nil || e.Kind == apperr.Internal {
		return http.StatusInternalServerError, errorList(http.StatusInternalServerError, "internal: internal error"), 0
	}
	status = statusOf[e.Kind]
	return status, errorList(status, e.Code+": "+e.Message), e.RetryAfter
}

func errorList(code int, description string) Errors {
	return Errors{Items: []ErrorItem{{Code: code, Description: description}}}
}
