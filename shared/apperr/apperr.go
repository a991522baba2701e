// Package apperr defines the error values that cross the domain boundary: each carries a Kind (what sort of
// failure, which the HTTP edge maps to a status once) and a stable machine-readable Code for clients.
package apperr

import (
	"errors"
	"fmt"
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
	return &Error{Kind: e.Kind, Code: e.Code, Message: fmt.Sprintf(format, args...), Err: e.Err}
}

// Wrap returns a copy of e that records cause as its underlying error.
func (e *Error) Wrap(cause error) *Error {
	return &Error{Kind: e.Kind, Code: e.Code, Message: e.Message, Err: cause}
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
