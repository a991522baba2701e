//go:build !unix

package localrun

import (
	"fmt"
	"os"
)

// lockStateDir only creates dir where there is no flock: two stacks sharing one state directory are not
// detected there.
func lockStateDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return func() {}, nil
}
