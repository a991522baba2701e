package moto

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// The benchmarks measure one request against a table of the template's shape (template.yaml: pk/sk, four
// GSIs, stream, TTL) holding 1,000, 10,000 or 100,000 civicsnap-shaped items. The partitions the requests
// touch are the same size at every table size (a bench user's 60 ledger entries, 60 reports in one
// citizen's gsi1 partition), so a cost that grows with the table shows as a ratio between sub-benchmarks;
// the target is at most 1.5× from 1,000 to 100,000 items.
//
//	go test -run '^$' -bench . -benchtime 200x ./infra/moto/
//	MOTO_BENCH_ARGS="--without-patch query_indexes --without-patch transaction_undo_log" go test ... (stock)
//	MOTO_BENCH_SIZES=1000,10000 go test ... (fewer sizes: stock moto at 100,000 takes minutes per op)
//
// Each table is loaded once per process with BatchWriteItem (the 100,000 take a minute or two). The
// moto-MiB metric is moto's resident memory after the sub-benchmark.

var sizes = benchSizes()

func benchSizes() []int {
	raw := os.Getenv("MOTO_BENCH_SIZES")
	if raw == "" {
		return []int{1000, 10000, 100000}
	}
	var out []int
	for _, s := range strings.Split(raw, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

const (
	hotUser    = "USER#bench"
	hotCitizen = "CITIZEN#bench"
	hotItem    = "ITEM#bench"
	hotEntries = 60 // ledger entries of hotUser, and reports of hotCitizen
)

type fixture struct {
	srv    *motoserver.Server
	db     *dynamodb.Client
	tables map[int]string
	err    error
}

var (
	benchOnce sync.Once
	bench     fixture
	tableMu   sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.srv != nil {
		_ = bench.srv.Stop()
	}
	os.Exit(code)
}

// table returns the name of a loaded table of n items, starting moto and loading it on first use.
func table(b *testing.B, n int) string {
	b.Helper()
	benchOnce.Do(func() {
		srv, err := motoserver.Start(context.Background(), motoserver.Options{Args: strings.Fields(os.Getenv("MOTO_BENCH_ARGS"))})
		if err != nil {
			bench.err = err
			return
		}
		cfg, err := srv.AWSConfig(context.Background())
		if err != nil {
			bench.err = err
			return
		}
		bench = fixture{srv: srv, db: dynamodb.NewFromConfig(cfg), tables: map[int]string{}}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	tableMu.Lock()
	defer tableMu.Unlock()
	if name, ok := bench.tables[n]; ok {
		return name
	}
	b.StopTimer()
	defer b.StartTimer()
	name, err := load(b, n)
	if err != nil {
		b.Fatal(err)
	}
	bench.tables[n] = name
	return name
}

// load creates a table from the template and fills it with n items: the hot partitions, then reports,
// ledger entries and idempotency records of many users, citizens, departments and days.
func load(b *testing.B, n int) (string, error) {
	ctx := context.Background()
	root, err := motoserver.ModuleRoot()
	if err != nil {
		return "", err
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return "", err
	}
	cfg, err := bench.srv.AWSConfig(ctx)
	if err != nil {
		return "", err
	}
	res, err := tpl.Create(ctx, cfg, fmt.Sprintf("bench%d", n), motoserver.S3Options)
	if err != nil {
		return "", err
	}
	name := res.Tables["Table"].Name
	items := make([]map[string]types.AttributeValue, 0, n)
	items = append(items,
		map[string]types.AttributeValue{"pk": s(hotUser), "sk": s("PROFILE"), "balance": num(1 << 60), "version": num(0)},
		map[string]types.AttributeValue{"pk": s(hotItem), "sk": s("META"), "name": s("tea"), "cost": num(7)},
	)
	for i := range hotEntries {
		items = append(items, ledger(hotUser, i), report(i, hotCitizen))
	}
	for i := len(items); i < n; i++ {
		switch i % 4 {
		case 0, 1:
			items = append(items, report(i, fmt.Sprintf("CITIZEN#c%d", i%997)))
		case 2:
			items = append(items, ledger(fmt.Sprintf("USER#u%d", i%991), i))
		default:
			items = append(items, map[string]types.AttributeValue{"pk": s(fmt.Sprintf("IDEMP#%d", i)), "sk": s("IDEMP"),
				"status": s("done"), "response": s(strings.Repeat("r", 120)), "ttl": num(int64(1_900_000_000 + i))})
		}
	}
	b.Logf("loading %d items into %s", len(items), name)
	// four writers: moto applies one request at a time, but the client-side work overlaps
	batches := make(chan []map[string]types.AttributeValue)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				if err := writeBatch(ctx, name, batch); err != nil {
					errs <- err
					for range batches { // drain
					}
					return
				}
			}
		}()
	}
	for start := 0; start < len(items); start += 25 {
		batches <- items[start:min(start+25, len(items))]
	}
	close(batches)
	wg.Wait()
	close(errs)
	return name, <-errs
}

func writeBatch(ctx context.Context, table string, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	in := map[string][]types.WriteRequest{table: reqs}
	for len(in) > 0 {
		out, err := bench.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
		if err != nil {
			return err
		}
		in = out.UnprocessedItems
	}
	return nil
}

// report is shaped like a civicsnap report: the citizen's list (gsi1), the department's queue by SLA
// deadline (gsi2), the day's reports (gsi3).
func report(i int, citizen string) map[string]types.AttributeValue {
	day := fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i%28)
	at := fmt.Sprintf("%sT%02d:%02d:%02dZ", day, i%24, i%60, (i/60)%60)
	id := fmt.Sprintf("r%07d", i)
	return map[string]types.AttributeValue{
		"pk": s("REPORT#" + id), "sk": s("META"),
		"gsi1pk": s(citizen), "gsi1sk": s("REPORT#" + at + "#" + id),
		"gsi2pk": s(fmt.Sprintf("DEPT#d%d#STATUS#dispatched", i%12)), "gsi2sk": s("SLA#" + at + "#" + id),
		"gsi3pk": s("DAY#" + day), "gsi3sk": s("CREATED#" + at + "#" + id),
		"category": s("pothole"), "status": s("dispatched"), "geohash": s("wk3n5p8q"),
		"description": s(strings.Repeat("A hole in the road near the market. ", 5)),
		"photos":      &types.AttributeValueMemberL{Value: []types.AttributeValue{s("photos/" + id + "/1.jpg")}},
		"timeline": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"at": s(at), "status": s("submitted"), "by": s(citizen)}}}},
		"createdAt": s(at), "version": num(1),
	}
}

func ledger(user string, i int) map[string]types.AttributeValue {
	at := fmt.Sprintf("2026-%02d-%02dT%02d:%02d:00Z", 1+i%12, 1+i%28, i%24, i%60)
	return map[string]types.AttributeValue{
		"pk": s(user), "sk": s(fmt.Sprintf("LEDGER#%s#%07d", at, i)),
		"kind": s("award"), "delta": num(10), "reportId": s(fmt.Sprintf("r%07d", i)), "createdAt": s(at),
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// rss reports moto's resident memory after the benchmark, from /proc (Linux; nothing elsewhere).
func rss(b *testing.B) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", bench.srv.Pid()))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				b.ReportMetric(kb/1024, "moto-MiB")
			}
		}
	}
}

// motoCPU is moto's CPU time so far (user and system), from /proc (Linux; 0 elsewhere). Unlike the
// latency, it hardly depends on what else the machine runs, so the moto-cpu-ms/op metric it gives
// compares runs made on a busy machine.
func motoCPU() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", bench.srv.Pid()))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // after the command name: field 3 on
	if len(f) < 13 {
		return 0
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime in clock ticks
	sys, err2 := strconv.ParseInt(f[12], 10, 64)  // field 15, stime
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(user+sys) * time.Second / 100 // USER_HZ is 100 on Linux
}

func eachSize(b *testing.B, run func(b *testing.B, table string)) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			name := table(b, n)
			cpu := motoCPU()
			b.ResetTimer()
			run(b, name)
			b.StopTimer()
			if cpu > 0 {
				b.ReportMetric(float64(motoCPU()-cpu)/float64(time.Millisecond)/float64(b.N), "moto-cpu-ms/op")
			}
			rss(b)
		})
	}
}

// BenchmarkTransactWriteItems: a redemption-shaped transaction — the balance conditionally decremented,
// a ledger-like record put (over one of a few keys, so the table does not grow), a stock shard updated, the
// catalog item checked.
func BenchmarkTransactWriteItems(b *testing.B) {
	ctx := context.Background()
	eachSize(b, func(b *testing.B, table string) {
		for i := range b.N {
			if _, err := bench.db.TransactWriteItems(ctx, redemption(table, i, "attribute_exists(pk)")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTransactWriteItemsCancelled: the same transaction cancelled by its last operation, so every
// write before it is rolled back.
func BenchmarkTransactWriteItemsCancelled(b *testing.B) {
	ctx := context.Background()
	eachSize(b, func(b *testing.B, table string) {
		for i := range b.N {
			_, err := bench.db.TransactWriteItems(ctx, redemption(table, i, "attribute_not_exists(pk)"))
			var cancelled *types.TransactionCanceledException
			if !errors.As(err, &cancelled) {
				b.Fatalf("want a cancelled transaction, got %v", err)
			}
		}
	})
}

func redemption(table string, i int, check string) *dynamodb.TransactWriteItemsInput {
	return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String(table), Key: key(hotUser, "PROFILE"),
			UpdateExpression:          aws.String("SET balance = balance - :c, version = version + :one"),
			ConditionExpression:       aws.String("balance >= :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": num(7), ":one": num(1)}}},
		{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": s(hotUser), "sk": s(fmt.Sprintf("REDEMPTION#%02d", i%20)), "item": s(hotItem), "amount": num(7),
			"gsi4pk": s("RESERVED"), "gsi4sk": s(fmt.Sprintf("EXPIRES#%08d", i))}}},
		{Update: &types.Update{TableName: aws.String(table), Key: key(hotItem, fmt.Sprintf("STOCK#%d", i%4)),
			UpdateExpression: aws.String("ADD stock :minus"), ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key(hotItem, "META"), ConditionExpression: aws.String(check)}},
	}}
}

// BenchmarkQuery: a user's newest ledger entries, a page of 20 from a partition of 60.
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	eachSize(b, func(b *testing.B, table string) {
		for range b.N {
			out, err := bench.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table),
				KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(hotUser), ":p": s("LEDGER#")},
				ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(20)})
			if err != nil || len(out.Items) != 20 {
				b.Fatalf("query: %d items, %v", itemsOf(out), err)
			}
		}
	})
}

// BenchmarkIndexQuery: a citizen's newest reports through gsi1, a page of 20 from a partition of 60.
func BenchmarkIndexQuery(b *testing.B) {
	ctx := context.Background()
	eachSize(b, func(b *testing.B, table string) {
		for range b.N {
			out, err := bench.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("gsi1"),
				KeyConditionExpression:    aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :p)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(hotCitizen), ":p": s("REPORT#")},
				ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(20)})
			if err != nil || len(out.Items) != 20 {
				b.Fatalf("index query: %d items, %v", itemsOf(out), err)
			}
		}
	})
}

func itemsOf(out *dynamodb.QueryOutput) int {
	if out == nil {
		return -1
	}
	return len(out.Items)
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}
