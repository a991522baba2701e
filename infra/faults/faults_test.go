package faults_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/infra/faults"
)

// fakeDynamo answers every DynamoDB request with 200 {} and counts them by operation.
type fakeDynamo struct {
	mu  sync.Mutex
	ops map[string]int
}

func (f *fakeDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.ops[strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")]++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write([]byte(`{}`))
}

func (f *fakeDynamo) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops[op]
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup returns a DynamoDB client on a fake endpoint through an injector with opts, and the fake.
func setup(t *testing.T, opts faults.Options, attempts int) (*dynamodb.Client, *faults.Injector, *fakeDynamo) {
	t.Helper()
	fake := &fakeDynamo{ops: map[string]int{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	if opts.Log == nil {
		opts.Log = quiet()
	}
	inj, err := faults.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		HTTPClient: inj.Wrap(srv.Client()), RetryMaxAttempts: attempts}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) }), inj, fake
}

var key = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}

func update(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key, UpdateExpression: aws.String("SET a = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberN{Value: "1"}}})
	return err
}

func transact(ctx context.Context, db *dynamodb.Client, n int) error {
	items := make([]types.TransactWriteItem, n)
	for i := range items {
		items[i] = types.TransactWriteItem{Put: &types.Put{TableName: aws.String("t"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: strconv.Itoa(i)}}}}
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func TestConflict(t *testing.T) {
	db, inj, fake := setup(t, faults.Options{Seed: 7, PerTen: 10, Kinds: []faults.Kind{faults.Conflict}}, 1)
	ctx := t.Context()

	var tce *types.TransactionConflictException
	if err := update(ctx, db); !errors.As(err, &tce) {
		t.Fatalf("UpdateItem: %v, want TransactionConflictException", err)
	}
	for range 5 {
		err := transact(ctx, db, 3)
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) {
			t.Fatalf("TransactWriteItems: %v, want TransactionCanceledException", err)
		}
		var codes []string
		for _, r := range tc.CancellationReasons {
			codes = append(codes, aws.ToString(r.Code))
		}
		if len(codes) != 3 || strings.Count(strings.Join(codes, ","), "TransactionConflict") != 1 || strings.Count(strings.Join(codes, ","), "None") != 2 {
			t.Fatalf("reasons %v, want one TransactionConflict and None for the other two items", codes)
		}
	}
	// A read cannot conflict: it is throttled instead.
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode() != "ProvisionedThroughputExceededException" && apiErr.ErrorCode() != "ThrottlingException") {
		t.Fatalf("GetItem: %v, want a throttling error", err)
	}
	if n := fake.count("UpdateItem") + fake.count("TransactWriteItems") + fake.count("GetItem"); n != 0 {
		t.Errorf("%d refused requests reached DynamoDB, want 0", n)
	}
	st := inj.Stats()
	if st.Calls != 7 || st.Injected[faults.Conflict] != 6 || st.Injected[faults.Throttle] != 1 {
		t.Errorf("stats %v, want 7 calls: 6 conflicts and 1 throttle", st)
	}
}

func TestThrottleIsRetriedBySDK(t *testing.T) {
	db, inj, fake := setup(t, faults.Options{Seed: 3, PerTen: 1, Kinds: []faults.Kind{faults.Throttle}}, 0)
	for range 20 {
		if err := update(t.Context(), db); err != nil {
			t.Fatalf("UpdateItem: %v (a throttled attempt must be retried)", err)
		}
	}
	st := inj.Stats()
	if got := fake.count("UpdateItem"); got != 20 {
		t.Errorf("DynamoDB saw %d UpdateItems, want 20 (throttled attempts apply nothing)", got)
	}
	if st.Injected[faults.Throttle] < 2 || st.Calls != 20+st.Injected[faults.Throttle] {
		t.Errorf("stats %v: want every throttled attempt followed by one more", st)
	}
}

// The lost response is the SDK's re-send: DynamoDB sees the request twice, the caller one success.
func TestLostResponseResends(t *testing.T) {
	db, inj, fake := setup(t, faults.Options{Seed: 11, PerTen: 1, Kinds: []faults.Kind{faults.LostResponse}}, 0)
	for range 10 {
		if err := update(t.Context(), db); err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
	}
	if got := fake.count("UpdateItem"); got != 11 {
		t.Errorf("DynamoDB saw %d UpdateItems, want 11 (10 calls, one of them sent twice)", got)
	}
	if st := inj.Stats(); st.Injected[faults.LostResponse] != 1 || st.ByOp["UpdateItem"] != 1 {
		t.Errorf("stats %v, want one lost response on UpdateItem", st)
	}
	// Max 1 loses exactly the first answer.
	db2, inj2, fake2 := setup(t, faults.Options{Seed: 11, PerTen: 10, Max: 1, Kinds: []faults.Kind{faults.LostResponse}}, 0)
	for range 3 {
		if err := update(t.Context(), db2); err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
	}
	if got, st := fake2.count("UpdateItem"), inj2.Stats(); got != 4 || st.Faulted() != 1 || st.Calls != 4 {
		t.Errorf("Max 1: DynamoDB saw %d UpdateItems (want 4), stats %v (want 1 fault in 4 calls)", got, st)
	}
	// With no retries left the caller sees the transport error.
	db1, _, fake1 := setup(t, faults.Options{Seed: 11, PerTen: 10, Kinds: []faults.Kind{faults.LostResponse}}, 1)
	if err := update(t.Context(), db1); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("UpdateItem: %v, want a connection reset", err)
	}
	if got := fake1.count("UpdateItem"); got != 1 {
		t.Errorf("DynamoDB saw %d UpdateItems, want 1: the write was applied", got)
	}
}

func TestDeadline(t *testing.T) {
	db, inj, fake := setup(t, faults.Options{Seed: 5, PerTen: 10, Kinds: []faults.Kind{faults.Deadline}}, 0)
	for range 8 {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		start := time.Now()
		err := update(ctx, db)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("UpdateItem: %v, want the context's deadline", err)
		}
		if time.Since(start) < 25*time.Millisecond {
			t.Fatalf("returned before the deadline")
		}
	}
	applied := fake.count("UpdateItem")
	if applied == 0 || applied == 8 {
		t.Errorf("%d of 8 timed-out calls were applied, want some and not all (seed 5)", applied)
	}
	// Without a deadline the fault is a lost response, so a test cannot hang.
	// (Every attempt is faulted here, so the SDK gives up after its four.)
	if err := update(context.Background(), db); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("UpdateItem without deadline: %v, want connection resets", err)
	}
	if st := inj.Stats(); st.Injected[faults.Deadline] != 8 || st.Injected[faults.LostResponse] != 4 {
		t.Errorf("stats %v", st)
	}
}

// Exactly PerTen of every ten calls fail, and one seed replays the same faults.
func TestRateAndReplay(t *testing.T) {
	run := func(seed uint64, perTen int) []string {
		db, inj, _ := setup(t, faults.Options{Seed: seed, PerTen: perTen, Kinds: []faults.Kind{faults.Conflict, faults.Throttle}}, 1)
		var out []string
		for range 100 {
			err := update(t.Context(), db)
			var apiErr smithy.APIError
			switch {
			case err == nil:
				out = append(out, "ok")
			case errors.As(err, &apiErr):
				out = append(out, apiErr.ErrorCode())
			default:
				t.Fatal(err)
			}
		}
		if st := inj.Stats(); st.Calls != 100 || st.Faulted() != int64(perTen*10) {
			t.Errorf("seed %d: %v, want %d faults in 100 calls", seed, st, perTen*10)
		}
		return out
	}
	a, b, c := run(42, 1), run(42, 1), run(43, 1)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("the same seed gave different faults")
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Error("seeds 42 and 43 gave the same faults")
	}
	for i := 0; i < 100; i += 10 {
		n := 0
		for _, s := range a[i : i+10] {
			if s != "ok" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("calls %d-%d: %d faults, want 1", i, i+9, n)
		}
	}
	run(42, 3)
}

func TestSeedFromEnvironment(t *testing.T) {
	t.Setenv(faults.SeedEnv, "12345")
	inj, err := faults.New(faults.Options{Log: quiet()})
	if err != nil || inj.Seed() != 12345 {
		t.Fatalf("seed %d, %v; want 12345 from %s", inj.Seed(), err, faults.SeedEnv)
	}
	t.Setenv(faults.SeedEnv, "x")
	if _, err := faults.New(faults.Options{Log: quiet()}); err == nil {
		t.Error("a malformed seed was accepted")
	}
	t.Setenv(faults.SeedEnv, "")
	a, _ := faults.New(faults.Options{Log: quiet()})
	if a.Seed() == 0 {
		t.Error("no seed drawn")
	}
}

// Other services, unlisted operations and a disabled injector pass through uncounted.
func TestPassThrough(t *testing.T) {
	db, inj, fake := setup(t, faults.Options{Seed: 1, PerTen: 10, Operations: []string{"TransactWriteItems"}}, 1)
	for range 3 {
		if err := update(t.Context(), db); err != nil {
			t.Fatalf("UpdateItem is not listed but failed: %v", err)
		}
	}
	inj.SetEnabled(false)
	if err := transact(t.Context(), db, 2); err != nil {
		t.Fatalf("disabled injector: %v", err)
	}
	if st := inj.Stats(); st.Calls != 0 || st.Faulted() != 0 {
		t.Errorf("stats %v, want nothing counted", st)
	}
	if fake.count("UpdateItem") != 3 || fake.count("TransactWriteItems") != 1 {
		t.Errorf("fake saw %v", fake.ops)
	}
	// An S3-like request has no X-Amz-Target.
	inj.SetEnabled(true)
	var hits int
	c := inj.Wrap(clientFunc(func(r *http.Request) (*http.Response, error) {
		hits++
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(""))}, nil
	}))
	req, _ := http.NewRequest(http.MethodPut, "http://s3.local/bucket/key", nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 200 || hits != 1 {
		t.Errorf("S3 request: %v %v, hits %d", resp, err, hits)
	}
}

type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// A script faults the first calls with the kinds it lists, in order, then lets every call pass.
func TestScript(t *testing.T) {
	db, inj, fake := setup(t, faults.Options{Seed: 2, Script: []faults.Kind{faults.LostResponse, faults.Conflict}}, 0)
	var tce *types.TransactionConflictException
	if err := update(t.Context(), db); !errors.As(err, &tce) {
		t.Fatalf("UpdateItem: %v, want the conflict that answered the re-send", err)
	}
	if got := fake.count("UpdateItem"); got != 1 {
		t.Errorf("DynamoDB saw %d UpdateItems, want 1 (the lost one)", got)
	}
	if err := update(t.Context(), db); err != nil {
		t.Fatalf("after the script: %v", err)
	}
	if st := inj.Stats(); st.Calls != 3 || st.Injected[faults.LostResponse] != 1 || st.Injected[faults.Conflict] != 1 {
		t.Errorf("stats %v", st)
	}
}
