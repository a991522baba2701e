// Package idem implements the rules of idempotent creation: an HTTP POST that creates something carries an
// Idempotency-Key; the first request with a key claims it, later ones with the same key either replay the
// first result, are told it is still in flight, or are refused because their body differs.
package idem

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Status of a claimed key.
type Status string

// Statuses of a record.
const (
	InFlight Status = "in_flight"
	Done     Status = "done"
)

// MaxKeyLen bounds the key a client may send.
const MaxKeyLen = 128

// Record is the stored claim on a key. Scope separates kinds of creation ("report", "redemption"), Owner
// the callers, so two users' keys never collide.
type Record struct {
	Scope      string
	Owner      string
	Key        string
	BodyHash   string
	Status     Status
	ResourceID string // the id the creation will use, fixed at claim time so a retry reuses it
	// Attempt names the request that holds the claim now (fresh per request): a take-over replaces it, so
	// a write the SDK re-sends after a lost answer recognises its own take-over, and a request that was
	// taken over cannot release the claim of the one that took over.
	Attempt     string
	Result      []byte    // the stored result (JSON), when Done
	LockedUntil time.Time // an in-flight claim older than this may be taken over
	ExpiresAt   time.Time // the record's TTL
	// ClaimedAt is when a claim is made, by the claimant's clock: whether an existing record has expired
	// is judged by that clock, the one its ExpiresAt came from (not stored).
	ClaimedAt time.Time
}

// Errors of the protocol.
var (
	ErrKeyRequired = apperr.New(apperr.Invalid, "idempotency_key_required", "the Idempotency-Key header is required")
	ErrKeyInvalid  = apperr.New(apperr.Invalid, "idempotency_key_invalid", "the Idempotency-Key header must be 1-128 printable ASCII characters")
	ErrKeyReused   = apperr.New(apperr.Unprocessable, "idempotency_key_reused", "this Idempotency-Key was used with a different request body")
	ErrInFlight    = apperr.New(apperr.Conflict, "request_in_flight", "a request with this Idempotency-Key is still being processed")
)

// Lease is how long an in-flight claim blocks others; TTL how long a key is remembered.
const (
	Lease = 30 * time.Second
	TTL   = 24 * time.Hour
)

// ValidateKey checks the header value.
func ValidateKey(key string) error {
	if key == "" {
		return ErrKeyRequired
	}
	if len(key) > MaxKeyLen {
		return ErrKeyInvalid
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return ErrKeyInvalid
		}
	}
	return nil
}

// Hash is the fingerprint of a request body.
func Hash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Outcome is what to do with a request whose key was already claimed.
type Outcome int

// Outcomes of Decide.
const (
	Replay   Outcome = iota // return the stored result
	TakeOver                // the earlier attempt died; continue under its claim
)

// Decide applies the rules to an existing record and the new request's body hash.
func Decide(existing Record, bodyHash string, now time.Time) (Outcome, error) {
	switch {
	case existing.BodyHash != bodyHash:
		return 0, ErrKeyReused
	case existing.Status == Done:
		return Replay, nil
	case now.Before(existing.LockedUntil):
		return 0, ErrInFlight
	default:
		return TakeOver, nil
	}
}
