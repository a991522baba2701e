// Package secretstore reads webhook signing secrets from AWS Secrets Manager, cached per container so a
// busy sender does not pay a call per message.
package secretstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// API is the part of the Secrets Manager client used here.
type API interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

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
	if ok && s.now().Sub(e.at) < s.ttl {
		return e.value, nil
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ref})
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", ref, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s has no string value", ref)
	}
	s.mu.Lock()
	s.cache[ref] = entry{value: *out.SecretString, at: s.now()}
	s.mu.Unlock()
	return *out.SecretString, nil
}
