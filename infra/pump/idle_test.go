package pump

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

func TestIdleBackoff(t *testing.T) {
	a := newActivity()
	tests := []struct {
		base time.Duration
		n    int
		want time.Duration
	}{
		{150 * time.Millisecond, 0, 150 * time.Millisecond},
		{150 * time.Millisecond, 1, 300 * time.Millisecond},
		{150 * time.Millisecond, 2, 600 * time.Millisecond},
		{150 * time.Millisecond, 3, time.Second},
		{150 * time.Millisecond, 1000, time.Second},
		{2 * time.Second, 5, 2 * time.Second}, // never below the base
	}
	for _, tt := range tests {
		if got := a.idleBackoff(tt.base, tt.n); got != tt.want {
			t.Errorf("idleBackoff(%v, %d) = %v, want %v", tt.base, tt.n, got, tt.want)
		}
	}
}

// quietStream is a stream with one open shard and no records; it counts the calls.
type quietStream struct {
	getRecords atomic.Int32
}

func (q *quietStream) DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &types.StreamDescription{
		Shards: []types.Shard{{ShardId: aws.String("shardId-1"), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1")}}},
	}}, nil
}

func (q *quietStream) GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String("it")}, nil
}

func (q *quietStream) GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	q.getRecords.Add(1)
	return &dynamodbstreams.GetRecordsOutput{NextShardIterator: aws.String("it")}, nil
}

func TestQuietStreamNeitherSpinsNorLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	q := &quietStream{}
	p, err := NewStreamPump(StreamConfig{
		Function: "F", StreamARN: "arn:aws:dynamodb:us-east-1:1:table/t/stream/s", PollInterval: 20 * time.Millisecond,
	}, q, nil, func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(1500 * time.Millisecond)
	// Backing off 20, 40, … 640 ms, then 1 s: about 8 polls in 1.5 s; a fixed 20 ms would be 75.
	if n := q.getRecords.Load(); n < 4 || n > 15 {
		t.Errorf("%d GetRecords in 1.5 s of quiet, want a backed-off handful", n)
	}
	// A Drain cuts the backoff short: it returns within a poll, not after the current second.
	drainStart := time.Now()
	drainCtx, cancelDrain := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancelDrain()
	if err := p.Drain(drainCtx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(drainStart); d > 300*time.Millisecond {
		t.Errorf("Drain of a quiet stream took %v", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Run returned, %d before", n, before)
	}
}
