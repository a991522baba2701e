package motoserver

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// BenchmarkStateSaveLoad measures SaveState and LoadState of a table of report-like items (about 1 kB
// each: a JSON document, four GSI key pairs, numbers) and a bucket of photos. Sizes from the environment,
// so `make bench` stays quick:
//
//	CIVICSNAP_STATE_BENCH_ITEMS=100000 CIVICSNAP_STATE_BENCH_OBJECTS=1000 \
//	  go test -run '^$' -bench StateSaveLoad -benchtime 1x ./infra/motoserver
//
// Filling goes through moto's API (BatchWriteItem) and is not measured; save-s and load-s are moto's own
// figures (the time it held its request lock), MB the snapshot on disk.
func BenchmarkStateSaveLoad(b *testing.B) {
	items := envInt(b, "CIVICSNAP_STATE_BENCH_ITEMS", 5000)
	objects := envInt(b, "CIVICSNAP_STATE_BENCH_OBJECTS", 50)
	dir := filepath.Join(b.TempDir(), "state")
	src := startBenchState(b, dir)
	start := time.Now()
	fillReports(b, src, items)
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0x42}, 10_000) // 30 kB
	for i := range objects {
		_, err := src.s3.PutObject(b.Context(), &s3.PutObjectInput{Bucket: aws.String(stateBucket),
			Key: aws.String(fmt.Sprintf("reports/r%06d/0.jpg", i)), Body: bytes.NewReader(photo), ContentType: aws.String("image/jpeg")})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled %d items and %d objects in %s", items, objects, time.Since(start).Round(time.Second))

	var save, load, size float64
	for b.Loop() {
		sum, err := src.srv.SaveState(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if sum.Items != items || sum.Objects != objects {
			b.Fatalf("saved %s; want %d items, %d objects", sum, items, objects)
		}
		save += sum.Seconds
		size = float64(sum.Bytes) / 1e6

		b.StopTimer()
		dst := startBenchState(b, dir)
		b.StartTimer()
		sum, err = dst.srv.LoadState(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if sum.Items != items {
			b.Fatalf("loaded %s; want %d items", sum, items)
		}
		load += sum.Seconds
		b.StopTimer()
		_ = dst.srv.Stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(items), "items")
	b.ReportMetric(save/float64(b.N), "save-s")
	b.ReportMetric(load/float64(b.N), "load-s")
	b.ReportMetric(size, "MB")
}

func startBenchState(b *testing.B, dir string) *stateEnv {
	b.Helper()
	srv, err := Start(b.Context(), Options{StateDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop() })
	cfg, err := srv.AWSConfig(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	e := &stateEnv{srv: srv, db: dynamodb.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg, S3Options), sqs: sqs.NewFromConfig(cfg)}
	e.create(b)
	return e
}

// fillReports writes n report-like items, 25 per BatchWriteItem.
func fillReports(b *testing.B, e *stateEnv, n int) {
	b.Helper()
	doc := `{"category":"street_light","description":"` + strings.Repeat("路灯不亮，夜间行人看不清路面。", 12) +
		`","location":{"lat":23.3752,"lng":103.3905},"photos":[{"key":"reports/x/0.jpg","contentType":"image/jpeg","size":30000}],"anonymous":false}`
	for start := 0; start < n; start += 25 {
		var reqs []types.WriteRequest
		for i := start; i < min(start+25, n); i++ {
			id := fmt.Sprintf("01a22c1d-%08d", i)
			day := fmt.Sprintf("2026-11-%02d", 1+i%30)
			s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk": s("REPORT#" + id), "sk": s("REPORT"), "type": s("report"), "status": s("dispatched"), "doc": s(doc),
				"gsi1pk": s(fmt.Sprintf("USER#u%d", i%5000)), "gsi1sk": s("REPORT#" + day + "T09:00:00Z#" + id),
				"gsi2pk": s("NEAR#street_light#wk3n2" + strconv.Itoa(i%10)), "gsi2sk": s(day + "T09:00:00Z#" + id),
				"gsi3pk": s("CREATED#" + day), "gsi3sk": s(id), "gsi4pk": s("SLA#OPEN"), "gsi4sk": s(day + "#" + id),
				"version": &types.AttributeValueMemberN{Value: "3"}, "ttl": &types.AttributeValueMemberN{Value: "1796036099"},
			}}})
		}
		out, err := e.db.BatchWriteItem(b.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{stateTable: reqs}})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.UnprocessedItems) > 0 {
			b.Fatal("unprocessed items")
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q is not a count", name, v)
	}
	return n
}
