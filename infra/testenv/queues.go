package testenv

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// Receive returns the messages visible on queueURL now, hiding each for visibility seconds (as Lambda's
// poller does with the queue's timeout). It never long-polls: moto serves one request at a time, and a
// long poll would stall every other test on it.
func (e *Env) Receive(queueURL string, visibility int32) []sqstypes.Message {
	e.T.Helper()
	var out []sqstypes.Message
	for {
		res, err := e.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &queueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: visibility,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			e.T.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		out = append(out, res.Messages...)
	}
}

// ReceiveWithin polls queueURL until at least one message is visible or d has passed.
func (e *Env) ReceiveWithin(queueURL string, visibility int32, d time.Duration) []sqstypes.Message {
	e.T.Helper()
	deadline := time.Now().Add(d)
	for {
		if ms := e.Receive(queueURL, visibility); len(ms) > 0 || time.Now().After(deadline) {
			return ms
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Delete deletes messages, as Lambda's poller does after the function succeeded with them.
func (e *Env) Delete(queueURL string, ms ...sqstypes.Message) {
	e.T.Helper()
	for _, m := range ms {
		if _, err := e.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
			e.T.Fatal(err)
		}
	}
}

// Drain receives and deletes every visible message of queueURL and decodes them as notifications. Every
// notification must arrive once: a second copy of one (same id) means it was sent twice — a send the SDK
// retried after its answer was lost, or a double send by the code under test — and fails the test.
// Only a test that provokes retries (Options.WrapHTTP, ExpectRetries) gets the copy dropped, with a line
// in its log, as receivers drop it by its webhook-id; copies that differ in anything but the payload's
// timestamp fail it all the same.
func (e *Env) Drain(queueURL string) []dispatch.Notification {
	e.T.Helper()
	ms := e.Receive(queueURL, 30)
	e.Delete(queueURL, ms...)
	var out []dispatch.Notification
	seen := map[string]dispatch.Notification{}
	for _, n := range Notifications(e.T, ms) {
		first, ok := seen[n.ID]
		switch {
		case !ok:
			seen[n.ID] = n
			out = append(out, n)
		case !e.retriesExpected:
			e.T.Errorf("notification %s arrived twice: %+v and %+v", n.ID, first, n)
		case first.Dept != n.Dept || first.Type != n.Type || first.ReportID != n.ReportID:
			e.T.Errorf("two notifications share id %s: %+v and %+v", n.ID, first, n)
		default:
			e.T.Logf("dropped a second copy of notification %s (retries expected)", n.ID)
		}
	}
	return out
}

// Notifications decodes outbox messages.
func Notifications(t interface {
	Helper()
	Fatalf(string, ...any)
}, ms []sqstypes.Message) []dispatch.Notification {
	t.Helper()
	out := make([]dispatch.Notification, len(ms))
	for i, m := range ms {
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &out[i]); err != nil {
			t.Fatalf("message %s is not a notification: %v", aws.ToString(m.MessageId), err)
		}
	}
	return out
}

// SQSEvent is the event Lambda's SQS poller builds from received messages.
func (e *Env) SQSEvent(queueARN string, ms ...sqstypes.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(ms))}
	for i, m := range ms {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records[i] = events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: attrs, EventSource: "aws:sqs", EventSourceARN: queueARN,
			AWSRegion: e.AWS.Region,
		}
	}
	return ev
}

// ReceiveCount is a received message's ApproximateReceiveCount.
func ReceiveCount(m sqstypes.Message) int {
	n, _ := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	return n
}
