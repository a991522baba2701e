// Command mapbackfill puts reports filed before the public map's index (gsi6) existed on the map: it walks
// the local days of a range in the KPI index's day partitions (gsi3 CREATED#<day>), a page at a time, and
// sets the map keys (mapCell, mapKey) of every report that lacks them and was not filed as not public,
// each with a conditional write — safe to stop and run again (it resumes from its checkpoint, an item
// MIGRATION#mapbackfill / <from>..<to>) and to run beside intake.
//
//	TABLE_NAME=civicsnap-dev-Table… AWS_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… \
//	  go run ./infra/cmd/mapbackfill -from 2025-01-01 -to 2026-11-30
//
// The AWS configuration is a function's (functions/platform.AWSConfig: the region and credentials from the
// environment, AWS_ENDPOINT_URL for moto); CITY_TZ names the days (default Asia/Shanghai).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mapbackfill:", err)
		os.Exit(1)
	}
}

func run() error {
	from := flag.String("from", "", "first local day (YYYY-MM-DD)")
	to := flag.String("to", "", "last local day (YYYY-MM-DD), inclusive")
	limit := flag.Int("page", 100, "reports per page (1-100)")
	restart := flag.Bool("restart", false, "ignore the range's checkpoint and walk it from its first day")
	flag.Parse()
	if *limit < 1 || *limit > 100 {
		return fmt.Errorf("-page %d: want 1-100", *limit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b, err := platform.FromEnv(ctx, os.Getenv, "mapbackfill")
	if err != nil {
		return err
	}
	log := fnconfig.Logger("mapbackfill")
	t, err := backfill(ctx, b.Store, *from, *to, *limit, *restart, log)
	log.InfoContext(ctx, "map backfill", "days", t.Days, "pages", t.Pages, "read", t.Read, "written", t.Written, "alreadyOnTheMap", t.Had, "private", t.Private)
	return err
}
