package motoserver

import "testing"

// ForTest starts a moto server for one test (or benchmark) and stops it when the test finishes. It fails
// the test with the reason, e.g. a missing virtualenv, if moto cannot start.
func ForTest(tb testing.TB) *Server {
	tb.Helper()
	srv, err := Start(tb.Context(), Options{})
	if err != nil {
		tb.Fatalf("start moto: %v", err)
	}
	tb.Cleanup(func() {
		// Stop always ends the process (SIGKILL after the grace period); a slow exit on a loaded machine
		// is worth a note, not a failure of the test that used it.
		if err := srv.Stop(); err != nil {
			tb.Logf("stop moto: %v", err)
		}
	})
	return srv
}
