package pump

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
)

func (e *env) newQueue(t *testing.T, cfg QueueConfig, h QueueHandler) *QueuePump {
	t.Helper()
	if cfg.Function == "" {
		cfg.Function = "QueueFunction"
	}
	cfg.PollInterval = testPoll
	p, err := NewQueuePump(cfg, e.sqs, h, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	start(t, p)
	return p
}

func (e *env) send(t *testing.T, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := e.sqs.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// bodies lists the body of each message of each invocation.
func bodies(evs []events.SQSEvent) [][]string {
	out := make([][]string, len(evs))
	for i, ev := range evs {
		out[i] = []string{}
		for _, m := range ev.Records {
			out[i] = append(out[i], m.Body)
		}
	}
	return out
}

func (e *env) queueCount(t *testing.T, url string) int {
	t.Helper()
	out, err := e.sqs.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		c, _ := strconv.Atoi(v)
		n += c
	}
	return n
}

func TestQueuePump(t *testing.T) {
	t.Parallel() // each starts its own moto; overlapping the starts saves seconds
	e := newEnv(t)

	t.Run("delivers messages as Lambda does and deletes them", func(t *testing.T) {
		t.Parallel()
		url, arn := e.queue(t, uniqueName(t), nil)
		var got calls[events.SQSEvent]
		p := e.newQueue(t, QueueConfig{Function: "NotifyFunction", QueueURL: url, QueueARN: arn},
			func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				got.add(ev)
				return events.SQSEventResponse{}, nil
			})
		_, err := e.sqs.SendMessage(t.Context(), &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(`{"report":"r1"}`),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String("webhook")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, p)
		evs := got.all()
		if len(evs) != 1 || len(evs[0].Records) != 1 {
			t.Fatalf("invocations = %v, want one message", bodies(evs))
		}
		m := evs[0].Records[0]
		if m.MessageId == "" || m.ReceiptHandle == "" || m.Body != `{"report":"r1"}` || m.Md5OfBody == "" || m.Md5OfMessageAttributes == "" {
			t.Errorf("message = %+v", m)
		}
		if m.EventSource != "aws:sqs" || m.EventSourceARN != arn || m.AWSRegion != "us-east-1" {
			t.Errorf("envelope = %q %q %q", m.EventSource, m.EventSourceARN, m.AWSRegion)
		}
		for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
			if m.Attributes[a] == "" {
				t.Errorf("attribute %s missing: %v", a, m.Attributes)
			}
		}
		if m.Attributes["ApproximateReceiveCount"] != "1" {
			t.Errorf("ApproximateReceiveCount = %q, want 1", m.Attributes["ApproximateReceiveCount"])
		}
		raw, _ := json.Marshal(m.MessageAttributes)
		if want := `{"kind":{"stringValue":"webhook","stringListValues":[],"binaryListValues":[],"dataType":"String"}}`; string(raw) != want {
			t.Errorf("messageAttributes = %s, want %s", raw, want)
		}
		if n := e.queueCount(t, url); n != 0 {
			t.Errorf("%d messages left in the queue, want 0 (deleted)", n)
		}
	})

	t.Run("a partial batch failure leaves only the failed message", func(t *testing.T) {
		t.Parallel()
		url, arn := e.queue(t, uniqueName(t), map[string]string{"VisibilityTimeout": "1"})
		var got calls[events.SQSEvent]
		e.send(t, url, "a", "b", "c")
		p := e.newQueue(t, QueueConfig{QueueURL: url, QueueARN: arn, ReportBatchItemFailures: true},
			func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				got.add(ev)
				var resp events.SQSEventResponse
				for _, m := range ev.Records {
					if m.Body == "b" && m.Attributes["ApproximateReceiveCount"] == "1" {
						resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
					}
				}
				return resp, nil
			})
		drain(t, p)
		var seen []string
		for _, ev := range got.all() {
			for _, m := range ev.Records {
				seen = append(seen, m.Body+"#"+m.Attributes["ApproximateReceiveCount"])
			}
		}
		slices.Sort(seen)
		if want := []string{"a#1", "b#1", "b#2", "c#1"}; !slices.Equal(seen, want) {
			t.Errorf("deliveries = %v, want %v (b again after its visibility timeout)", seen, want)
		}
	})

	t.Run("a handler error leaves every message, and the handler may change their visibility", func(t *testing.T) {
		t.Parallel()
		url, arn := e.queue(t, uniqueName(t), map[string]string{"VisibilityTimeout": "30"})
		var got calls[events.SQSEvent]
		e.send(t, url, "a", "b")
		p := e.newQueue(t, QueueConfig{QueueURL: url, QueueARN: arn, ReportBatchItemFailures: true},
			func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				if got.add(ev) > 1 {
					return events.SQSEventResponse{}, nil
				}
				// Make the messages visible again at once instead of after 30 s.
				for _, m := range ev.Records {
					if _, err := e.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
						QueueUrl: aws.String(url), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: 0,
					}); err != nil {
						return events.SQSEventResponse{}, err
					}
				}
				return events.SQSEventResponse{}, errors.New("downstream unavailable")
			})
		drain(t, p)
		evs := got.all()
		if len(evs) != 2 || !slices.Equal(sorted(bodies(evs)[0]), []string{"a", "b"}) || !slices.Equal(sorted(bodies(evs)[1]), []string{"a", "b"}) {
			t.Errorf("invocations = %v, want a and b twice", bodies(evs))
		}
	})

	t.Run("an unknown itemIdentifier fails the whole batch", func(t *testing.T) {
		t.Parallel()
		url, arn := e.queue(t, uniqueName(t), nil)
		var got calls[events.SQSEvent]
		e.send(t, url, "a")
		p := e.newQueue(t, QueueConfig{QueueURL: url, QueueARN: arn, ReportBatchItemFailures: true},
			func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				if got.add(ev) > 1 {
					return events.SQSEventResponse{}, nil
				}
				if _, err := e.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: aws.String(url), ReceiptHandle: aws.String(ev.Records[0].ReceiptHandle), VisibilityTimeout: 0,
				}); err != nil {
					return events.SQSEventResponse{}, err
				}
				return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "nope"}}}, nil
			})
		drain(t, p)
		if b := bodies(got.all()); len(b) != 2 {
			t.Errorf("invocations = %v, want a twice", b)
		}
	})

	// moto applies the queue's RedrivePolicy itself on ReceiveMessage (as SQS does), so the pump needs no
	// emulation; this proves it through the pump.
	t.Run("the redrive policy moves a failing message to the dead-letter queue", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		dlqURL, dlqARN := e.queue(t, name+"-dlq", nil)
		policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": "2"})
		url, arn := e.queue(t, name, map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": string(policy)})
		var got calls[events.SQSEvent]
		e.send(t, url, "poison")
		p := e.newQueue(t, QueueConfig{QueueURL: url, QueueARN: arn},
			func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				got.add(ev)
				return events.SQSEventResponse{}, errors.New("cannot deliver")
			})
		drain(t, p)
		var counts []string
		for _, ev := range got.all() {
			counts = append(counts, ev.Records[0].Attributes["ApproximateReceiveCount"])
		}
		if want := []string{"1", "2"}; !slices.Equal(counts, want) {
			t.Errorf("receive counts seen by the handler = %v, want %v (maxReceiveCount 2)", counts, want)
		}
		if dead := e.receiveAll(t, dlqURL); !slices.Equal(dead, []string{"poison"}) {
			t.Errorf("dead-letter queue = %v, want [poison]", dead)
		}
	})

	t.Run("FilterCriteria deletes messages that match no filter", func(t *testing.T) {
		t.Parallel()
		url, arn := e.queue(t, uniqueName(t), nil)
		filters, err := eventfilter.CompileAll([]string{`{"body":{"kind":["report"]}}`, `{"body":["ping"]}`})
		if err != nil {
			t.Fatal(err)
		}
		var got calls[events.SQSEvent]
		e.send(t, url, `{"kind":"report","id":1}`, `{"kind":"other"}`, `ping`, `pong`, `["kind"]`)
		p := e.newQueue(t, QueueConfig{QueueURL: url, QueueARN: arn, Filters: filters},
			func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				got.add(ev)
				return events.SQSEventResponse{}, nil
			})
		drain(t, p)
		var seen []string
		for _, b := range bodies(got.all()) {
			seen = append(seen, b...)
		}
		if want := []string{`{"kind":"report","id":1}`, `ping`}; !slices.Equal(sorted(seen), sorted(want)) {
			t.Errorf("delivered %v, want %v", seen, want)
		}
		if n := e.queueCount(t, url); n != 0 {
			t.Errorf("%d messages left, want the filtered ones deleted", n)
		}
	})

	t.Run("batches hold at most BatchSize messages", func(t *testing.T) {
		t.Parallel()
		url, arn := e.queue(t, uniqueName(t), nil)
		e.send(t, url, "1", "2", "3", "4", "5")
		var got calls[events.SQSEvent]
		p := e.newQueue(t, QueueConfig{QueueURL: url, QueueARN: arn, BatchSize: 2},
			func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				got.add(ev)
				return events.SQSEventResponse{}, nil
			})
		drain(t, p)
		total := 0
		for _, b := range bodies(got.all()) {
			if len(b) > 2 {
				t.Errorf("batch of %d: %v", len(b), b)
			}
			total += len(b)
		}
		if total != 5 {
			t.Errorf("%d messages delivered, want 5", total)
		}
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestFilterDocument(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"a":1.50}`, `{"a":1.50}`},
		{` [1, "x"] `, `[1,"x"]`},
		{`plain text`, `"plain text"`},
		{`{"broken":`, `"{\"broken\":"`},
		{`42`, `"42"`},
	}
	for _, tt := range tests {
		doc, err := filterDocument(events.SQSMessage{Body: tt.body, MessageId: "m"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(doc["body"])
		if string(got) != tt.want {
			t.Errorf("body %q in the filter document = %s, want %s", tt.body, got, tt.want)
		}
		if doc["messageId"] != "m" {
			t.Errorf("messageId = %v", doc["messageId"])
		}
	}
}

func TestNewQueuePumpChecksConfig(t *testing.T) {
	h := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	const arn = "arn:aws:sqs:us-east-1:1:q"
	for _, tt := range []struct {
		name string
		cfg  QueueConfig
		want string
	}{
		{"no function", QueueConfig{QueueURL: "u", QueueARN: arn}, "no function"},
		{"no URL", QueueConfig{Function: "F", QueueARN: arn}, "want a queue URL and ARN"},
		{"no ARN", QueueConfig{Function: "F", QueueURL: "u"}, "want a queue URL and ARN"},
		{"negative batch", QueueConfig{Function: "F", QueueURL: "u", QueueARN: arn, BatchSize: -1}, "batch size"},
	} {
		if _, err := NewQueuePump(tt.cfg, fakeQueue{}, h, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewQueuePump = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	p, err := NewQueuePump(QueueConfig{Function: "F", QueueURL: "u", QueueARN: arn, BatchSize: 100}, fakeQueue{}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.cfg.BatchSize != MaxQueueBatchSize || p.cfg.FunctionARN != "arn:aws:lambda:us-east-1:1:function:F" {
		t.Errorf("defaults = %+v", p.cfg)
	}
}

// fakeQueue satisfies QueueAPI for construction tests; it is never called.
type fakeQueue struct{ QueueAPI }
