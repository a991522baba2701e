package reconcilerfn_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/civicsnap/civicsnap/functions/reconciler/reconcilerfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/points"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// syncBuffer is a log sink the function writes to and the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns the log lines written so far and forgets them.
func (s *syncBuffer) take() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(&s.b)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	s.b.Reset()
	return out
}

// TestReconcilerRepairsASeededMismatch: awards made through the points service, one balance corrupted
// behind its back; the scheduled run sets it back to the ledger's sum with a reconcile entry, counts one
// repair, and the next run repairs nothing.
func TestReconcilerRepairsASeededMismatch(t *testing.T) {
	ctx := context.Background()
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	local := func(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, tz) }

	env := moto.New(t, testenv.Options{})
	db, store, table := env.DB, env.Store, env.Table
	logs := &syncBuffer{}
	b := env.Base("ReconcilerFunction", nil, slog.New(slog.NewJSONHandler(logs, nil)))
	now := local(2, 0, 30) // shortly after local midnight, when the schedule fires
	b.Now = func() time.Time { return now }
	fn, err := reconcilerfn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	svc := b.Points()

	// Yesterday and today (local), as accrual awards them.
	for _, r := range []points.Resolved{
		{ID: "r1", ReporterSub: "alice", Category: "manhole_cover", At: local(1, 10, 0)},
		{ID: "r2", ReporterSub: "alice", Category: "rubbish", At: local(1, 18, 0)},
		{ID: "r3", ReporterSub: "bob", Category: "damaged_road", At: local(2, 0, 10)},
	} {
		if err := svc.OnResolved(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := func(sub string, by int) {
		t.Helper()
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &table,
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "USER#" + sub}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"},
			},
			UpdateExpression:          aws.String("ADD balance :d"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberN{Value: fmt.Sprint(by)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	corrupt("alice", 7)

	run := func() (checked, repaired float64) {
		t.Helper()
		if err := fn.Handle(ctx, json.RawMessage(`{}`)); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		for _, l := range logs.take() {
			if l["msg"] == "reconciled" {
				return l["checked"].(float64), l["repaired"].(float64)
			}
		}
		t.Fatal("no reconciled log line")
		return 0, 0
	}
	checked, repaired := run()
	t.Logf("first run: checked %v, repaired %v", checked, repaired)
	if repaired != 1 || checked < 2 {
		t.Errorf("first run: checked %v repaired %v, want alice and bob checked, one repair", checked, repaired)
	}
	wantBalance := map[string]int64{"alice": 15, "bob": 8}
	for sub, want := range wantBalance {
		p, err := store.Profile(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := store.LedgerSum(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		if p.Balance != want || sum != want {
			t.Errorf("%s: balance %d, ledger sum %d; want %d", sub, p.Balance, sum, want)
		}
	}
	ledger, _, err := store.Ledger(ctx, "alice", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	var fixes []points.Entry
	for _, e := range ledger {
		if e.Kind == points.KindReconcile {
			fixes = append(fixes, e)
		}
	}
	if len(fixes) != 1 || fixes[0].Delta != 0 || !strings.Contains(fixes[0].Note, "from 22 to the ledger's 15") || !fixes[0].At.Equal(now) {
		t.Errorf("reconcile entries = %+v, want one (delta 0) noting 22 → 15 at the run's time", fixes)
	}

	if checked, repaired := run(); repaired != 0 || checked < 2 {
		t.Errorf("second run: checked %v repaired %v, want nothing to repair", checked, repaired)
	}

	// The service's own count, for one local day: today's corrupted balance is repaired once.
	corrupt("bob", -3)
	today := now.In(tz).Format(time.DateOnly)
	for i, want := range []points.Reconciliation{{Checked: 2, Repaired: 1}, {Checked: 2, Repaired: 0}} {
		got, err := svc.Reconcile(ctx, today)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Reconcile(%s) run %d = %+v, want %+v", today, i+1, got, want)
		}
	}
	if p, _ := store.Profile(ctx, "bob"); p.Balance != 8 {
		t.Errorf("bob's balance %d, want 8", p.Balance)
	}
}

// itemsRead counts the items DynamoDB read for the Queries and GetItems made on a configuration.
type itemsRead struct{ n atomic.Int64 }

func (c *itemsRead) attach(cfg *aws.Config) {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("itemsRead", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			switch r := out.Result.(type) {
			case *dynamodb.QueryOutput:
				c.n.Add(int64(r.ScannedCount))
			case *dynamodb.GetItemOutput:
				if r.Item != nil {
					c.n.Add(1)
				}
			}
			return out, md, err
		}), middleware.After)
	})
}

// TestDailyWorkDoesNotGrowWithHistory: two users, one with 10 ledger entries of history and one with
// 3,000 (years of it), each with a day of new awards. Once the checkpoints exist, reconciling each user's
// day makes the same calls and reads the same number of items, whatever the history; balances still match
// the whole ledger, and a corrupted one is still repaired.
func TestDailyWorkDoesNotGrowWithHistory(t *testing.T) {
	ctx := context.Background()
	env := moto.New(t, testenv.Options{})
	tz := env.TZ
	var read itemsRead
	cfg := env.Counted.Copy()
	read.attach(&cfg)
	b := env.BaseOn(cfg, "ReconcilerFunction", nil, nil)
	now := time.Date(2026, 6, 10, 0, 30, 0, 0, tz)
	b.Now = func() time.Time { return now }
	svc := b.Points()

	// History, loaded as the services would have written it: entries from years ago up to three days ago.
	history := map[string]int{"short": 10, "long": 3000}
	var items []dynamostore.Item
	for sub, n := range history {
		var sum int64
		for i := range n {
			at := now.Add(-72 * time.Hour).Add(-time.Duration(n-i) * 8 * time.Hour)
			e := points.Entry{ID: fmt.Sprintf("award-h%d", i), At: at, Delta: int64(1 + i%5), Kind: points.KindAward, ReportID: fmt.Sprintf("h%d", i)}
			sum += e.Delta
			it, err := env.Store.LedgerItem(sub, e)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		it, err := env.Store.ProfileItem(points.Profile{Sub: sub, Balance: sum, LifetimeEarned: sum, Version: 1, CreatedAt: now.AddDate(-2, 0, 0)}, now.Add(-72*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if err := env.Store.BatchPut(ctx, items); err != nil {
		t.Fatal(err)
	}
	day := func(d time.Time) string { return d.In(tz).Format(time.DateOnly) }
	// The first run after the history (the checkpoints' creation) reads all of it: it reconciles the day
	// of the last entries of history (80 hours ago), which lists both users.
	read.n.Store(0)
	if _, err := svc.Reconcile(ctx, day(now.Add(-80*time.Hour))); err != nil {
		t.Fatal(err)
	}
	t.Logf("first run, building the checkpoints of 3,010 entries: %d items read", read.n.Load())

	// A day of activity each: short's yesterday, long's today, so each is reconciled on its own day.
	award := func(sub string, at time.Time, ids ...string) {
		t.Helper()
		now = at
		for _, id := range ids {
			if err := svc.OnResolved(ctx, points.Resolved{ID: id, ReporterSub: sub, Category: "rubbish", At: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	award("short", time.Date(2026, 6, 9, 10, 0, 0, 0, tz), "s1", "s2", "s3")
	award("long", time.Date(2026, 6, 10, 0, 10, 0, 0, tz), "l1", "l2", "l3")
	now = time.Date(2026, 6, 10, 0, 30, 0, 0, tz)

	type cost struct {
		calls map[string]int
		items int64
	}
	measure := func(d string) cost {
		t.Helper()
		env.Calls.Reset()
		read.n.Store(0)
		got, err := svc.Reconcile(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got != (points.Reconciliation{Checked: 1}) {
			t.Fatalf("Reconcile(%s) = %+v, want one user checked, nothing repaired", d, got)
		}
		return cost{env.Calls.Snapshot(), read.n.Load()}
	}
	short, long := measure("2026-06-09"), measure("2026-06-10")
	t.Logf("a day of 3 awards: 10 entries of history %v, %d items read; 3,000 entries %v, %d items read", short.calls, short.items, long.calls, long.items)
	if !maps.Equal(short.calls, long.calls) || short.items != long.items {
		t.Errorf("reconciling a day costs %v and %d items with 10 entries of history, %v and %d with 3,000", short.calls, short.items, long.calls, long.items)
	}
	// The touched-users page (the day's 3 ledger entries' index entries), the profile, the checkpoint, and
	// the checkpoint's entry with the 3 new ones.
	if long.items > 9 {
		t.Errorf("a day of 3 awards read %d items, want at most 9", long.items)
	}

	// Still the whole ledger's truth: a corrupted balance is found and repaired to the full sum.
	full, err := env.Store.LedgerSum(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := env.Store.Profile(ctx, "long"); p.Balance != full {
		t.Fatalf("long's balance %d, ledger %d", p.Balance, full)
	}
	if _, err := env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &env.Table,
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "USER#long"}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"}},
		UpdateExpression: aws.String("ADD balance :d"), ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberN{Value: "-4"}},
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Reconcile(ctx, "2026-06-10"); err != nil || got.Repaired != 1 {
		t.Fatalf("after corrupting long's balance: %+v, %v; want one repair", got, err)
	}
	if p, _ := env.Store.Profile(ctx, "long"); p.Balance != full {
		t.Errorf("long's balance after the repair %d, want the ledger's %d", p.Balance, full)
	}

	// An entry written long after its own time (sorted before short's checkpoint) with its balance: not a
	// mismatch (the whole ledger is read before any repair, and the checkpoint rebuilt), and the next day
	// is cheap again.
	p, err := env.Store.Profile(ctx, "short")
	if err != nil {
		t.Fatal(err)
	}
	late, err := env.Store.LedgerItem("short", points.Entry{ID: "award-late", At: now.AddDate(0, 0, -10), Delta: 7, Kind: points.KindAward, ReportID: "late"})
	if err != nil {
		t.Fatal(err)
	}
	p.Balance += 7
	p.Version++
	prof, err := env.Store.ProfileItem(p, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.BatchPut(ctx, []dynamostore.Item{late, prof}); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Reconcile(ctx, "2026-06-10"); err != nil || got.Repaired != 0 {
		t.Fatalf("after a late entry: %+v, %v; want no repair", got, err)
	}
	// Two users touched: 2 index items, then each one's profile and checkpoint, and the entries after the
	// checkpoint: its own, 3 awards, and long's reconcile entry.
	read.n.Store(0)
	if got, err := svc.Reconcile(ctx, "2026-06-10"); err != nil || got.Repaired != 0 || read.n.Load() > 15 {
		t.Errorf("the day after the rebuild: %+v, %v, %d items read; want no repair and at most 15 items", got, err, read.n.Load())
	}
}
