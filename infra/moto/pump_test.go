package moto

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/pump"
)

// TestPumpRecoversFromTrimmedStream: the local stream pump outlives both expiries the patches added.
// Its iterator expires while its handler is busy, and by then the records after the last one it read have
// been trimmed too, so getting a new iterator after that record fails with TrimmedDataAccessException;
// the pump must then start again at TRIM_HORIZON, as Lambda does, and deliver what the stream still holds.
// (Seconds stand for DynamoDB's 15 minutes and 24 hours; on a laptop that sleeps over a day it happens.)
func TestPumpRecoversFromTrimmedStream(t *testing.T) {
	t.Parallel()
	// records live 3 s: longer than the pump's 1 s pause after a failed read, so that it can still find
	// the record written after the trim; iterators live 1 s, less than the handler is kept busy
	const age = 3200 * time.Millisecond
	srv, err := motoserver.Start(t.Context(), motoserver.Options{Args: []string{"--stream-retention", "3", "--shard-iterator-lifetime", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db, streams, arn, _ := streamTable(t, srv)
	put := func(pk string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("retention"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}}); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu       sync.Mutex
		got      []string
		release  = make(chan struct{})
		received = make(chan string, 10)
	)
	handler := func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		for _, r := range ev.Records {
			pk := r.Change.Keys["pk"].String()
			mu.Lock()
			got = append(got, pk)
			mu.Unlock()
			received <- pk
			if pk == "first" {
				<-release // busy while the stream moves on
			}
		}
		return events.DynamoDBEventResponse{}, nil
	}
	p, err := pump.NewStreamPump(pump.StreamConfig{Function: "Test", StreamARN: aws.ToString(arn), MaximumRetryAttempts: -1}, streams, nil, handler, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if err := p.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	put("first")
	select {
	case <-received:
	case <-ctx.Done():
		t.Fatal("the pump never delivered the first record")
	}
	put("lost") // trimmed before the pump reads it: never delivered, as in DynamoDB
	time.Sleep(age)
	put("last") // trims "first" and "lost"
	close(release)
	select {
	case pk := <-received:
		if pk != "last" {
			t.Errorf("after the trim the pump delivered %q, want last", pk)
		}
	case <-time.After(15 * time.Second):
		t.Error("the pump did not recover from the trimmed position within 15 s")
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	t.Logf("delivered %v", got)
}
