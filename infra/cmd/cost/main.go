// Command cost measures the cost of 1M report lifecycles (submit with a photo → dispatch → accept →
// resolve → award → one redemption) on the local stack at AWS list prices, with warm caches (lifecycles
// back to back) and for a quiet city (the functions' clock moves -gap before each step).
//
//	go run ./infra/cmd/cost [-n 3] [-gap 10m]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/civicsnap/civicsnap/infra/cost"
	"github.com/civicsnap/civicsnap/infra/motoserver"
)

func main() {
	n := flag.Int("n", 3, "lifecycles measured per scenario")
	gap := flag.Duration("gap", 10*time.Minute, "a quiet city's time between steps")
	trace := flag.Bool("trace", false, "print each item written (function, operation, key, size before→after, units)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *n, *gap, *trace); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, gap time.Duration, trace bool) error {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		return err
	}
	tpl := filepath.Join(root, "template.yaml")
	for _, sc := range []cost.Scenario{{Name: "warm caches", N: n}, {Name: "quiet city", Gap: gap, N: n}} {
		if trace {
			sc.Trace = os.Stdout
		}
		r, err := cost.Measure(ctx, tpl, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Name, err)
		}
		r.Print(os.Stdout, cost.ListPrices)
	}
	return nil
}
