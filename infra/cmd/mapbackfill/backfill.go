package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
)

// store is what the backfill needs of dynamostore.Store.
type store interface {
	BackfillMapDay(ctx context.Context, day, after string, limit int) (dynamostore.MapBackfillPage, error)
	MapBackfillCheckpoint(ctx context.Context, rangeID string) (day, after string, done bool, err error)
	PutMapBackfillCheckpoint(ctx context.Context, rangeID, day, after string, done bool) error
}

// totals are what a run did.
type totals struct {
	Days, Pages, Read, Written, Had, Private int
}

// backfill walks the local days from..to (YYYY-MM-DD, inclusive), a page at a time, from the range's
// checkpoint (unless restart), which it moves after every page: a run stopped anywhere goes on where it
// stopped, and one started again after it finished does nothing (restart walks it again, writing
// nothing twice: each write is conditional on the map keys' absence).
func backfill(ctx context.Context, st store, from, to string, limit int, restart bool, log *slog.Logger) (totals, error) {
	first, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return totals{}, fmt.Errorf("-from %q: want YYYY-MM-DD", from)
	}
	last, err := time.Parse(time.DateOnly, to)
	if err != nil || last.Before(first) {
		return totals{}, fmt.Errorf("-to %q: want YYYY-MM-DD, not before -from", to)
	}
	rangeID := from + ".." + to
	day, after := from, ""
	if !restart {
		cpDay, cpAfter, done, err := st.MapBackfillCheckpoint(ctx, rangeID)
		if err != nil {
			return totals{}, err
		}
		if done {
			log.InfoContext(ctx, "range already backfilled (-restart walks it again)", "range", rangeID)
			return totals{}, nil
		}
		if cpDay != "" {
			day, after = cpDay, cpAfter
			log.InfoContext(ctx, "resuming from the checkpoint", "day", day, "after", after)
		}
	}
	var t totals
	for d, _ := time.Parse(time.DateOnly, day); !d.After(last); d = d.AddDate(0, 0, 1) {
		day = d.Format(time.DateOnly)
		t.Days++
		for {
			page, err := st.BackfillMapDay(ctx, day, after, limit)
			if err != nil {
				return t, fmt.Errorf("day %s after %q: %w", day, after, err)
			}
			t.Pages++
			t.Read, t.Written, t.Had, t.Private = t.Read+page.Read, t.Written+page.Written, t.Had+page.Had, t.Private+page.Private
			after = page.Next
			if err := st.PutMapBackfillCheckpoint(ctx, rangeID, day, after, false); err != nil {
				return t, err
			}
			if after == "" {
				break
			}
		}
		log.InfoContext(ctx, "day backfilled", "day", day, "read", t.Read, "written", t.Written)
		if next := d.AddDate(0, 0, 1); !next.After(last) {
			// The next day starts at its beginning: record it, so a stop here does not walk this day again.
			if err := st.PutMapBackfillCheckpoint(ctx, rangeID, next.Format(time.DateOnly), "", false); err != nil {
				return t, err
			}
		}
	}
	return t, st.PutMapBackfillCheckpoint(ctx, rangeID, to, "", true)
}
