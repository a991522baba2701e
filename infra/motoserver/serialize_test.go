package motoserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// These tests are the reason serve.py exists. The cancelled-transactions case fails against moto's stock
// threaded server (checked by pointing Options.Script at serve.py with the lock removed): a cancelled
// TransactWriteItems restores a deep copy of the table taken before it ran, erasing writes that committed
// in between, or the copy itself crashes with HTTP 500 because another thread changed the table under it.
// The counter case pins the optimistic-concurrency behaviour the stores build on.

const workers = 50

func TestConcurrentWritesAreSerialized(t *testing.T) {
	t.Parallel()
	srv := ForTest(t)
	cfg, err := srv.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)

	tests := []struct {
		name string
		run  func(t *testing.T, db *dynamodb.Client, table string)
	}{
		{name: "version-conditioned counter", run: testVersionedCounter},
		{name: "cancelled transactions undo nothing else", run: testCancelledTransactions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := "serial-" + strings.ReplaceAll(tt.name, " ", "-")
			createTable(t, db, table)
			tt.run(t, db, table)
		})
	}
}

// testVersionedCounter: every worker increments one counter item with optimistic concurrency (read the
// version, write conditioned on it, retry on conflict): all by TransactWriteItems that also put a marker
// item, some workers once more by a plain conditional UpdateItem. Serialized, the counter and its version
// both equal the number of successful writes, and every successful transaction left its marker.
func testVersionedCounter(t *testing.T, db *dynamodb.Client, table string) {
	ctx := t.Context()
	putItem(t, db, table, map[string]types.AttributeValue{"pk": str("counter"), "n": num(0), "v": num(0)})

	var transacted, updated atomic.Int64
	runWorkers(t, func(w int) error {
		if err := retryOnConflict(ctx, func() error { return transactIncrement(ctx, db, table, w) }); err != nil {
			return fmt.Errorf("worker %d transact: %w", w, err)
		}
		transacted.Add(1)
		if w%5 != 0 {
			return nil
		}
		if err := retryOnConflict(ctx, func() error { return updateIncrement(ctx, db, table) }); err != nil {
			return fmt.Errorf("worker %d update: %w", w, err)
		}
		updated.Add(1)
		return nil
	})

	item := getItem(t, db, table, "counter")
	want := transacted.Load() + updated.Load()
	if want != workers+workers/5 {
		t.Fatalf("successful writes = %d, want %d", want, workers+workers/5)
	}
	if n, v := numAttr(t, item, "n"), numAttr(t, item, "v"); n != want || v != want {
		t.Errorf("counter n=%d v=%d after %d successful conditional writes; writes were lost", n, v, want)
	}
	if got := countPrefix(t, db, table, "marker#"); got != transacted.Load() {
		t.Errorf("markers = %d, want %d (one per committed transaction)", got, transacted.Load())
	}
}

// testCancelledTransactions: half the workers commit transactions that put new items while the other half
// run transactions that are always cancelled (their condition check is on a missing item). The table is
// pre-filled so that moto's snapshot of it takes a while, which widens the window in which the stock
// server loses the committed puts.
func testCancelledTransactions(t *testing.T, db *dynamodb.Client, table string) {
	ctx := t.Context()
	const (
		rounds = 4
		// fillItems makes moto's per-transaction deep copy of the table slow enough that, on the stock
		// server, 50 workers reliably collide inside it: at 300 the stock server failed 3 runs in 5 (lost
		// writes or HTTP 500 "dictionary changed size during iteration"), at 1000 all 5.
		fillItems = 1000
	)
	fill(t, db, table, fillItems)

	var committed, cancelled atomic.Int64
	runWorkers(t, func(w int) error {
		for i := range rounds {
			var items []types.TransactWriteItem
			if w%2 == 0 {
				items = []types.TransactWriteItem{{Put: &types.Put{
					TableName:           aws.String(table),
					Item:                map[string]types.AttributeValue{"pk": str(fmt.Sprintf("put#%d#%d", w, i))},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}}}
			} else {
				items = []types.TransactWriteItem{
					{ConditionCheck: &types.ConditionCheck{
						TableName:           aws.String(table),
						Key:                 map[string]types.AttributeValue{"pk": str("absent")},
						ConditionExpression: aws.String("attribute_exists(pk)"),
					}},
					{Put: &types.Put{
						TableName: aws.String(table),
						Item:      map[string]types.AttributeValue{"pk": str(fmt.Sprintf("never#%d#%d", w, i))},
					}},
				}
			}
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			var canceled *types.TransactionCanceledException
			switch {
			case err == nil && w%2 == 0:
				committed.Add(1)
			case errors.As(err, &canceled) && w%2 == 1:
				cancelled.Add(1)
			default:
				return fmt.Errorf("worker %d round %d: unexpected result %v", w, i, err)
			}
		}
		return nil
	})

	if got, want := countPrefix(t, db, table, "put#"), committed.Load(); got != want {
		t.Errorf("items from committed transactions = %d, want %d; %d cancelled transactions erased writes",
			got, want, want-got)
	}
	if got := countPrefix(t, db, table, "never#"); got != 0 {
		t.Errorf("items from cancelled transactions = %d, want 0", got)
	}
	if got := countPrefix(t, db, table, "fill#"); got != fillItems {
		t.Errorf("pre-filled items = %d, want %d", got, fillItems)
	}
}

func transactIncrement(ctx context.Context, db *dynamodb.Client, table string, w int) error {
	v, err := readVersion(ctx, db, table)
	if err != nil {
		return err
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 aws.String(table),
			Key:                       map[string]types.AttributeValue{"pk": str("counter")},
			UpdateExpression:          aws.String("SET n = n + :one, v = :next"),
			ConditionExpression:       aws.String("v = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":v": num(v), ":next": num(v + 1)},
		}},
		{Put: &types.Put{
			TableName:           aws.String(table),
			Item:                map[string]types.AttributeValue{"pk": str(fmt.Sprintf("marker#%d", w))},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}},
	}})
	return err
}

func updateIncrement(ctx context.Context, db *dynamodb.Client, table string) error {
	v, err := readVersion(ctx, db, table)
	if err != nil {
		return err
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": str("counter")},
		UpdateExpression:          aws.String("SET n = n + :one, v = :next"),
		ConditionExpression:       aws.String("v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":v": num(v), ":next": num(v + 1)},
	})
	return err
}

func readVersion(ctx context.Context, db *dynamodb.Client, table string) (int64, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": str("counter")},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("read version: %w", err)
	}
	v, ok := out.Item["v"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, errors.New("read version: counter has no numeric v")
	}
	return strconv.ParseInt(v.Value, 10, 64)
}

// retryOnConflict repeats op until it is not rejected by a condition, with growing jitter so that 50
// workers do not retry in lockstep (which only wastes requests: one of them wins each round either way).
func retryOnConflict(ctx context.Context, op func() error) error {
	for attempt := 0; ; attempt++ {
		err := op()
		var condFailed *types.ConditionalCheckFailedException
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &condFailed) && !errors.As(err, &canceled) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(min(5*time.Millisecond<<attempt, 200*time.Millisecond))):
		}
	}
}

// runWorkers runs fn for workers goroutines at once and fails the test with their errors.
func runWorkers(t *testing.T, fn func(w int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-start // release everyone together: the point is contention
			if err := fn(w); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func createTable(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", table, err)
	}
}

func fill(t *testing.T, db *dynamodb.Client, table string, n int) {
	t.Helper()
	for start := 0; start < n; start += 25 {
		var reqs []types.WriteRequest
		for i := start; i < min(start+25, n); i++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk":      str(fmt.Sprintf("fill#%d", i)),
				"payload": str(strings.Repeat("x", 200)),
			}}})
		}
		out, err := db.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs},
		})
		if err != nil || len(out.UnprocessedItems) > 0 {
			t.Fatalf("fill %s: %v (unprocessed %d)", table, err, len(out.UnprocessedItems))
		}
	}
}

func putItem(t *testing.T, db *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("put item: %v", err)
	}
}

func getItem(t *testing.T, db *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": str(pk)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get %s: %v (found %v)", pk, err, out != nil && out.Item != nil)
	}
	return out.Item
}

// countPrefix counts items whose pk starts with prefix. A Scan is fine here: the table is the test's own.
func countPrefix(t *testing.T, db *dynamodb.Client, table, prefix string) int64 {
	t.Helper()
	var total int64
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          aws.String("begins_with(pk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(prefix)},
		Select:                    types.SelectCount,
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("count %s: %v", prefix, err)
		}
		total += int64(out.Count)
	}
	return total
}

func numAttr(t *testing.T, item map[string]types.AttributeValue, name string) int64 {
	t.Helper()
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("attribute %s is not a number: %#v", name, item[name])
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatalf("attribute %s: %v", name, err)
	}
	return n
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
