// Package ttl says whether a copy cached at one time is still fresh at another.
package ttl

import "time"

// Fresh reports whether a copy loaded at loaded is younger than ttl at now. A negative age — the clock went
// back, as the local stack's moved clock does when it returns to wall time — is stale too: otherwise the copy
// would be kept until the clock caught up again (a week, after a test that moved it a week ahead).
func Fresh(loaded, now time.Time, ttl time.Duration) bool {
	age := now.Sub(loaded)
	return age >= 0 && age < ttl
}
