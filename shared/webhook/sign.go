package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Header names of the Standard Webhooks protocol. http.Header canonicalises them on the wire
// ("Webhook-Id"); receivers match them case-insensitively.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// SecretPrefix marks a Standard Webhooks signing secret; the base64 key follows it.
const SecretPrefix = "whsec_"

// Tolerance is how far a message timestamp may be from our clock, in either direction, before Verify
// refuses it: the library's value, which bounds how long a captured request can be replayed.
const Tolerance = 5 * time.Minute

// Key sizes the spec recommends (24 to 64 bytes). NewSecret uses 32: as much entropy as the SHA-256 output
// the HMAC produces, so the key is never the weaker part.
const (
	minKeyBytes = 24
	maxKeyBytes = 64
	newKeyBytes = 32
	maxIDLen    = 256
)

// NewSecret returns a fresh signing secret: "whsec_" followed by the base64 of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, newKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return "", ErrInvalidSecret.With("cannot read randomness for a new secret").Wrap(err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// Signer signs and verifies with one or more secrets. More than one is for secret rotation: when sending,
// the message carries one signature per secret, so a receiver holding either the old or the new secret
// accepts it; when receiving, a message signed with any of them is accepted.
type Signer struct {
	hooks []*standardwebhooks.Webhook
}

// NewSigner parses the secrets. Each must be "whsec_" + standard base64 of 24 to 64 bytes: the library
// itself would accept an empty or prefix-less string, and an empty key would make every signature forgeable
// by anyone, so a missing secret in configuration must fail here rather than verify happily.
func NewSigner(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, ErrInvalidSecret.With("no webhook secret configured")
	}
	s := &Signer{hooks: make([]*standardwebhooks.Webhook, 0, len(secrets))}
	for i, secret := range secrets {
		b64, ok := strings.CutPrefix(secret, SecretPrefix)
		if !ok {
			return nil, ErrInvalidSecret.With("webhook secret %d lacks the %s prefix", i+1, SecretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, ErrInvalidSecret.With("webhook secret %d is not standard base64", i+1)
		}
		if len(key) < minKeyBytes || len(key) > maxKeyBytes {
			return nil, ErrInvalidSecret.With("webhook secret %d has %d bytes, want %d to %d", i+1, len(key), minKeyBytes, maxKeyBytes)
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return nil, ErrInvalidSecret.Wrap(err)
		}
		s.hooks = append(s.hooks, wh)
	}
	return s, nil
}

// Sign returns the three Standard Webhooks headers for payload, sent as msgID at ts. The signature header
// holds one "v1,<base64>" entry per secret, separated by spaces. msgID must be printable ASCII without
// spaces (it becomes a header value and part of the signed content); receivers use it to drop duplicates.
func (s *Signer) Sign(msgID string, ts time.Time, payload []byte) (http.Header, error) {
	if s == nil || len(s.hooks) == 0 {
		return nil, ErrInvalidSecret.With("the signer has no secret; build it with NewSigner")
	}
	if !validID(msgID) {
		return nil, ErrInvalidMessage.With("webhook message id must be 1-%d printable ASCII characters without spaces", maxIDLen)
	}
	// A zero time is almost always a forgotten clock; the receiver would refuse it as stale anyway.
	if ts.IsZero() || ts.Unix() < 0 {
		return nil, ErrInvalidMessage.With("webhook timestamp must be after 1970")
	}
	sigs := make([]string, 0, len(s.hooks))
	for _, wh := range s.hooks {
		sig, err := wh.Sign(msgID, ts, payload)
		if err != nil {
			return nil, ErrInvalidMessage.Wrap(err)
		}
		sigs = append(sigs, sig)
	}
	h := make(http.Header, 3)
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return h, nil
}

// Verify checks that h carries a valid signature of the raw body payload by one of the signer's secrets,
// and that its timestamp is within Tolerance of now (either direction). Call it on the exact bytes
// received, before anything parses them. Errors are ErrMissingHeaders, ErrInvalidTimestamp,
// ErrStaleTimestamp, ErrFutureTimestamp or ErrInvalidSignature. Verify does not detect replays within the
// tolerance: the caller deduplicates on the webhook-id header.
func (s *Signer) Verify(payload []byte, h http.Header, now time.Time) error {
	if s == nil || len(s.hooks) == 0 {
		return ErrInvalidSecret.With("the signer has no secret; build it with NewSigner")
	}
	id, tsRaw, sig := header(h, HeaderID), header(h, HeaderTimestamp), header(h, HeaderSignature)
	if id == "" || tsRaw == "" || sig == "" {
		return ErrMissingHeaders
	}
	// The library checks the tolerance against time.Now; checking it here against the injected clock keeps
	// tests deterministic and lets the caller decide what "now" is. Only then is the library asked to
	// compare signatures, ignoring the timestamp it can no longer judge.
	secs, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil || secs < 0 {
		return ErrInvalidTimestamp
	}
	ts := time.Unix(secs, 0)
	switch {
	case now.Sub(ts) > Tolerance:
		return ErrStaleTimestamp
	case ts.Sub(now) > Tolerance:
		return ErrFutureTimestamp
	}
	// A fresh header with the canonical names: the library reads with http.Header.Get, which misses keys
	// that were not canonicalised (e.g. an http.Header built from a Lambda event's lower-case map) and
	// sees only the first of repeated signature lines.
	clean := make(http.Header, 3)
	clean.Set(HeaderID, id)
	clean.Set(HeaderTimestamp, tsRaw)
	clean.Set(HeaderSignature, sig)
	var last error
	for _, wh := range s.hooks {
		err := wh.VerifyIgnoringTimestamp(payload, clean)
		if err == nil {
			return nil
		}
		last = err
	}
	switch {
	case errors.Is(last, standardwebhooks.ErrRequiredHeaders):
		return ErrMissingHeaders.Wrap(last)
	case errors.Is(last, standardwebhooks.ErrInvalidHeaders):
		return ErrInvalidTimestamp.Wrap(last)
	case errors.Is(last, standardwebhooks.ErrMessageTooOld):
		return ErrStaleTimestamp.Wrap(last)
	case errors.Is(last, standardwebhooks.ErrMessageTooNew):
		return ErrFutureTimestamp.Wrap(last)
	default:
		return ErrInvalidSignature.Wrap(last)
	}
}

// Sign signs payload with one secret; see Signer.Sign.
func Sign(secret, msgID string, ts time.Time, payload []byte) (http.Header, error) {
	s, err := NewSigner(secret)
	if err != nil {
		return nil, err
	}
	return s.Sign(msgID, ts, payload)
}

// Verify verifies payload against one secret at the given time; see Signer.Verify.
func Verify(secret string, payload []byte, h http.Header, now time.Time) error {
	s, err := NewSigner(secret)
	if err != nil {
		return err
	}
	return s.Verify(payload, h, now)
}

// header returns the value of name in h, matching the name case-insensitively, with repeated lines joined
// by spaces: for webhook-signature that is the spec's own separator, so a sender that put each signature on
// its own line is still understood.
func header(h http.Header, name string) string {
	var vals []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			vals = append(vals, v...)
		}
	}
	if len(vals) == 1 {
		return vals[0]
	}
	return strings.Join(vals, " ")
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
