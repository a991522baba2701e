package motoserver

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// TestStreamSurvivesCancelledTransaction: stock moto replaces a table with a pre-transaction copy when a
// TransactWriteItems is cancelled, and existing shard iterators then never see another record. serve.py
// keeps the shard (patch transaction_undo_log, or keep_stream_shards_on_rollback without it); a reader
// positioned before the cancelled transaction must see what is written after it, and none of the
// rolled-back writes. Stock moto (both patches left out) shows the bug the test is about.
func TestStreamSurvivesCancelledTransaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "patched", want: "[a c]"},
		{name: "legacy patch", args: []string{"--without-patch", "transaction_undo_log"}, want: "[a c]"},
		// stock moto: the reader sees the rolled-back b, and never c (written to the restored copy's shard)
		{name: "stock moto", args: []string{"--without-patch", "transaction_undo_log", "--without-patch", "keep_stream_shards_on_rollback"}, want: "[a b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := streamAfterCancelledTransaction(t, tt.args); got != tt.want {
				t.Errorf("stream after a cancelled transaction = %s, want %s", got, tt.want)
			}
		})
	}
}

// streamAfterCancelledTransaction writes a, a cancelled transaction (b, then a again), then c, and returns
// the keys a reader positioned before all of them reads.
func streamAfterCancelledTransaction(t *testing.T, args []string) string {
	srv, err := Start(t.Context(), Options{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	ctx := context.Background()
	cfg, err := srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, streams := dynamodb.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg)
	arn, shard := StreamTable(t, db, streams, "rollback")
	it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn,
		ShardId: shard, ShardIteratorType: stypes.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	put := func(pk string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("rollback"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("a")}}); err != nil {
		t.Fatal(err)
	}
	// Cancelled: "b" is written, then "a" fails its condition, and the whole transaction rolls back.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("b"), put("a")}})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		t.Fatalf("want a cancelled transaction, got %v", err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rollback"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "c"}}}); err != nil {
		t.Fatal(err)
	}
	recs, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range recs.Records {
		keys = append(keys, r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value)
	}
	return fmt.Sprint(keys)
}
