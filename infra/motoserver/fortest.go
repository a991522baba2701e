package motoserver

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// ForTest starts a moto server for one test (or benchmark) and stops it when the test finishes. It fails
// the test with the reason, e.g. a missing virtualenv, if moto cannot start.
func ForTest(tb testing.TB) *Server {
	tb.Helper()
	srv, err := Start(tb.Context(), Options{})
	if err != nil {
		tb.Fatalf("start moto: %v", err)
	}
	tb.Cleanup(func() {
		// Stop always ends the process (SIGKILL after the grace period); a slow exit on a loaded machine
		// is worth a note, not a failure of the test that used it.
		if err := srv.Stop(); err != nil {
			tb.Logf("stop moto: %v", err)
		}
	})
	return srv
}

// StreamTable creates table name, keyed by the string attribute "pk", with a NEW_AND_OLD_IMAGES stream, and
// returns the stream's ARN and the id of its one shard: the table the stream tests of moto's patches read.
func StreamTable(tb testing.TB, db *dynamodb.Client, streams *dynamodbstreams.Client, name string) (arn, shardID *string) {
	tb.Helper()
	ctx := context.Background()
	out, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		tb.Fatal(err)
	}
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: out.TableDescription.LatestStreamArn})
	if err != nil {
		tb.Fatal(err)
	}
	return out.TableDescription.LatestStreamArn, desc.StreamDescription.Shards[0].ShardId
}
