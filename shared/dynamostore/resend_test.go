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
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
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

// tables numbers the tests' tables.
var tables atomic.Int64

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
	return newFaultEnv(t, faults.Options{Seed: 1, PerTen: 10, Max: 1, Kinds: []faults.Kind{faults.LostResponse}, Operations: []string{op}})
}

// newFaultEnv is a resendEnv whose store's calls go through an injector with opts.
func newFaultEnv(t *testing.T, opts faults.Options) *resendEnv {
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
	res, err := tpl.Create(ctx, cfg, fmt.Sprintf("resend%d", tables.Add(1)), motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	inj, err := faults.New(opts)
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
	if _, err := e.store.WrongCode(ctx, r, "attempt-6", 5); !errors.Is(err, market.ErrLocked) {
		t.Errorf("a wrong code on a locked redemption: %v, want redemption_locked", err)
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
	if err := e.store.Complete(ctx, r, time.Now(), "another"); !errors.Is(err, market.ErrCollected) {
		t.Errorf("a second fulfilment: %v, want already_collected", err)
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

// A transaction re-sent after its answer was lost is applied again by a store that ignores its
// ClientRequestToken (moto; DynamoDB honours the token for 10 minutes): it fails on the items it wrote
// itself. CreateReport and Refund recognise their own write there and succeed.
func TestCreateReportSucceedsWhenResent(t *testing.T) {
	e := newResendEnv(t, "TransactWriteItems")
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	claim := idem.Record{Scope: "report", Owner: "u1", Key: "k", BodyHash: "h", Status: idem.InFlight, ResourceID: "rep-1",
		Attempt: "rep-1", LockedUntil: now.Add(idem.Lease), ExpiresAt: now.Add(idem.TTL), ClaimedAt: now}
	if held, err := e.plain.ClaimKey(ctx, claim); err != nil || held != nil {
		t.Fatalf("claim: %v %v", held, err)
	}
	r := report.Report{ID: "rep-1", Status: report.Submitted, Category: "rubbish", Description: "d", ReporterSub: "u1",
		Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: now, UpdatedAt: now,
		Photos:   []report.Photo{{Key: "reports/rep-1/1.jpg", ContentType: "image/jpeg", Size: 10, MetadataStripped: true}},
		Timeline: []report.TimelineEntry{{At: now, Status: report.Submitted, Actor: "citizen"}}}
	done := claim
	done.Status, done.Result = idem.Done, []byte(`{"id":"rep-1"}`)
	if err := e.store.CreateReport(ctx, r, done); err != nil {
		t.Fatalf("CreateReport answered %v after creating the report", err)
	}
	e.lost(t)
	if got, err := e.plain.GetReport(ctx, "rep-1"); err != nil || got.ID != "rep-1" {
		t.Fatalf("report: %+v, %v", got, err)
	}
	// Another request under the same key (a take-over with another attempt) is refused.
	other := done
	other.Attempt = "rep-2"
	if err := e.plain.CreateReport(ctx, r, other); !errors.Is(err, idem.ErrInFlight) {
		t.Errorf("another attempt's create: %v, want request_in_flight", err)
	}
}

func TestRefundOnceWhenResent(t *testing.T) {
	e := newResendEnv(t, "TransactWriteItems")
	ctx := t.Context()
	r := e.reserved(t, "r4")
	if _, err := e.plain.CreateProfile(ctx, "u1", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.put(t, map[string]types.AttributeValue{"pk": s("ITEM#tea"), "sk": s("STOCK#0"), "type": s("stock"), "stock": n(4), "initial": n(5)})
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := market.Refund{Redemption: r, To: market.Cancelled, At: now, Attempt: "cancel-1",
		Entry: points.Entry{ID: "refund-r4", At: now, Delta: r.Amount, Kind: points.KindRefund, RedemptionID: r.ID}}
	if err := e.store.Refund(ctx, f); err != nil {
		t.Fatalf("Refund answered %v after refunding", err)
	}
	e.lost(t)
	p, err := e.plain.Profile(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.plain.LedgerSum(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	stock, err := e.plain.ShardStocks(ctx, market.Item{ID: "tea", Kind: market.Goods})
	if err != nil {
		t.Fatal(err)
	}
	if p.Balance != 10 || sum != 10 || stock[0] != 5 {
		t.Errorf("after one refund of 10: balance %d, ledger %d, stock %d; want 10, 10, 5", p.Balance, sum, stock[0])
	}
	// A second cancellation (another attempt) is refused and writes nothing.
	f.Attempt = "cancel-2"
	if err := e.plain.Refund(ctx, f); !errors.Is(err, market.ErrNotCancellable) {
		t.Errorf("a second cancellation: %v, want not_cancellable", err)
	}
}

// What each injected fault becomes at the domain's edge (finding 4): a conflict is apperr.ErrContention,
// throttling that outlasts the SDK's retries apperr.ErrThrottled — both refusals that wrote nothing —, and
// a call never answered apperr.ErrOutcomeUnknown.
func TestFaultsTranslate(t *testing.T) {
	tests := []struct {
		name string
		kind faults.Kind
		op   string
		want error
	}{
		{"single-item conflict", faults.Conflict, "UpdateItem", apperr.ErrContention},
		{"transaction conflict", faults.Conflict, "TransactWriteItems", apperr.ErrContention},
		{"throttled", faults.Throttle, "UpdateItem", apperr.ErrThrottled},
		{"throttled transaction", faults.Throttle, "TransactWriteItems", apperr.ErrThrottled},
		{"answers lost", faults.LostResponse, "UpdateItem", apperr.ErrOutcomeUnknown},
		{"deadline", faults.Deadline, "TransactWriteItems", apperr.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFaultEnv(t, faults.Options{Seed: 9, PerTen: 10, Kinds: []faults.Kind{tt.kind}, Operations: []string{tt.op}})
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			r := e.reserved(t, "r9")
			var err error
			if tt.op == "UpdateItem" {
				_, err = e.store.WrongCode(ctx, r, "a1", 5)
			} else {
				now := time.Now()
				err = e.store.Refund(ctx, market.Refund{Redemption: r, To: market.Cancelled, At: now, Attempt: "c1",
					Entry: points.Entry{ID: "refund-r9", At: now, Delta: 10, Kind: points.KindRefund, RedemptionID: "r9"}})
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
			if e := apperr.As(err); e == nil || e.RetryAfter <= 0 {
				t.Errorf("%v carries no Retry-After", err)
			}
			if st := e.inj.Stats(); st.Injected[tt.kind] == 0 {
				t.Errorf("faults: %v, want %s injected", st, tt.kind)
			}
		})
	}
}

func TestCaseworkApplySucceedsWhenResent(t *testing.T) {
	e := newResendEnv(t, "TransactWriteItems")
	ctx := t.Context()
	e.inj.SetEnabled(false)
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := report.Report{ID: "rep-7", Status: report.Dispatched, Category: "rubbish", Description: "d", ReporterSub: "u1", LeadDept: "municipal",
		Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: now, UpdatedAt: now,
		Timeline: []report.TimelineEntry{{At: now, Status: report.Submitted, Actor: "citizen"}}}
	key := idem.Record{Scope: "report", Owner: "u1", Key: "k7", BodyHash: "h", Status: idem.Done, ResourceID: "rep-7", Attempt: "rep-7",
		Result: []byte(`{}`), ExpiresAt: now.Add(idem.TTL)}
	if _, err := e.plain.ClaimKey(ctx, idem.Record{Scope: "report", Owner: "u1", Key: "k7", BodyHash: "h", Status: idem.InFlight,
		ResourceID: "rep-7", Attempt: "rep-7", LockedUntil: now.Add(idem.Lease), ExpiresAt: now.Add(idem.TTL)}); err != nil {
		t.Fatal(err)
	}
	if err := e.plain.CreateReport(ctx, r, key); err != nil {
		t.Fatal(err)
	}
	e.inj.SetEnabled(true)
	at := now.Add(time.Second)
	cs := casework.ChangeSet{Report: r, To: report.Accepted, LeadDept: "municipal", Attempt: "change-1", InboundDept: "municipal", InboundID: "msg_1",
		Entry: report.TimelineEntry{At: at, Status: report.Accepted, Actor: "municipal"}}
	if err := e.store.Apply(ctx, cs); err != nil {
		t.Fatalf("Apply answered %v after applying", err)
	}
	e.lost(t)
	got, err := e.plain.GetReport(ctx, "rep-7")
	if err != nil || got.Status != report.Accepted || len(got.Timeline) != 2 {
		t.Fatalf("report %s with %d timeline entries (%v), want accepted with 2", got.Status, len(got.Timeline), err)
	}
	// Another change read before this one is refused.
	cs.Attempt, cs.InboundID = "change-2", "msg_2"
	if err := e.plain.Apply(ctx, cs); !errors.Is(err, dispatch.ErrAlreadyHandled) {
		t.Errorf("a stale change: %v, want already handled", err)
	}
}

// The SDK's error is its last attempt's: a TransactionConflict answering the re-send of a transaction
// whose first answer was lost does not say nothing was written (the first send was applied). CreateReport
// reports the outcome as unknown, so intake learns it from the key instead of deleting the report's photos.
func TestConflictAfterLostAnswerIsUnknown(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 3, Script: []faults.Kind{faults.LostResponse, faults.Conflict}, Operations: []string{"TransactWriteItems"}})
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	claim := idem.Record{Scope: "report", Owner: "u1", Key: "k", BodyHash: "h", Status: idem.InFlight, ResourceID: "rep-9",
		Attempt: "rep-9", LockedUntil: now.Add(idem.Lease), ExpiresAt: now.Add(idem.TTL), ClaimedAt: now}
	if _, err := e.plain.ClaimKey(ctx, claim); err != nil {
		t.Fatal(err)
	}
	r := report.Report{ID: "rep-9", Status: report.Submitted, Category: "rubbish", Description: "d", ReporterSub: "u1",
		Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: now, UpdatedAt: now,
		Timeline: []report.TimelineEntry{{At: now, Status: report.Submitted, Actor: "citizen"}}}
	done := claim
	done.Status, done.Result = idem.Done, []byte(`{}`)
	err := e.store.CreateReport(ctx, r, done)
	if !errors.Is(err, apperr.ErrOutcomeUnknown) || apperr.NotApplied(err) {
		t.Fatalf("CreateReport: %v; want outcome_unknown, not a refusal that wrote nothing", err)
	}
	if _, err := e.plain.GetReport(ctx, "rep-9"); err != nil {
		t.Fatalf("the lost send was applied, yet: %v", err)
	}
}
