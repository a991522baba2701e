// Command civicsnap-local runs the whole stack on this machine (`make run`): moto, the resources
// template.yaml declares, seed data and the HTTP API on 127.0.0.1:$PORT. Ctrl-C stops everything.
//
// With CIVICSNAP_STATE_DIR set (`make run` sets it to <repo>/.local/state) the data survives a restart:
// the state saved there is loaded at start and saved again on Ctrl-C, SIGTERM or SIGHUP (the terminal
// closed). Unset, nothing is loaded or saved — what the e2e and browser tests, which run this binary on a
// fresh stack, rely on.
//
// If moto dies, the stack stops at once and exits 1 with moto's exit status and the end of its stderr,
// rather than serving on without its AWS.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/civicsnap/civicsnap/infra/localrun"
)

// stateDirEnv names the state directory; relative paths are taken from the working directory.
const stateDirEnv = "CIVICSNAP_STATE_DIR"

func main() {
	if err := run(); err != nil {
		// Plain text, not a JSON log line: the error may quote moto's traceback, which must stay readable.
		fmt.Fprintf(os.Stderr, "civicsnap-local: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	// SIGHUP too: closing the terminal must save the state like Ctrl-C does. The signals stay caught until
	// run returns, so a second Ctrl-C cannot cut a save short.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	port, err := localrun.PortFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	stateDir := os.Getenv(stateDirEnv)
	if stateDir != "" {
		// moto runs in the module root: a relative path must not change meaning on the way there.
		if stateDir, err = filepath.Abs(stateDir); err != nil {
			return fmt.Errorf("%s: %w", stateDirEnv, err)
		}
	}
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	st, err := localrun.Start(ctx, localrun.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: log, StateDir: stateDir})
	if err != nil {
		return err
	}
	switch {
	case st.Loaded == nil:
	case st.Loaded.Found:
		fmt.Printf("state loaded from %s: %s (saved %s)\n", stateDir, st.Loaded, st.Loaded.SavedAt.Local().Format(time.DateTime))
	default:
		fmt.Printf("no saved state in %s yet: starting from the seed; Ctrl-C saves\n", stateDir)
	}
	fmt.Printf("civicsnap local stack ready: API %s  (AWS/moto %s)\n", st.API, st.Moto.Endpoint())

	var motoErr error
	select {
	case <-ctx.Done():
		if stateDir != "" {
			fmt.Printf("stopping; saving state to %s (wait for it: another Ctrl-C is ignored)…\n", stateDir)
		} else {
			fmt.Println("stopping…")
		}
	case <-st.Moto.Done():
		// moto is gone: stop now rather than serve on without it. Shutdown saves nothing then, so the
		// state saved by the last clean stop is what the next start loads.
		motoErr = st.Moto.Err()
		fmt.Fprintln(os.Stderr, "moto exited; stopping the stack")
	}
	saved, err := st.Shutdown(context.Background())
	if saved != nil {
		fmt.Printf("state saved to %s: %s\n", stateDir, saved)
	}
	if motoErr != nil {
		if stateDir != "" {
			return fmt.Errorf("the stack stopped because %w\nnothing was saved: the next start loads the state of the last clean stop", motoErr)
		}
		return fmt.Errorf("the stack stopped because %w", motoErr)
	}
	return err
}
