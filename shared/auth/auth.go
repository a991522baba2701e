// Package auth describes who is calling: the subject and roles taken from a verified JWT. Verification
// itself happens before the function runs (API Gateway's JWT authorizer, or the local runner); functions
// only read the claims and check roles and ownership.
package auth

import (
	"slices"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Role is a Cognito group a user belongs to.
type Role string

// Roles known to civicsnap.
const (
	Citizen Role = "citizen"
	Staff   Role = "staff"
	Clerk   Role = "clerk"
	Admin   Role = "admin"
)

// Principal is the authenticated caller.
type Principal struct {
	Sub    string
	Groups []Role
	Dept   string // custom:dept, for staff
}

// Has reports whether the caller is in the role.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Groups, r) }

// Any reports whether the caller is in any of the roles.
func (p Principal) Any(roles ...Role) bool {
	return slices.ContainsFunc(roles, p.Has)
}

// Errors returned when a caller may not do something.
var (
	ErrUnauthenticated = apperr.New(apperr.Unauthenticated, "unauthenticated", "a valid bearer token is required")
	ErrForbidden       = apperr.New(apperr.Forbidden, "forbidden", "your role does not allow this")
)

// Require returns ErrForbidden unless the caller has one of the roles.
func (p Principal) Require(roles ...Role) error {
	if p.Sub == "" {
		return ErrUnauthenticated
	}
	if !p.Any(roles...) {
		return ErrForbidden
	}
	return nil
}
