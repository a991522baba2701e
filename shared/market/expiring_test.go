package market_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/market"
)

// warnCheckpoints is the walk's own checkpoint of the fake store.
type warnCheckpoints struct{ pos string }

func (w *warnCheckpoints) ExpiryWarningCheckpoint(context.Context, string) (string, error) {
	return w.pos, nil
}

func (w *warnCheckpoints) PutExpiryWarningCheckpoint(_ context.Context, _, pos string) error {
	if pos <= w.pos {
		return fmt.Errorf("checkpoint moved back from %s to %s", w.pos, pos)
	}
	w.pos = pos
	return nil
}

// The about-to-expire walk: from the expiry sweep's checkpoint on its first run, then from its own, it
// warns the reserved redemptions whose pickup ends within the lead (not a locked, completed, cancelled
// or already lapsed one), skips a warn that fails and keeps its checkpoint before it, and reads only what
// is new on the next run — whatever the item's history.
func TestWarnExpiringWalksFromACheckpoint(t *testing.T) {
	now := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	lead := 24 * time.Hour
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	red := func(id string, made time.Time, st market.Status, window time.Duration) market.Reservation {
		exp := made.Add(window)
		return market.Reservation{Redemption: market.Redemption{ID: id, Sub: "u-" + id, ItemID: "fan", Kind: market.Goods, Status: st, CreatedAt: made, ExpiresAt: &exp},
			Pos: made.UTC().Format(time.RFC3339) + "#" + id}
	}
	month := 30 * 24 * time.Hour
	var history []market.Reservation
	for i := range 200 { // closed before the expiry sweep's checkpoint: never read
		history = append(history, red(fmt.Sprintf("old%03d", i), at(60*24*time.Hour+time.Duration(i)*time.Minute), market.Completed, month))
	}
	f := &sweepStore{reds: append(history,
		red("lapsed", at(month+time.Hour), market.Reserved, month),   // past its expiry: the expiry sweep's
		red("a", at(month-2*time.Hour), market.Reserved, month),      // ends in 2 h
		red("b", at(month-3*time.Hour), market.Locked, month),        // cannot be picked up
		red("c", at(month-4*time.Hour), market.Completed, month),     // picked up
		red("d", at(month-5*time.Hour), market.Reserved, month),      // its warn fails on the first run
		red("g", at(month-20*time.Hour), market.Reserved, month),     // ends in 20 h
		red("later", at(month-30*time.Hour), market.Reserved, month), // ends in 30 h: the next day's
	)}
	f.checkpoint = history[0].Pos // the expiry sweep's position (every one before it closed)
	for _, r := range history {
		if r.Pos > f.checkpoint {
			f.checkpoint = r.Pos
		}
	}
	cp := &warnCheckpoints{}
	clock := now
	svc := market.NewService(f, time.UTC, func() time.Time { return clock }, func() string { return "x" }, market.Settings{})
	fail := map[string]error{"d": apperr.ErrThrottled}
	var warned []string
	warn := func(_ context.Context, r market.Redemption) error {
		warned = append(warned, r.ID)
		return fail[r.ID]
	}
	runs := []struct {
		name   string
		after  time.Duration
		n      int
		failed bool
		warned string
		read   int
	}{
		// Oldest first; the checkpoint stops before d, so g is warned again on the next run (the inbox's
		// conditional put makes that a no-op).
		{"first run", 0, 2, true, "[a d g]", 6},
		{"the failed one again", 0, 2, false, "[d g]", 2},
		{"nothing new", 0, 0, false, "[]", 0},
		{"ten hours on: the next one is due", 10 * time.Hour, 1, false, "[later]", 1},
	}
	for _, r := range runs {
		if r.name != "first run" {
			fail = nil
		}
		clock = clock.Add(r.after)
		warned, f.read = nil, 0
		n, err := svc.WarnExpiring(context.Background(), cp, lead, warn)
		if n != r.n || (err != nil) != r.failed || fmt.Sprint(warned) != r.warned || f.read != r.read {
			t.Errorf("%s: %d warned %v (%v), read %d; want %d %s (failed %v), read %d", r.name, n, warned, err, f.read, r.n, r.warned, r.failed, r.read)
		}
	}
	if len(f.refunded) != 0 {
		t.Errorf("the walk refunded %v", f.refunded)
	}
	if _, err := svc.WarnExpiring(context.Background(), cp, 31*24*time.Hour, warn); err == nil {
		t.Error("a lead longer than the pickup window was accepted")
	}
}

// A redemption made under a longer pickup window than today's is not due when the walk reaches it: it
// holds the checkpoint and is warned when its own end comes within the lead.
func TestWarnExpiringWaitsForALongerWindow(t *testing.T) {
	now := time.Date(2026, 12, 31, 3, 0, 0, 0, time.UTC)
	made := now.Add(-29*24*time.Hour - 2*time.Hour) // within the walk's bound (the lead before a 30-day window)
	exp := made.Add(40 * 24 * time.Hour)            // made when the window was 40 days
	f := &sweepStore{reds: []market.Reservation{{Redemption: market.Redemption{ID: "long", Sub: "u", ItemID: "fan", Kind: market.Goods,
		Status: market.Reserved, CreatedAt: made, ExpiresAt: &exp}, Pos: made.Format(time.RFC3339) + "#long"}}}
	cp := &warnCheckpoints{}
	clock := now
	svc := market.NewService(f, time.UTC, func() time.Time { return clock }, func() string { return "x" }, market.Settings{})
	var warned []string
	warn := func(_ context.Context, r market.Redemption) error { warned = append(warned, r.ID); return nil }
	if n, err := svc.WarnExpiring(context.Background(), cp, 24*time.Hour, warn); n != 0 || err != nil || cp.pos != "" || f.read != 1 {
		t.Fatalf("not due: %d, %v, checkpoint %q, read %d", n, err, cp.pos, f.read)
	}
	clock = exp.Add(-23 * time.Hour)
	if n, err := svc.WarnExpiring(context.Background(), cp, 24*time.Hour, warn); n != 1 || err != nil || fmt.Sprint(warned) != "[long]" || cp.pos == "" {
		t.Fatalf("due: %d %v, %v, checkpoint %q", n, warned, err, cp.pos)
	}
}
