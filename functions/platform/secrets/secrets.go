// Package secrets builds a function's Secrets Manager reader. Only the functions that sign or verify
// webhooks import it, so the others do not link the Secrets Manager adapter (issue 11, cold start).
package secrets

import (
	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/secretstore"
)

// TTL is how long a container caches a secret: hours (secretstore.TTL), since a rotation is picked up when
// a signature fails with the cached one (casework, notify), not by expiry.
const TTL = secretstore.TTL

// Store returns the Secrets Manager reader, cached for TTL.
func Store(b *platform.Base) *secretstore.Store {
	return secretstore.New(secretstore.NewClient(b.AWS), TTL, b.Now)
}
