package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/platform"
)

// countingClient is the SDK's default HTTP client with a dialer that counts the TCP connections it opens.
func countingClient(dials *atomic.Int64) aws.HTTPClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		dialer := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		}
	})
}

// serve.py answers over kept-alive HTTP/1.1 connections (werkzeug's own handler closed every connection
// after one response): SDK calls made one after another use one connection, whatever the service, the
// method, the body's encoding or the answer (errors included), and every body arrives whole.
func TestConnectionsKeptAlive(t *testing.T) {
	t.Parallel()
	srv := ForTest(t)
	cfg, err := srv.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tests := []struct {
		name  string
		calls func(t *testing.T, cfg aws.Config) int // makes some calls, returns how many
	}{
		{name: "dynamodb", calls: func(t *testing.T, cfg aws.Config) int {
			db := dynamodb.NewFromConfig(cfg)
			if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String("keepalive"),
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
				BillingMode:          types.BillingModePayPerRequest,
			}); err != nil {
				t.Fatal(err)
			}
			n := 1
			for i := range 10 {
				item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}, "n": &types.AttributeValueMemberN{Value: "1"}}
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("keepalive"), Item: item,
					ConditionExpression: aws.String("attribute_not_exists(pk)")})
				var failed *types.ConditionalCheckFailedException
				if (i == 0 && err != nil) || (i > 0 && !errors.As(err, &failed)) {
					t.Fatalf("put %d: %v", i, err)
				}
				n++
			}
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("keepalive"),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}})
			if err != nil || out.Item["n"].(*types.AttributeValueMemberN).Value != "1" {
				t.Fatalf("get: %v %v", out, err)
			}
			return n + 1
		}},
		{name: "s3", calls: func(t *testing.T, cfg aws.Config) int {
			c := s3.NewFromConfig(cfg, S3Options)
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("keepalive")}); err != nil {
				t.Fatal(err)
			}
			n := 1
			for i, body := range [][]byte{[]byte("small"), bytes.Repeat([]byte("photo "), 200_000)} {
				key := aws.String("k" + strings.Repeat("x", i))
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keepalive"), Key: key, Body: bytes.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
				if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("keepalive"), Key: key}); err != nil {
					t.Fatal(err)
				}
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("keepalive"), Key: key})
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(out.Body)
				_ = out.Body.Close()
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("object %d: %d bytes back of %d (%v)", i, len(got), len(body), err)
				}
				n += 3
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("keepalive"), Key: aws.String("missing")}); err == nil {
				t.Fatal("missing object found")
			}
			return n + 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dials atomic.Int64
			c := cfg.Copy()
			c.HTTPClient = countingClient(&dials)
			// As every client of the project's (platform.New, testenv, the local runner): without it, under
			// load smithy-go's closed request-body reader makes net/http drop a connection that moto kept
			// (issue 11), and this test saw 2 connections for 12 calls once in 8 runs at load 9.
			c.APIOptions = append(c.APIOptions, platform.SafeRequestBodies)
			calls := tt.calls(t, c)
			if got := dials.Load(); got != 1 {
				t.Errorf("%d calls one after another opened %d connections, want 1", calls, got)
			}
		})
	}
}

// SIGTERM ends moto with exit status 0, never with the interpreter's "Fatal Python error:
// _enter_buffered_busy … <stdin>" abort, which serve.py's stdin watcher caused about every other stop
// while it read through sys.stdin's buffered reader (7 of 12 stops measured).
func TestStopExitsCleanly(t *testing.T) {
	t.Parallel()
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			srv, err := Start(t.Context(), Options{Stderr: io.Discard, Args: []string{"--warm", "dynamodb"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			if srv.waitErr != nil || strings.Contains(srv.stderr.String(), "Fatal Python error") {
				t.Errorf("moto ended with %v:\n%s", srv.waitErr, srv.stderr.String())
			}
		})
	}
}
