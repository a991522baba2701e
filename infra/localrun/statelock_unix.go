//go:build unix

package localrun

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockStateDir takes an exclusive lock on dir for the life of the stack, so that two stacks never load
// and save the same state (the one stopped last would silently overwrite the other's work). The kernel
// drops the lock when the process dies, so a crash never leaves a stale one.
func lockStateDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		return nil, fmt.Errorf("state directory %s is in use by another local stack (pid %s): stop it first, or give this one another CIVICSNAP_STATE_DIR",
			dir, string(bytes.TrimSpace(holder)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { _ = f.Close() }, nil // closing the descriptor releases the lock
}
