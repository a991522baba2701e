// Command fuzz sends mutated and generated requests to every POST and PUT route (and damaged query strings
// to the GET routes that page or filter) for a bounded time and fails on any 5xx or unanswered request,
// printing a reproducer for each (see package infra/fuzz).
//
//	go run ./infra/cmd/fuzz [-duration 10m] [-seed 1] [-api URL] [-crashes DIR] [-log FILE]
//	go run ./infra/cmd/fuzz -replay tests/output/fuzz/finding-1-42.json [-api URL]
//
// Without -api it starts a fresh local stack of its own in this process (moto, resources from
// template.yaml, seed, the API on a free port) and stops it at the end; with -api it fuzzes that stack
// (for example `make run`'s) and writes junk into it. -duration bounds the fuzzing; starting the stack
// and the fixtures take some 10–30 s more. Exit status 1 if anything answered 5xx.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/civicsnap/civicsnap/infra/fuzz"
	"github.com/civicsnap/civicsnap/infra/localrun"
	"github.com/civicsnap/civicsnap/infra/motoserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", time.Minute, "how long to fuzz (setup not included)")
	seed := flag.Uint64("seed", 0, "random seed (0: from the clock; the seed is printed)")
	api := flag.String("api", "", "base URL of a running local stack (default: start a fresh one)")
	crashes := flag.String("crashes", "", "where to write reproducers (default: tests/output/fuzz)")
	logFile := flag.String("log", "", "write the stack's log (JSON) to this file")
	replay := flag.String("replay", "", "send this reproducer's request again and print the answer")
	workers := flag.Int("workers", 1, "requests in flight at once (2 keeps both cores of a 2-core machine busy: the stack's Go and moto's Python)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := motoserver.ModuleRoot()
	if err != nil {
		return err
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	if *crashes == "" {
		*crashes = filepath.Join(root, "tests", "output", "fuzz")
	}
	var logw io.Writer = io.Discard
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		logw = f
	}
	if *api == "" {
		fmt.Println("fuzz: starting a local stack …")
		st, err := localrun.Start(ctx, localrun.Options{Addr: "127.0.0.1:0", Log: slog.New(slog.NewJSONHandler(logw, nil))})
		if err != nil {
			return fmt.Errorf("start the local stack: %w", err)
		}
		defer func() {
			closing, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			if err := st.Close(closing); err != nil {
				fmt.Fprintln(os.Stderr, "fuzz: stopping the stack:", err)
			}
		}()
		*api = st.API
	}
	if *replay != "" {
		return replayFile(ctx, *api, *replay)
	}
	sum, err := fuzz.Run(ctx, fuzz.Options{API: *api, Template: filepath.Join(root, "template.yaml"), Duration: *duration,
		Seed: *seed, Out: os.Stdout, CrashDir: *crashes, Workers: *workers})
	if err != nil {
		return err
	}
	if len(sum.Findings) > 0 {
		return fmt.Errorf("%d %w (seed %d; reproducers in %s)", len(sum.Findings), fuzz.ErrFindings, *seed, *crashes)
	}
	return nil
}

func replayFile(ctx context.Context, api, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var fd fuzz.Finding
	if err := json.Unmarshal(data, &fd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	status, body, err := fuzz.Replay(ctx, api, fd.Request)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s → %d\n%s\n", fd.Request.Method, fd.Request.Path, status, body)
	if status >= 500 {
		return fmt.Errorf("still answered %d", status)
	}
	return nil
}
