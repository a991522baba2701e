package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/queue"
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

// receiveAll drains url with the SDK's client (the inspection side), returning the bodies and handles.
func receiveAll(t *testing.T, c *sqs.Client, url string) (bodies, handles []string) {
	t.Helper()
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies, handles
		}
		for _, m := range out.Messages {
			bodies, handles = append(bodies, aws.ToString(m.Body)), append(handles, aws.ToString(m.ReceiptHandle))
		}
	}
}

// The outbox, the retry delay and the redrive speak SQS's JSON protocol to moto: what was sent is what the
// SDK's client receives, ten to a batch, and a redrive moves the dead letters back exactly once.
func TestOutboxDelayAndRedriveAgainstMoto(t *testing.T) {
	e := moto.New(t, testenv.Options{})
	ctx := context.Background()
	client := queue.NewClient(e.Counted)

	var ns []dispatch.Notification
	for i := range 12 {
		ns = append(ns, dispatch.Notification{ID: "msg_" + strconv.Itoa(i), Dept: "roads", Payload: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)})
	}
	if err := queue.NewOutbox(client, e.OutboxURL).Enqueue(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if got := e.Calls.Snapshot()["SQS.SendMessageBatch"]; got != 2 {
		t.Errorf("%d SendMessageBatch calls for 12 notifications, want 2", got)
	}
	bodies, handles := receiveAll(t, e.SQS, e.OutboxURL)
	var ids []string
	for _, b := range bodies {
		var n dispatch.Notification
		if err := json.Unmarshal([]byte(b), &n); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	if want := []string{"msg_0", "msg_1", "msg_10", "msg_11", "msg_2", "msg_3", "msg_4", "msg_5", "msg_6", "msg_7", "msg_8", "msg_9"}; !slices.Equal(ids, want) {
		t.Errorf("received %v, want %v", ids, want)
	}

	// Delay makes a received message visible again at once (0 s) or later.
	if err := queue.Delay(ctx, client, e.OutboxURL, handles[0], 0); err != nil {
		t.Fatalf("Delay: %v", err)
	}
	if again, _ := receiveAll(t, e.SQS, e.OutboxURL); len(again) != 1 {
		t.Errorf("after a 0 s delay %d messages visible, want 1", len(again))
	}

	// Three dead letters move back to the outbox, once.
	for i := range 3 {
		if _, err := e.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &e.DLQURL, MessageBody: aws.String(`{"dead":` + strconv.Itoa(i) + `}`)}); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := queue.Redrive(ctx, client, e.DLQURL, e.OutboxURL, 10)
	if err != nil || moved != 3 {
		t.Fatalf("Redrive moved %d, %v; want 3", moved, err)
	}
	if dead, _ := receiveAll(t, e.SQS, e.DLQURL); len(dead) != 0 {
		t.Errorf("%d messages left in the dead-letter queue", len(dead))
	}
	if back, _ := receiveAll(t, e.SQS, e.OutboxURL); len(back) != 3 {
		t.Errorf("%d redriven messages in the outbox, want 3", len(back))
	}

	// A queue that does not exist is SQS's error, by its code.
	err = queue.NewOutbox(client, e.OutboxURL+"-gone").Enqueue(ctx, ns[:1])
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" && apiErr.ErrorCode() != "QueueDoesNotExist") {
		t.Errorf("send to a missing queue: %v, want SQS's NonExistentQueue", err)
	}
}
