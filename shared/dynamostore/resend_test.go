package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
)

// Finding 2 of issue 10: the SDK re-sends a request whose answer was lost, and a single-item write that is
// not idempotent then applies twice, or fails its own condition and reports a conflict after succeeding.
// Each test below loses the answer of the first UpdateItem (infra/faults: applied, answer discarded,
// connection reset) and checks the write took effect once and reported success.

// resendEnv is a table on its own moto, a plain client for the test's own look, and a store whose first
// write of the given operation is applied and its answer lost.
type resendEnv struct {
	db    *dynamodb.Client
	table string
	inj   *faults.Injector
	store *dynamostore.Store
	plain *dynamostore.Store
}

// moto is the package's one moto server (TestMain); each test makes its own table on it.
var moto *motoserver.Server

func TestMain(m *testing.M) {
	srv, err := motoserver.Start(context.Background(), motoserver.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start moto:", err)
		os.Exit(1)
	}
	moto = srv
	code := m.Run()
	_ = srv.Stop()
	os.Exit(code)
}

func newResendEnv(t *testing.T, op string) *resendEnv {
	t.Helper()
	ctx := t.Context()
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(ctx, cfg, "resend-"+strings.ToLower(t.Name()), motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	inj, err := faults.New(faults.Options{Seed: 1, PerTen: 10, Max: 1, Kinds: []faults.Kind{faults.LostResponse},
		Operations: []string{op}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	faulty := cfg.Copy()
	faulty.HTTPClient = inj.Wrap(cfg.HTTPClient)
	table := res.Tables["Table"].Name
	db := dynamodb.NewFromConfig(cfg)
	return &resendEnv{db: db, table: table, inj: inj,
		store: dynamostore.New(dynamodb.NewFromConfig(faulty), table, time.UTC), plain: dynamostore.New(db, table, time.UTC)}
}

// lost fails the test unless exactly one answer was lost.
func (e *resendEnv) lost(t *testing.T) {
	t.Helper()
	if st := e.inj.Stats(); st.Injected[faults.LostResponse] != 1 {
		t.Fatalf("faults: %v, want one lost response", st)
	}
}

func (e *resendEnv) put(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &e.table, Item: item}); err != nil {
		t.Fatal(err)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (e *resendEnv) reserved(t *testing.T, id string) market.Redemption {
	t.Helper()
	e.put(t, map[string]types.AttributeValue{"pk": s("REDEMPTION#" + id), "sk": s("REDEMPTION"), "type": s("redemption"), "id": s(id),
		"sub": s("u1"), "itemId": s("tea"), "kind": s("goods"), "quantity": n(1), "amount": n(10), "status": s("reserved"),
		"pickupCode": s("123456"), "shard": n(0), "wrongCodes": n(0), "limitCounted": &types.AttributeValueMemberBOOL{}, "createdAt": s("2026-11-01T00:00:00.000Z")})
	r, err := e.plain.Redemption(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWrongCodeCountsOnceWhenResent(t *testing.T) {
	e := newResendEnv(t, "UpdateItem")
	ctx := t.Context()
	r := e.reserved(t, "r1")
	locked, err := e.store.WrongCode(ctx, r, "attempt-1", 5)
	if err != nil || locked {
		t.Fatalf("WrongCode: locked %v, %v; want counted, not locked", locked, err)
	}
	e.lost(t)
	got, err := e.plain.Redemption(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.WrongCodes != 1 {
		t.Fatalf("one wrong code counted %d times", got.WrongCodes)
	}
	// Three more, then the fifth locks: at the fifth, not the fourth.
	for i := 2; i <= 4; i++ {
		if locked, err := e.store.WrongCode(ctx, r, "attempt-"+strconv.Itoa(i), 5); err != nil || locked {
			t.Fatalf("wrong code %d: locked %v, %v", i, locked, err)
		}
	}
	if locked, err := e.store.WrongCode(ctx, r, "attempt-5", 5); err != nil || !locked {
		t.Fatalf("wrong code 5: locked %v, %v; want locked", locked, err)
	}
	if got, _ := e.plain.Redemption(ctx, "r1"); got.WrongCodes != 5 || got.Status != market.Locked {
		t.Errorf("after five wrong codes: %d counted, %s", got.WrongCodes, got.Status)
	}
	// A locked redemption counts no more.
	if _, err := e.store.WrongCode(ctx, r, "attempt-6", 5); !errors.Is(err, market.ErrNotFulfillable) {
		t.Errorf("a wrong code on a locked redemption: %v", err)
	}
}

// The lock itself re-sent: the fifth wrong code's lock write loses its answer.
func TestWrongCodeLockWhenResent(t *testing.T) {
	e := newResendEnv(t, "UpdateItem")
	ctx := t.Context()
	r := e.reserved(t, "r2")
	e.inj.SetEnabled(false)
	for i := 1; i <= 4; i++ {
		if _, err := e.store.WrongCode(ctx, r, "a"+strconv.Itoa(i), 5); err != nil {
			t.Fatal(err)
		}
	}
	e.inj.SetEnabled(true)
	// The fifth's count (its first UpdateItem) loses its answer; then its lock runs.
	if locked, err := e.store.WrongCode(ctx, r, "a5", 5); err != nil || !locked {
		t.Fatalf("fifth wrong code: locked %v, %v", locked, err)
	}
	e.lost(t)
	if got, _ := e.plain.Redemption(ctx, "r2"); got.WrongCodes != 5 || got.Status != market.Locked {
		t.Errorf("%d counted, %s; want 5 and locked", got.WrongCodes, got.Status)
	}
}

func TestCompleteSucceedsWhenResent(t *testing.T) {
	e := newResendEnv(t, "UpdateItem")
	ctx := t.Context()
	r := e.reserved(t, "r3")
	if err := e.store.Complete(ctx, r, time.Now(), "clerk-attempt"); err != nil {
		t.Fatalf("Complete answered %v after completing", err)
	}
	e.lost(t)
	if got, _ := e.plain.Redemption(ctx, "r3"); got.Status != market.Completed {
		t.Fatalf("status %s, want completed", got.Status)
	}
	// Another attempt still loses: exactly one fulfilment wins.
	if err := e.store.Complete(ctx, r, time.Now(), "another"); !errors.Is(err, market.ErrNotFulfillable) {
		t.Errorf("a second fulfilment: %v, want not_fulfillable", err)
	}
}

func TestTakeOverKeySucceedsWhenResent(t *testing.T) {
	e := newResendEnv(t, "UpdateItem")
	ctx := t.Context()
	then := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	dead := idem.Record{Scope: "report", Owner: "u1", Key: "k", BodyHash: "h", Status: idem.InFlight, ResourceID: "rep-1",
		Attempt: "rep-1", LockedUntil: then, ExpiresAt: then.Add(idem.TTL), ClaimedAt: then}
	if held, err := e.plain.ClaimKey(ctx, dead); err != nil || held != nil {
		t.Fatalf("claim: %v %v", held, err)
	}
	mine := dead
	mine.Attempt, mine.LockedUntil = "rep-2", time.Now().Add(idem.Lease)
	if err := e.store.TakeOverKey(ctx, mine, dead.LockedUntil); err != nil {
		t.Fatalf("TakeOverKey answered %v after taking the key over", err)
	}
	e.lost(t)
	// Another request that read the same dead claim is refused; it cannot release ours either.
	other := dead
	other.Attempt, other.LockedUntil = "rep-3", time.Now().Add(idem.Lease)
	if err := e.store.TakeOverKey(ctx, other, dead.LockedUntil); !errors.Is(err, idem.ErrInFlight) {
		t.Errorf("a second take-over: %v, want request_in_flight", err)
	}
	if err := e.plain.ReleaseKey(ctx, other); err != nil {
		t.Fatal(err)
	}
	rec, err := e.plain.IdempotencyRecord(ctx, "report", "u1", "k")
	if err != nil || rec == nil || rec.Attempt != "rep-2" || rec.Status != idem.InFlight {
		t.Errorf("key after the take-over: %+v, %v; want held by rep-2", rec, err)
	}
	// The holder's own release works.
	if err := e.plain.ReleaseKey(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.plain.IdempotencyRecord(ctx, "report", "u1", "k"); rec != nil {
		t.Errorf("the holder's release left %+v", rec)
	}
}

func TestRecordAttemptOnceWhenResent(t *testing.T) {
	e := newResendEnv(t, "UpdateItem")
	ctx := t.Context()
	nt := dispatch.Notification{ID: "msg_r1_municipal_dispatched", Dept: "municipal", Type: "report.dispatched", ReportID: "r1"}
	at := time.Now().UTC()
	if err := e.store.RecordAttempt(ctx, nt, notify.Attempt{At: at, Number: 1, HTTPStatus: 503, Outcome: "retry"}, notify.Retrying); err != nil {
		t.Fatal(err)
	}
	e.lost(t)
	if err := e.store.RecordAttempt(ctx, nt, notify.Attempt{At: at.Add(time.Second), Number: 2, HTTPStatus: 200, Outcome: "delivered"}, notify.Delivered); err != nil {
		t.Fatal(err)
	}
	ds, _, err := e.plain.Deliveries(ctx, "municipal", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || len(ds[0].Attempts) != 2 || ds[0].Status != notify.Delivered {
		t.Fatalf("deliveries %+v, want one delivered with 2 attempts", ds)
	}
	if ds[0].Attempts[0].Number != 1 || ds[0].Attempts[1].Number != 2 {
		t.Errorf("attempts %+v", ds[0].Attempts)
	}
}
