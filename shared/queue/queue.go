// Package queue is the SQS adapter: the outbox that carries notifications from dispatch and casework to
// the notify function, and the redrive of its dead-letter queue. It calls SQS's JSON protocol through
// awsrest (signed with the SDK's SigV4 signer, retried by the SDK's standard retryer) rather than the SDK's
// SQS client, which four functions' binaries paid for (issue 11, binaries ≤ 1.5× hello-world).
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// Client makes the SQS calls used here. Build it once per container.
type Client struct {
	sqs *awsrest.Client
}

// NewClient returns a client with cfg's credentials, region, endpoint, HTTP client and retryer.
func NewClient(cfg aws.Config) *Client { return &Client{sqs: awsrest.New(cfg, awsrest.SQS)} }

// Message is a received message.
type Message struct {
	MessageID     string `json:"MessageId"`
	ReceiptHandle string
	Body          string
}

type sendEntry struct {
	ID          string `json:"Id"`
	MessageBody string
}

type deleteEntry struct {
	ID            string `json:"Id"`
	ReceiptHandle string
}

type batchFailure struct {
	ID          string `json:"Id"`
	Code        string
	Message     string
	SenderFault bool
}

type batchResult struct {
	Failed []batchFailure
}

func (c *Client) sendBatch(ctx context.Context, url string, entries []sendEntry) (batchResult, error) {
	var out batchResult
	err := c.sqs.CallJSON(ctx, awsrest.SQSJSON, "SendMessageBatch", struct {
		QueueURL string `json:"QueueUrl"`
		Entries  []sendEntry
	}{url, entries}, &out)
	return out, err
}

func (c *Client) receive(ctx context.Context, url string, max int) ([]Message, error) {
	var out struct{ Messages []Message }
	err := c.sqs.CallJSON(ctx, awsrest.SQSJSON, "ReceiveMessage", struct {
		QueueURL            string `json:"QueueUrl"`
		MaxNumberOfMessages int
		WaitTimeSeconds     int
	}{url, max, 0}, &out)
	return out.Messages, err
}

func (c *Client) deleteBatch(ctx context.Context, url string, entries []deleteEntry) error {
	return c.sqs.CallJSON(ctx, awsrest.SQSJSON, "DeleteMessageBatch", struct {
		QueueURL string `json:"QueueUrl"`
		Entries  []deleteEntry
	}{url, entries}, nil)
}

// Outbox sends notifications to a queue.
type Outbox struct {
	client *Client
	url    string
}

// NewOutbox returns an Outbox on the queue at url.
func NewOutbox(client *Client, url string) *Outbox { return &Outbox{client: client, url: url} }

// Enqueue sends the notifications, ten to a SendMessageBatch call.
func (o *Outbox) Enqueue(ctx context.Context, ns []dispatch.Notification) error {
	for start := 0; start < len(ns); start += 10 {
		end := min(start+10, len(ns))
		entries := make([]sendEntry, 0, end-start)
		for i, n := range ns[start:end] {
			body, err := json.Marshal(n)
			if err != nil {
				return err
			}
			entries = append(entries, sendEntry{ID: strconv.Itoa(i), MessageBody: string(body)})
		}
		out, err := o.client.sendBatch(ctx, o.url, entries)
		if err != nil {
			return fmt.Errorf("send %d notifications: %w", len(entries), err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("send notifications: %d failed, first: %s", len(out.Failed), out.Failed[0].Message)
		}
	}
	return nil
}

// Delay hides a received message for d before it is delivered again (the retry backoff).
func Delay(ctx context.Context, client *Client, url, receiptHandle string, seconds int32) error {
	return client.sqs.CallJSON(ctx, awsrest.SQSJSON, "ChangeMessageVisibility", struct {
		QueueURL          string `json:"QueueUrl"`
		ReceiptHandle     string
		VisibilityTimeout int32
	}{url, receiptHandle, seconds}, nil)
}

// Redrive moves up to max messages from the dead-letter queue back to the queue; it returns how many.
func Redrive(ctx context.Context, client *Client, dlqURL, queueURL string, max int) (int, error) {
	moved := 0
	for moved < max {
		msgs, err := client.receive(ctx, dlqURL, min(10, max-moved))
		if err != nil {
			return moved, fmt.Errorf("receive from dead-letter queue: %w", err)
		}
		if len(msgs) == 0 {
			return moved, nil
		}
		send := make([]sendEntry, len(msgs))
		del := make([]deleteEntry, len(msgs))
		for i, m := range msgs {
			id := strconv.Itoa(i)
			send[i] = sendEntry{ID: id, MessageBody: m.Body}
			del[i] = deleteEntry{ID: id, ReceiptHandle: m.ReceiptHandle}
		}
		// Send before delete: a crash in between duplicates a notification (receivers drop it by its id)
		// instead of losing it.
		if _, err := client.sendBatch(ctx, queueURL, send); err != nil {
			return moved, fmt.Errorf("redrive: %w", err)
		}
		if err := client.deleteBatch(ctx, dlqURL, del); err != nil {
			return moved, fmt.Errorf("redrive delete: %w", err)
		}
		moved += len(msgs)
	}
	return moved, nil
}
