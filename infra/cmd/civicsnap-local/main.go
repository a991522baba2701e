// Command civicsnap-local runs the whole stack on this machine (`make run`): moto, the resources
// template.yaml declares, seed data and the HTTP API on 127.0.0.1:$PORT. Ctrl-C stops everything.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/civicsnap/civicsnap/infra/localrun"
)

func main() {
	if err := run(); err != nil {
		slog.Error("civicsnap-local", "err", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port, err := localrun.PortFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	st, err := localrun.Start(ctx, localrun.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: log})
	if err != nil {
		return err
	}
	fmt.Printf("civicsnap local stack ready: API %s  (AWS/moto %s)\n", st.API, st.Moto.Endpoint())
	<-ctx.Done()
	fmt.Println("stopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return st.Close(shutdown)
}
