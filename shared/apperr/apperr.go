// Package apperr defines the error values that cross the domain boundary: each carries a Kind (what sort of
// failure, which the HTTP edge maps to a status once) and a stable machine-readable Code for clients.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the edge that reports it.
type Kind int

// Kinds of failure. Internal is the zero value so that an unclassified error is never mistaken for a
// client mistake.
const (
	Internal        Kind = iota
	Invalid              // the request is malformed or breaks a rule (400)
	Unauthenticated      // no or bad credentials (401)
	Forbidden            // authenticated but not allowed (403)
	NotFound             // no such thing, or not visible to the caller (404)
	Conflict             // the state of the world refuses the change (409)
	TooLarge             // the request body is too large (413)
	Unprocessable        // well-formed but contradicts an earlier request (422)
	Unavailable          // a dependency is down; the caller may retry (503)
)

// Error is a domain error with a kind, a stable code and a message safe to show to the caller.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error // underlying cause, logged but never shown
	// RetryAfter, when set, is how long the caller should wait before sending the same request again (the
	// HTTP edge sends it as Retry-After): the request changed nothing and may be retried as it is.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match sentinel errors by kind and code, so wrapped copies with other messages still
// match the sentinel they were made from.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// New returns an error of the given kind and code.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Newf is New with a formatted message.
func Newf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with another message, keeping its kind and code (so errors.Is still matches).
func (e *Error) With(format string, args ...any) *Error {
	return &Error{Kind: e.Kind, Code: e.Code, Message: fmt.Sprintf(format, args...), Err: e.Err, RetryAfter: e.RetryAfter}
}

// Wrap returns a copy of e that records cause as its underlying error.
func (e *Error) Wrap(cause error) *Error {
	return &Error{Kind: e.Kind, Code: e.Code, Message: e.Message, Err: cause, RetryAfter: e.RetryAfter}
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of the first *Error in err's chain, Internal if there is none.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}

// Transient failures of the data store that every domain meets. ErrContention and ErrThrottled mean the
// write was not applied, so the same request may be sent again after RetryAfter; ErrOutcomeUnknown means
// nobody knows. A path that can wait retries them itself within its time (stream consumers); a request
// path answers 503 with Retry-After.
var (
	// ErrContention: a concurrent transaction held an item the write needed (DynamoDB's
	// TransactionConflict). Nothing was written.
	ErrContention = &Error{Kind: Unavailable, Code: "write_conflict", RetryAfter: time.Second,
		Message: "another request was changing the same data at the same moment; send the request again"}
	// ErrThrottled: the store refused the request for capacity (throttling), after the SDK's own retries.
	// Nothing was written.
	ErrThrottled = &Error{Kind: Unavailable, Code: "throttled", RetryAfter: 2 * time.Second,
		Message: "the service is busy; send the request again shortly"}
	// ErrOutcomeUnknown: the store did not answer (the connection dropped, the deadline passed, the SDK's
	// retries ran out on transport errors): a write may or may not have been applied.
	ErrOutcomeUnknown = &Error{Kind: Unavailable, Code: "outcome_unknown", RetryAfter: time.Second,
		Message: "the service did not answer in time and the request may or may not have taken effect; send it again to find out"}
	// ErrUnavailable: a service the request needs failed on its side, or a read of it went unanswered,
	// before anything was written (DynamoDB's InternalServerError, Secrets Manager failing while a
	// callback's signature is checked). The same request may be sent again after RetryAfter.
	ErrUnavailable = &Error{Kind: Unavailable, Code: "unavailable", RetryAfter: time.Second,
		Message: "the service is unavailable; try again"}
)

// NotApplied reports whether err says for certain that the failed write changed nothing and may be sent
// again as it is (ErrContention, ErrThrottled) — not when it also says the outcome is unknown (a conflict
// answering a retry whose first attempt went unanswered).
func NotApplied(err error) bool {
	return !errors.Is(err, ErrOutcomeUnknown) && (errors.Is(err, ErrContention) || errors.Is(err, ErrThrottled))
}
