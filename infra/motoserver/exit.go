package motoserver

import (
	"errors"
	"fmt"
	"strings"
)

// ErrExited is what Err wraps when moto exited without Stop asking it to.
var ErrExited = errors.New("moto exited")

// exitTailLines bounds how much of moto's stderr Err quotes: enough for a Python traceback.
const exitTailLines = 30

// Done is closed once the moto process has exited, whether Stop ended it or it died. A supervisor selects
// on it beside its other work and asks Err why.
func (s *Server) Done() <-chan struct{} { return s.exited }

// Err says why moto is gone: nil while it runs and after an exit that Stop asked for; otherwise an error
// wrapping ErrExited with the exit status and the last lines of moto's stderr (the traceback, usually).
func (s *Server) Err() error {
	select {
	case <-s.exited:
	default:
		return nil
	}
	if s.stopping.Load() {
		return nil
	}
	return fmt.Errorf("%w unexpectedly (%v); the end of its stderr:\n%s", ErrExited, s.waitErr, lastLines(s.stderr.String(), exitTailLines))
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "(nothing)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
