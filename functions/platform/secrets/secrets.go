// Package secrets builds a function's Secrets Manager reader. Only the functions that sign or verify
// webhooks import it, so the others do not link the Secrets Manager client (issue 11, cold start).
package secrets

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/secretstore"
)

// TTL is how long a container caches a secret.
const TTL = 5 * time.Minute

// Store returns the Secrets Manager reader, cached for TTL.
func Store(b *platform.Base) *secretstore.Store {
	return secretstore.New(secretsmanager.NewFromConfig(b.AWS), TTL, b.Now)
}
