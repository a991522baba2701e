package pump

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// Fast local timings for the tests.
const (
	testPoll  = 50 * time.Millisecond
	testRetry = 50 * time.Millisecond
	// testWait bounds each wait for a pump to drain.
	testWait = 15 * time.Second
)

// env is one moto server and clients for it, shared by a test's subtests.
type env struct {
	cfg     aws.Config
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	sqs     *sqs.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := motoserver.ForTest(t)
	cfg, err := srv.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return &env{cfg: cfg, db: dynamodb.NewFromConfig(cfg), streams: dynamodbstreams.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}
}

// testLog writes the pumps' logs to the test's output, shown with -v or on failure.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// table creates a table keyed by pk with a stream and returns the stream ARN.
func (e *env) table(t *testing.T, name string, view ddbtypes.StreamViewType) string {
	t.Helper()
	out, err := e.db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// put writes the item {pk, status} once. The condition makes the write idempotent: should the SDK
// retry a put whose response was lost (a rare connection reset under load has been seen), the retry
// fails its condition instead of adding a second stream record that the assertions would trip on.
func (e *env) put(t *testing.T, table, pk, status string) {
	t.Helper()
	_, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "status": &ddbtypes.AttributeValueMemberS{Value: status},
		},
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR #s <> :s"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":s": &ddbtypes.AttributeValueMemberS{Value: status},
		},
	})
	var applied *ddbtypes.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &applied) {
		t.Fatal(err)
	}
}

// del deletes an item once (see put).
func (e *env) del(t *testing.T, table, pk string) {
	t.Helper()
	_, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{
		TableName:           aws.String(table),
		Key:                 map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	var applied *ddbtypes.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &applied) {
		t.Fatal(err)
	}
}

// queue creates a queue and returns its URL and ARN.
func (e *env) queue(t *testing.T, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	out, err := e.sqs.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	url = aws.ToString(out.QueueUrl)
	got, err := e.sqs.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	return url, got.Attributes["QueueArn"]
}

// receiveAll reads what a queue holds (moto returns visible messages at once).
func (e *env) receiveAll(t *testing.T, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := e.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
}

// runner is anything with Run, for start.
type runner interface {
	Run(context.Context) error
}

// start runs r until the test ends and checks that Run then returns promptly and cleanly.
func start(t *testing.T, r runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return within 5 s of cancel")
		}
	})
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// calls records a handler's invocations.
type calls[E any] struct {
	mu  sync.Mutex
	got []E
}

func (c *calls[E]) add(e E) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, e)
	return len(c.got)
}

func (c *calls[E]) all() []E {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]E(nil), c.got...)
}

// uniqueName makes a table or queue name from the subtest's name: lower-case letters, digits and
// hyphens, short enough for SQS with a suffix.
func uniqueName(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(t.Name()))
	if len(name) > 70 {
		name = name[len(name)-70:]
	}
	return strings.Trim(name, "-")
}
