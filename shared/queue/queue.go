// Package queue is the SQS adapter: the outbox that carries notifications from dispatch and casework to
// the notify function, and the redrive of its dead-letter queue.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// API is the part of the SQS client used here.
type API interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Outbox sends notifications to a queue.
type Outbox struct {
	client API
	url    string
}

// NewOutbox returns an Outbox on the queue at url.
func NewOutbox(client API, url string) *Outbox { return &Outbox{client: client, url: url} }

// Enqueue sends the notifications, ten to a SendMessageBatch call.
func (o *Outbox) Enqueue(ctx context.Context, ns []dispatch.Notification) error {
	for start := 0; start < len(ns); start += 10 {
		end := min(start+10, len(ns))
		entries := make([]types.SendMessageBatchRequestEntry, 0, end-start)
		for i, n := range ns[start:end] {
			body, err := json.Marshal(n)
			if err != nil {
				return err
			}
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := o.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &o.url, Entries: entries})
		if err != nil {
			return fmt.Errorf("send %d notifications: %w", len(entries), err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("send notifications: %d failed, first: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// Delay hides a received message for d before it is delivered again (the retry backoff).
func Delay(ctx context.Context, client API, url, receiptHandle string, seconds int32) error {
	_, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: &receiptHandle, VisibilityTimeout: seconds})
	return err
}

// Redrive moves up to max messages from the dead-letter queue back to the queue; it returns how many.
func Redrive(ctx context.Context, client API, dlqURL, queueURL string, max int) (int, error) {
	moved := 0
	for moved < max {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlqURL, MaxNumberOfMessages: int32(min(10, max-moved)), WaitTimeSeconds: 0})
		if err != nil {
			return moved, fmt.Errorf("receive from dead-letter queue: %w", err)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		send := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
		del := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			id := aws.String(strconv.Itoa(i))
			send[i] = types.SendMessageBatchRequestEntry{Id: id, MessageBody: m.Body}
			del[i] = types.DeleteMessageBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle}
		}
		// Send before delete: a crash in between duplicates a notification (receivers drop it by its id)
		// instead of losing it.
		if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &queueURL, Entries: send}); err != nil {
			return moved, fmt.Errorf("redrive: %w", err)
		}
		if _, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &dlqURL, Entries: del}); err != nil {
			return moved, fmt.Errorf("redrive delete: %w", err)
		}
		moved += len(out.Messages)
	}
	return moved, nil
}
