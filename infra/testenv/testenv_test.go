package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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

// recorder is a testing.TB that keeps what the environment reports as failures and runs its cleanups
// when asked; everything else goes to the real test.
type recorder struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// end runs the cleanups, last first, as the testing package does when a test ends.
func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

// dropFirst fails the first request it sees after forwarding it — the answer is lost after moto applied
// it, so the SDK sends it again — and forwards the rest.
type dropFirst struct {
	next    aws.HTTPClient
	dropped *atomic.Bool
}

func (d dropFirst) Do(r *http.Request) (*http.Response, error) {
	resp, err := d.next.Do(r)
	if err == nil && d.dropped.CompareAndSwap(false, true) {
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

// TestUnexpectedRetryFailsTheTest: an attempt the SDK retries fails the test when the test did not
// expect retries, and only then; a refusal the SDK does not retry is the test's business.
func TestUnexpectedRetryFailsTheTest(t *testing.T) {
	tests := []struct {
		name       string
		opts       func(wrap func(aws.HTTPClient) aws.HTTPClient) testenv.Options
		wrapClient bool // inject the lost answer on a client of Counted (otherwise through Options.WrapHTTP)
		condition  bool // a refused condition instead of a lost answer
		wantErrors int
	}{
		{"lost answer, not expected", func(func(aws.HTTPClient) aws.HTTPClient) testenv.Options { return testenv.Options{} }, true, false, 1},
		{"lost answer, ExpectRetries", func(func(aws.HTTPClient) aws.HTTPClient) testenv.Options {
			return testenv.Options{ExpectRetries: true}
		}, true, false, 0},
		{"lost answer through WrapHTTP", func(w func(aws.HTTPClient) aws.HTTPClient) testenv.Options {
			return testenv.Options{WrapHTTP: w}
		}, false, false, 0},
		{"failed condition", func(func(aws.HTTPClient) aws.HTTPClient) testenv.Options { return testenv.Options{} }, true, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dropped atomic.Bool
			wrap := func(c aws.HTTPClient) aws.HTTPClient { return dropFirst{c, &dropped} }
			rec := &recorder{TB: t}
			e := moto.New(rec, tt.opts(wrap))
			db := dynamodb.NewFromConfig(e.Counted)
			if tt.wrapClient {
				db = dynamodb.NewFromConfig(e.Counted, func(o *dynamodb.Options) { o.HTTPClient = wrap(o.HTTPClient) })
			}
			in := &dynamodb.PutItemInput{TableName: &e.Table, Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "x"}, "sk": &types.AttributeValueMemberS{Value: "y"}}}
			if tt.condition {
				dropped.Store(true) // nothing lost
				in.ConditionExpression = aws.String("attribute_exists(pk)")
			}
			_, err := db.PutItem(context.Background(), in)
			var failed *types.ConditionalCheckFailedException
			if tt.condition != errors.As(err, &failed) || !tt.condition && err != nil {
				t.Fatalf("PutItem: %v", err)
			}
			rec.end()
			if len(rec.errors) != tt.wantErrors {
				t.Errorf("the test was failed %d times, want %d: %q", len(rec.errors), tt.wantErrors, rec.errors)
			}
		})
	}
}

// TestDrainSecondCopy: a notification sent twice fails the test unless it expects retries, when the copy
// is dropped.
func TestDrainSecondCopy(t *testing.T) {
	for _, expect := range []bool{false, true} {
		t.Run(fmt.Sprint("ExpectRetries=", expect), func(t *testing.T) {
			rec := &recorder{TB: t}
			e := moto.New(rec, testenv.Options{ExpectRetries: expect})
			body := `{"id":"msg_r1_municipal_report.dispatched","dept":"municipal","type":"report.dispatched","reportId":"r1"}`
			for range 2 {
				if _, err := e.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &e.OutboxURL, MessageBody: &body}); err != nil {
					t.Fatal(err)
				}
			}
			ns := e.Drain(e.OutboxURL)
			rec.end()
			if len(ns) != 1 {
				t.Errorf("Drain returned %d notifications, want 1", len(ns))
			}
			if want := map[bool]int{false: 1, true: 0}[expect]; len(rec.errors) != want {
				t.Errorf("the test was failed %d times, want %d: %q", len(rec.errors), want, rec.errors)
			}
		})
	}
}
