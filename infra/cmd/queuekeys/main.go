// Command queuekeys moves the department queue entries written before the open partition (gsi2
// QUEUE#<dept>#<open status>) into it (QUEUE#<dept>#OPEN, with astatus), once, for every configured
// department: run it after deploying the code that writes the new keys, on a gsi2 that projects astatus.
// Each move is conditional on the old key, so it is safe to repeat and to run beside the functions (whose
// next change of an assignment writes the new key anyway).
//
//	TABLE_NAME=<table> [AWS_REGION=…] [AWS_ENDPOINT_URL=…] go run ./infra/cmd/queuekeys
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/civicsnap/civicsnap/functions/platform"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "queuekeys:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := platform.FromEnv(ctx, os.Getenv, "queuekeys")
	if err != nil {
		return err
	}
	depts, err := b.Store.Departments(ctx)
	if err != nil {
		return fmt.Errorf("departments: %w", err)
	}
	ids := make([]string, len(depts))
	for i, d := range depts {
		ids[i] = d.ID
	}
	n, err := b.Store.MigrateQueueKeys(ctx, ids)
	fmt.Printf("moved %d queue entries of %d departments into their open partitions\n", n, len(ids))
	return err
}
