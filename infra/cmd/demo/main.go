// Command demo loads a realistic month of a small city into a running local stack (`make demo` after
// `make run`): citizens file reports through the API, departments handle them, citizens redeem points, and
// the KPIs are rolled up. How the history is made: see package infra/demo.
//
//	API=http://127.0.0.1:3000 go run ./infra/cmd/demo [-seed N] [-days 30] [-reports 600] [-citizens 150]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/civicsnap/civicsnap/infra/demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	api := os.Getenv("API")
	if api == "" {
		api = "http://127.0.0.1:3000"
	}
	tzName := os.Getenv("CITY_TZ")
	if tzName == "" {
		tzName = "Asia/Shanghai"
	}
	var cfg demo.Config
	flag.StringVar(&api, "api", api, "the local stack's API (env API)")
	flag.Uint64Var(&cfg.Seed, "seed", 16, "random seed: the same seed and day give the same month")
	flag.IntVar(&cfg.Days, "days", 30, "days of history, ending today")
	flag.IntVar(&cfg.Reports, "reports", 600, "reports over the month")
	flag.IntVar(&cfg.Citizens, "citizens", 150, "registered citizens")
	quiet := flag.Bool("q", false, "no progress lines")
	flag.Parse()
	tz, err := time.LoadLocation(tzName)
	if err != nil {
		return fmt.Errorf("CITY_TZ: %w", err)
	}
	// Events planned in the last minute are left to a later run: the stack's clock must never run ahead.
	cfg.TZ, cfg.Cutoff = tz, time.Now().Add(-time.Minute)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := demo.Options{API: api, Config: cfg, Progress: os.Stdout}
	if *quiet {
		opts.Progress = nil
	}
	fmt.Printf("loading a demo month into %s …\n", api)
	res, err := demo.Run(ctx, opts)
	if res != nil {
		res.PrintSummary(os.Stdout)
		if os.Getenv("DEMO_TIMING") != "" {
			res.PrintTimings(os.Stdout)
		}
	}
	return err
}
