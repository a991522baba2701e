package open311

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Client is a registered client application: an app or a city system that files reports with its
// api_key. The key itself is shown once, when the client is created; only its SHA-256 is stored.
type Client struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Trusted clients may file a report for a signed-in civicsnap user (account_id), who then earns
	// points like any reporter; other clients' reports belong to the client and earn none.
	Trusted           bool       `json:"trusted"`
	RequestsPerMinute int        `json:"requestsPerMinute"`
	KeyHash           string     `json:"-"`
	CreatedAt         time.Time  `json:"createdAt"`
	RevokedAt         *time.Time `json:"revokedAt,omitempty"`
}

// DefaultRequestsPerMinute is a client's limit when the admin names none; MaxRequestsPerMinute the most
// one may have.
const (
	DefaultRequestsPerMinute = 60
	MaxRequestsPerMinute     = 6000
)

// NewClient is what an admin sends to register a client.
type NewClient struct {
	Name              string `json:"name"`
	Trusted           bool   `json:"trusted,omitempty"`
	RequestsPerMinute int    `json:"requestsPerMinute,omitempty"`
}

// IssuedClient is a new client with its api_key, the only time the key is shown.
type IssuedClient struct {
	Client
	APIKey string `json:"apiKey"`
}

// Errors of client administration.
var (
	ErrClientName    = apperr.New(apperr.Invalid, "invalid_client", "name must be 1-100 characters of plain text and requestsPerMinute 0 (the default, 60) to 6000")
	ErrClientMissing = apperr.New(apperr.NotFound, "client_not_found", "no such Open311 client")
)

// keyPrefix starts every api_key, so a leaked one is recognisable (secret scanners, logs).
const keyPrefix = "o311_"

// newKey makes a client id and its api_key "o311_<id>_<secret>": the id says which client to read (one
// GetItem, no index of key hashes), the secret is 32 random bytes.
func newKey() (id, key string) {
	var idb [8]byte
	var secret [32]byte
	_, _ = rand.Read(idb[:]) // crypto/rand.Read never fails (Go 1.24+): it panics inside the runtime instead
	_, _ = rand.Read(secret[:])
	id = hex.EncodeToString(idb[:])
	return id, keyPrefix + id + "_" + hex.EncodeToString(secret[:])
}

// HashKey is the stored form of an api_key. SHA-256 without a salt or a slow hash is enough here: the key
// holds 256 random bits, so no dictionary or brute force can find a preimage, and slow hashes protect
// low-entropy passwords at the price of CPU on every request.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// clientIDOfKey returns the client id an api_key names, or false if it is not of the issued shape.
func clientIDOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok || len(rest) != 16+1+64 || rest[16] != '_' {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if i != 16 && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return rest[:16], true
}

// keyMatches compares a key's hash with the stored one in constant time.
func keyMatches(c Client, key string) bool {
	return subtle.ConstantTimeCompare([]byte(HashKey(key)), []byte(c.KeyHash)) == 1
}

// ValidClientID reports whether id has the shape newKey gives ids (16 lowercase hex digits).
func ValidClientID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (n NewClient) validate() error {
	name := strings.TrimSpace(n.Name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ErrClientName
	}
	if n.RequestsPerMinute < 0 || n.RequestsPerMinute > MaxRequestsPerMinute {
		return ErrClientName
	}
	return nil
}
