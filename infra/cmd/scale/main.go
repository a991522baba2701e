// Command scale replays a month of Mengzi at full size through a fresh local stack and reports the KPIs
// beside the plan, the request rate and latency by tenth of the run, moto's peak memory and the wall time
// (`make scale`; see package infra/scale).
//
//	go run ./infra/cmd/scale [-reports 13400] [-workers 8] [-seed 16] [-log stack.log]
//
// It exits with status 1 if a target is missed: a KPI figure that differs from the plan, the last
// tenth's p50 latency above 1.5 × the first's, or moto above 4 GB.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/civicsnap/civicsnap/infra/scale"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run() error {
	tzName := os.Getenv("CITY_TZ")
	if tzName == "" {
		tzName = "Asia/Shanghai"
	}
	reports := flag.Int("reports", scale.MonthReports, "reports over the month (citizens scale with them)")
	seed := flag.Uint64("seed", 16, "random seed of the plan")
	workers := flag.Int("workers", 8, "actions of one moment sent at once")
	every := flag.Duration("every", 10*time.Second, "between progress lines")
	slot := flag.Duration("slot", time.Hour, "the replay's step on the month's clock")
	check := flag.Bool("check", false, "read every report back after dispatch and compare it with the plan")
	logFile := flag.String("log", "", "write the stack's log (JSON) to this file")
	flag.Parse()
	tz, err := time.LoadLocation(tzName)
	if err != nil {
		return fmt.Errorf("CITY_TZ: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var logw io.Writer = io.Discard
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		logw = f
	}
	cfg := scale.Mengzi(*reports, tz, *seed)
	cfg.Slot = *slot
	rep, err := scale.Run(ctx, scale.Options{Config: cfg, Workers: *workers, Out: os.Stdout, Every: *every, Check: *check,
		Log: slog.New(slog.NewJSONHandler(logw, nil))})
	if rep != nil {
		rep.Print(os.Stdout)
	}
	if err != nil {
		return err
	}
	if bad := rep.Verdict(); len(bad) > 0 {
		for _, b := range bad {
			fmt.Println("target missed:", b)
		}
		return fmt.Errorf("%d targets missed", len(bad))
	}
	fmt.Println("every target met")
	return nil
}
