package testenv_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/infra/testenv"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

// countingClient counts the requests that pass through it.
type countingClient struct {
	next aws.HTTPClient
	n    *atomic.Int64
}

func (c countingClient) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(r)
}

// TestWrapHTTP: the wrapper sees every call made on Counted and none made on AWS.
func TestWrapHTTP(t *testing.T) {
	var n atomic.Int64
	e := moto.New(t, testenv.Options{WrapHTTP: func(c aws.HTTPClient) aws.HTTPClient { return countingClient{c, &n} }})
	if n.Load() != 0 {
		t.Fatalf("setup went through the wrapper: %d requests", n.Load())
	}
	ctx := context.Background()
	if _, err := dynamodb.NewFromConfig(e.AWS).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.Table}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 0 {
		t.Fatalf("a call on AWS went through the wrapper")
	}
	counted := dynamodb.NewFromConfig(e.Counted)
	for range 3 {
		if _, err := counted.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.Table}); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 3 {
		t.Errorf("wrapper saw %d requests, want 3", got)
	}
	if got := e.Calls.Snapshot()["DynamoDB.DescribeTable"]; got != 3 {
		t.Errorf("counted %d DescribeTable calls, want 3", got)
	}
}
