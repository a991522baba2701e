package moto

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// TestStreamRetention: with retention and iterator lifetime cut to a second (serve.py flags), stream
// records and shard iterators expire as in DynamoDB, and the SDK decodes moto's answers into its own
// TrimmedDataAccessException and ExpiredIteratorException, which is what infra/pump reacts to. (That
// stock moto keeps every record and iterator is shown by test_patches.py's ..._without_patch tests.)
func TestStreamRetention(t *testing.T) {
	t.Parallel()
	// Retention and iterator lifetime of 3 s, not less: the calls between issuing an iterator and using it
	// must fit in the lifetime even on a loaded CI machine (a 1 s lifetime leaves a busy machine no margin).
	const age = 3200 * time.Millisecond // past 3 s plus the 1/32 batching slack of the trim
	srv, err := motoserver.Start(t.Context(), motoserver.Options{Args: []string{"--stream-retention", "3", "--shard-iterator-lifetime", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	ctx := context.Background()
	db, streams, arn, shard := streamTable(t, srv)
	iterator := func(kind stypes.ShardIteratorType, seq string) (*string, error) {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: kind}
		if seq != "" {
			in.SequenceNumber = aws.String(seq)
		}
		out, err := streams.GetShardIterator(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.ShardIterator, nil
	}
	put := func(pk string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("retention"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}}); err != nil {
			t.Fatal(err)
		}
	}

	old, err := iterator(stypes.ShardIteratorTypeTrimHorizon, "")
	if err != nil {
		t.Fatal(err)
	}
	put("old")
	first, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: old})
	if err != nil || len(first.Records) != 1 {
		t.Fatalf("GetRecords = %v, %v; want the one record", first, err)
	}
	oldSeq := aws.ToString(first.Records[0].Dynamodb.SequenceNumber)
	time.Sleep(age)
	put("new") // trims "old"

	var trimmed *stypes.TrimmedDataAccessException
	if _, err := iterator(stypes.ShardIteratorTypeAtSequenceNumber, oldSeq); !errors.As(err, &trimmed) {
		t.Errorf("GetShardIterator at a trimmed record: %v, want TrimmedDataAccessException", err)
	}
	horizon, err := iterator(stypes.ShardIteratorTypeTrimHorizon, "")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: horizon})
	if err != nil || len(recs.Records) != 1 || recs.Records[0].Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value != "new" {
		t.Fatalf("TRIM_HORIZON after the trim = %v, %v; want only the new record", recs, err)
	}
	if got, _ := new(big.Int).SetString(aws.ToString(recs.Records[0].Dynamodb.SequenceNumber), 10); got == nil || got.Cmp(seqAfter(oldSeq)) != 0 {
		t.Errorf("sequence number after the trim %v, want %v: numbering goes on", got, seqAfter(oldSeq))
	}

	// old was issued more than a second ago: expired (the check runs on every GetRecords)
	var expired *stypes.ExpiredIteratorException
	if _, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: old}); !errors.As(err, &expired) {
		t.Errorf("GetRecords with an expired iterator: %v, want ExpiredIteratorException", err)
	}
	time.Sleep(age)
	if _, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: recs.NextShardIterator}); !errors.As(err, &expired) {
		t.Errorf("GetRecords with an iterator issued %s ago: %v, want ExpiredIteratorException", age, err)
	}
}

// streamTable creates table "retention" with a stream and returns clients, the stream's ARN and its shard.
func streamTable(t *testing.T, srv *motoserver.Server) (*dynamodb.Client, *dynamodbstreams.Client, *string, *string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// no SDK retries: an expected error must reach the test as it is
	cfg.RetryMaxAttempts = 1
	db, streams := dynamodb.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg)
	arn, shard := motoserver.StreamTable(t, db, streams, "retention")
	return db, streams, arn, shard
}

// seqAfter returns the sequence number after seq (they do not fit an int64).
func seqAfter(seq string) *big.Int {
	n, ok := new(big.Int).SetString(seq, 10)
	if !ok {
		return nil
	}
	return n.Add(n, big.NewInt(1))
}
