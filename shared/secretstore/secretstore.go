// Package secretstore reads webhook signing secrets from AWS Secrets Manager, cached per container so
// neither a busy sender nor a quiet city pays a call per message: a secret is kept for TTL (hours) and read
// again sooner only when a signature made or checked with it fails (Refresh), which is how a rotation
// shows.
package secretstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/smithy-go"
	"github.com/civicsnap/civicsnap/shared/ttl"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// API reads a secret's string value (Client; a fake in tests).
type API interface {
	SecretString(ctx context.Context, ref string) (string, error)
}

// TTL is how long a container keeps a secret when nothing says it changed. A rotated secret is picked up
// at once by Refresh (a signature that does not verify, a department answering 401), so the TTL only
// bounds how long a secret removed without anyone noticing stays usable in a warm container.
const TTL = 12 * time.Hour

// MinRefresh is the least time between two reads of one secret by Refresh: a flood of forged signatures
// costs at most one Secrets Manager call a minute per secret.
const MinRefresh = time.Minute

// Store caches secrets for ttl.
type Store struct {
	client API
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	value string
	at    time.Time
}

// New returns a Store.
func New(client API, ttl time.Duration, now func() time.Time) *Store {
	return &Store{client: client, ttl: ttl, now: now, cache: map[string]entry{}}
}

// Secret returns the secret named ref (a name or ARN).
func (s *Store) Secret(ctx context.Context, ref string) (string, error) {
	s.mu.Lock()
	e, ok := s.cache[ref]
	s.mu.Unlock()
	if ok && ttl.Fresh(e.at, s.now(), s.ttl) {
		return e.value, nil
	}
	return s.read(ctx, ref)
}

// Refresh reads secret ref again, unless it was read less than MinRefresh ago, and says whether the value
// differs from the one cached before: a caller whose signature failed with the cached value checks again
// only when it changed.
func (s *Store) Refresh(ctx context.Context, ref string) (value string, changed bool, err error) {
	s.mu.Lock()
	e, ok := s.cache[ref]
	s.mu.Unlock()
	if ok && ttl.Fresh(e.at, s.now(), MinRefresh) {
		return e.value, false, nil
	}
	v, err := s.read(ctx, ref)
	if err != nil {
		return "", false, err
	}
	return v, !ok || v != e.value, nil
}

func (s *Store) read(ctx context.Context, ref string) (string, error) {
	v, err := s.client.SecretString(ctx, ref)
	if err != nil {
		return "", translate(fmt.Errorf("get secret %s: %w", ref, err))
	}
	s.mu.Lock()
	s.cache[ref] = entry{value: v, at: s.now()}
	s.mu.Unlock()
	return v, nil
}

// translate maps the failures a caller can wait out to domain errors, keeping the cause: throttling to
// apperr.ErrThrottled, Secrets Manager failing on its side or not answering (a dropped connection, the
// deadline) to apperr.ErrUnavailable. A reading changes nothing, so the request that needed the secret
// may be sent again. Other answers (no such secret, access denied) are configuration errors and keep
// their cause.
func translate(err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return apperr.ErrUnavailable.Wrap(err)
	}
	switch apiErr.ErrorCode() {
	case "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return apperr.ErrThrottled.Wrap(err)
	case "InternalServiceError", "InternalServiceErrorException", "InternalFailure", "ServiceUnavailable":
		return apperr.ErrUnavailable.Wrap(err)
	}
	return err
}
