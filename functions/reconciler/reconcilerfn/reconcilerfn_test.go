package reconcilerfn_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/functions/reconciler/reconcilerfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
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
