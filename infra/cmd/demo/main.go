// Command demo loads a realistic month of a small city into a running local stack (`make demo` after
// `make run`): citizens file reports through the API, departments handle them, citizens redeem points, and
// the KPIs are rolled up and compared with the plan. How the history is made: see package infra/demo.
//
//	API=http://127.0.0.1:3000 go run ./infra/cmd/demo [-seed N] [-days 30] [-reports 600] [-citizens 150] [-workers 8]
//
// With -backfill FROM..TO it only recomputes the KPI snapshots of those days (`make kpi-backfill`).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	flag.DurationVar(&cfg.Slot, "slot", time.Hour, "the replay's step on the month's clock")
	workers := flag.Int("workers", 8, "actions of one moment sent at once")
	check := flag.Bool("check", false, "read every report back after dispatch and compare it with the plan (a GET each)")
	backfill := flag.String("backfill", "", "FROM..TO (YYYY-MM-DD): only recompute the KPI snapshots of those days")
	quiet := flag.Bool("q", false, "no progress lines")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = os.Stdout
	if *quiet {
		progress = nil
	}
	if *backfill != "" {
		from, to, ok := strings.Cut(*backfill, "..")
		if !ok {
			return fmt.Errorf("-backfill %q: want FROM..TO", *backfill)
		}
		_, err := demo.Backfill(ctx, demo.NewClient(api, demo.DefaultRetryPolicy(), 1), from, to, progress, 5*time.Second)
		return err
	}
	tz, err := time.LoadLocation(tzName)
	if err != nil {
		return fmt.Errorf("CITY_TZ: %w", err)
	}
	// Events planned in the last minute are left to a later run: the stack's clock must never run ahead.
	cfg.TZ, cfg.Cutoff = tz, time.Now().Add(-time.Minute)
	opts := demo.Options{API: api, Config: cfg, Workers: *workers, CheckDispatch: *check, Progress: progress}
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
