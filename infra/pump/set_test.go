package pump

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// setTemplate wires a stream consumer that feeds a queue consumer, which writes back to the table, and
// a scheduled function: the shape of civicsnap's dispatch → outbox → notify and KPI functions.
const setTemplate = `
Globals:
  Function:
    Timeout: 5
    Runtime: provided.al2023
    Handler: bootstrap
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
      StreamSpecification: { StreamViewType: NEW_AND_OLD_IMAGES }
  OutboxQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy: { deadLetterTargetArn: !GetAtt OutboxDLQ.Arn, maxReceiveCount: 2 }
  OutboxDLQ:
    Type: AWS::SQS::Queue
  DispatchFailureQueue:
    Type: AWS::SQS::Queue
  DispatchFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/dispatch
      Events:
        Reports:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
            BatchSize: 10
            MaximumRetryAttempts: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria:
              Filters:
                - Pattern: '{"eventName":["INSERT"],"dynamodb":{"NewImage":{"status":{"S":["submitted"]}}}}'
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt DispatchFailureQueue.Arn
  NotifyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/notify
      Events:
        Outbox:
          Type: SQS
          Properties:
            Queue: !GetAtt OutboxQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Paused:
          Type: SQS
          Properties:
            Queue: !GetAtt OutboxDLQ.Arn
            Enabled: false
  KpiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/kpi
      Events:
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
            Input: '{"job":"kpi"}'
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 2 * * ? *)
            Enabled: false
`

func TestFromTemplate(t *testing.T) {
	t.Parallel() // each starts its own moto; overlapping the starts saves seconds
	srv := motoserver.ForTest(t)
	cfg, err := srv.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("wires the template's events to the handlers", func(t *testing.T) { testFromTemplateWiring(t, cfg) })
	t.Run("reports every problem", func(t *testing.T) { testFromTemplateErrors(t, cfg) })
}

func testFromTemplateWiring(t *testing.T, cfg aws.Config) {
	ctx := t.Context()
	tpl, err := stack.Parse([]byte(setTemplate))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(ctx, cfg, "pumps", motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	queue := sqs.NewFromConfig(cfg)
	table := res.Tables["Table"].Name
	put := func(pk, status string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "status": &ddbtypes.AttributeValueMemberS{Value: status},
		}}); err != nil {
			t.Fatal(err)
		}
	}

	var dispatched, notified calls[string]
	var kpi calls[string]
	handlers := Handlers{
		Streams: map[string]StreamHandler{
			"DispatchFunction": func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				for _, r := range ev.Records {
					id := r.Change.Keys["pk"].String()
					dispatched.add(id)
					if _, err := queue.SendMessage(ctx, &sqs.SendMessageInput{
						QueueUrl: aws.String(res.Queues["OutboxQueue"].URL), MessageBody: aws.String(id),
					}); err != nil {
						return events.DynamoDBEventResponse{}, err
					}
				}
				return events.DynamoDBEventResponse{}, nil
			},
		},
		Queues: map[string]QueueHandler{
			"NotifyFunction": func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				for _, m := range ev.Records {
					notified.add(m.Body)
					// The notification lands in the table: a record the dispatch filter drops.
					if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
						"pk": &ddbtypes.AttributeValueMemberS{Value: "sent#" + m.Body}, "status": &ddbtypes.AttributeValueMemberS{Value: "sent"},
					}}); err != nil {
						return events.SQSEventResponse{}, err
					}
				}
				return events.SQSEventResponse{}, nil
			},
		},
		Schedules: map[string]ScheduleHandler{
			"KpiFunction": func(_ context.Context, p json.RawMessage) error {
				kpi.add(string(p))
				return nil
			},
		},
	}

	set, err := FromTemplate(tpl, res, cfg, handlers, testLog(t), WithPollInterval(testPoll), WithRetryDelay(testRetry))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Streams) != 1 || len(set.Queues) != 1 {
		t.Fatalf("%d stream and %d queue pumps, want 1 each (the disabled SQS event has none)", len(set.Streams), len(set.Queues))
	}
	if c := set.Streams[0].cfg; c.OnFailureQueueURL != res.Queues["DispatchFailureQueue"].URL || c.MaximumRetryAttempts != 1 ||
		!c.ReportBatchItemFailures || len(c.Filters) != 1 || c.Timeout != 5*time.Second || c.StreamARN != res.Tables["Table"].StreamARN ||
		c.FunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:DispatchFunction" {
		t.Errorf("stream config = %+v", c)
	}
	if c := set.Queues[0].cfg; c.QueueURL != res.Queues["OutboxQueue"].URL || c.BatchSize != 5 || !c.ReportBatchItemFailures {
		t.Errorf("queue config = %+v", c)
	}
	start(t, set)
	if err := set.Ready(waitCtx(t)); err != nil {
		t.Fatal(err)
	}

	put("r1", "submitted")
	put("r2", "draft") // filtered out by the dispatch filter
	put("r3", "submitted")
	if err := set.Drain(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := dispatched.all(); strings.Join(got, ",") != "r1,r3" {
		t.Errorf("dispatched %v, want r1, r3", got)
	}
	if got := sorted(notified.all()); strings.Join(got, ",") != "r1,r3" {
		t.Errorf("notified %v, want r1, r3", got)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "sent#r3"}}})
	if err != nil || out.Item == nil {
		t.Errorf("the notify handler's write is missing after Drain: %v", err)
	}

	if err := set.Fire(ctx, "KpiFunction"); err != nil {
		t.Fatal(err)
	}
	if got := kpi.all(); len(got) != 2 || got[0] != `{"job":"kpi"}` || !strings.Contains(got[1], `"detail-type":"Scheduled Event"`) {
		t.Errorf("KPI payloads = %v, want the Hourly input and a Scheduled Event", got)
	}
	if err := set.Fire(ctx, "NotifyFunction"); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("Fire(NotifyFunction) = %v, want ErrUnknownFunction", err)
	}
}

func TestFromTemplateScheduleEvery(t *testing.T) {
	tpl, err := stack.Parse([]byte(`
Resources:
  KpiFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Events:
        Hourly:
          Type: ScheduleV2
          Properties: { ScheduleExpression: rate(1 hour), Input: '{"job":"kpi"}' }
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 2 * * ? *)
            Enabled: false
`))
	if err != nil {
		t.Fatal(err)
	}
	var fired calls[string]
	var n atomic.Int32
	set, err := FromTemplate(tpl, &stack.Resources{Region: "us-east-1", AccountID: "123456789012"}, aws.Config{}, Handlers{
		Schedules: map[string]ScheduleHandler{"KpiFunction": func(_ context.Context, p json.RawMessage) error {
			fired.add(string(p))
			n.Add(1)
			return nil
		}},
	}, testLog(t), WithScheduleEvery(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start(t, set)
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := fired.all()
	if len(got) < 2 {
		t.Fatalf("fired %d times in 5 s, want at least 2 at 30 ms", len(got))
	}
	for _, p := range got {
		if p != `{"job":"kpi"}` {
			t.Errorf("timed fire payload %s: only the enabled Hourly schedule should fire on its own", p)
		}
	}
}

func testFromTemplateErrors(t *testing.T, cfg aws.Config) {
	ctx := t.Context()
	stream := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}
	queue := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	sched := func(context.Context, json.RawMessage) error { return nil }
	all := Handlers{
		Streams:   map[string]StreamHandler{"DispatchFunction": stream},
		Queues:    map[string]QueueHandler{"NotifyFunction": queue},
		Schedules: map[string]ScheduleHandler{"KpiFunction": sched},
	}
	tests := []struct {
		name     string
		edit     func(string) string
		handlers Handlers
		want     []string
	}{
		{"missing handlers", nil, Handlers{}, []string{
			"function DispatchFunction: event Reports needs a stream handler",
			"function NotifyFunction: event Outbox needs a queue handler",
			"function NotifyFunction: event Paused needs a queue handler",
			"function KpiFunction: event Hourly needs a schedule handler",
		}},
		{"handlers without events", nil, Handlers{
			Streams:   map[string]StreamHandler{"DispatchFunction": stream, "AccrualFunction": stream},
			Queues:    map[string]QueueHandler{"NotifyFunction": queue, "DispatchFunction": queue},
			Schedules: map[string]ScheduleHandler{"KpiFunction": sched, "SweeperFunction": sched},
		}, []string{
			"stream handler for AccrualFunction: the template has no function AccrualFunction with a DynamoDB event",
			"queue handler for DispatchFunction",
			"schedule handler for SweeperFunction",
		}},
		{"bad filter pattern", func(s string) string {
			return strings.Replace(s, `{"S":["submitted"]}`, `{"S":"submitted"}`, 1)
		}, all, []string{"function DispatchFunction event Reports: FilterCriteria", "want an array of rules"}},
		{"destination that is not a queue", func(s string) string {
			return strings.Replace(s, "Destination: !GetAtt DispatchFailureQueue.Arn", "Destination: arn:aws:sns:us-east-1:123456789012:alerts", 1)
		}, all, []string{"on-failure destination arn:aws:sns:us-east-1:123456789012:alerts is not a queue"}},
		{"bad schedule", func(s string) string {
			return strings.Replace(s, "rate(1 hour)", "rate(1 hours)", 1)
		}, all, []string{"schedule Hourly of KpiFunction", "singular"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := setTemplate
			if tt.edit != nil {
				text = tt.edit(text)
			}
			tpl, err := stack.Parse([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			res, err := tpl.Create(ctx, cfg, "err"+string(rune('a'+i)), motoserver.S3Options)
			if err != nil {
				t.Fatal(err)
			}
			_, err = FromTemplate(tpl, res, cfg, tt.handlers, nil)
			if err == nil {
				t.Fatal("FromTemplate = nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
