package pump

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
)

// handle filters a received batch, invokes the handler with what passed and deletes what succeeded.
func (p *QueuePump) handle(ctx context.Context, msgs []types.Message) {
	var batch, dropped []events.SQSMessage
	for _, m := range msgs {
		rec := lambdaMessage(m, p.cfg.QueueARN, p.region)
		if p.passes(rec) {
			batch = append(batch, rec)
		} else {
			dropped = append(dropped, rec)
		}
	}
	if len(dropped) > 0 {
		p.log.Debug("messages filtered out and deleted", "messages", len(dropped))
		p.delete(ctx, dropped)
	}
	if len(batch) == 0 {
		return
	}

	start := time.Now()
	resp, requestID, err := invoke(ctx, p.cfg.FunctionARN, p.cfg.Timeout, p.handler, events.SQSEvent{Records: batch})
	p.act.invoked()
	if ctx.Err() != nil {
		return // stopping: leave the messages to their visibility timeout
	}
	failed, reason := p.outcome(batch, resp, err)
	log := p.log.With("messages", len(batch), "requestId", requestID, "ms", time.Since(start).Milliseconds())
	if len(failed) == 0 {
		log.Debug("invoked")
	} else {
		log.Warn("invocation failed", "failures", len(failed), "reason", reason)
	}
	ok := slices.DeleteFunc(slices.Clone(batch), func(m events.SQSMessage) bool { return failed[m.MessageId] })
	p.delete(ctx, ok)
}

// outcome returns the ids of the messages to leave in the queue and, when there are any, why.
func (p *QueuePump) outcome(batch []events.SQSMessage, resp events.SQSEventResponse, err error) (map[string]bool, string) {
	all := func() map[string]bool {
		ids := make(map[string]bool, len(batch))
		for _, m := range batch {
			ids[m.MessageId] = true
		}
		return ids
	}
	if err != nil {
		return all(), err.Error()
	}
	if len(resp.BatchItemFailures) == 0 {
		return nil, ""
	}
	if !p.cfg.ReportBatchItemFailures {
		p.log.Debug("batchItemFailures ignored: the event has no FunctionResponseTypes: [ReportBatchItemFailures]")
		return nil, ""
	}
	ids := all()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return ids, fmt.Sprintf("itemIdentifier %q is not a message id of the batch, so the whole batch failed", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, fmt.Sprintf("%d messages reported failed", len(failed))
}

// delete removes processed messages; a failure only means they come back, so it is logged.
func (p *QueuePump) delete(ctx context.Context, msgs []events.SQSMessage) {
	for chunk := range slices.Chunk(msgs, MaxQueueBatchSize) {
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, m := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.ReceiptHandle)}
		}
		out, err := p.queue.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.cfg.QueueURL), Entries: entries})
		switch {
		case err != nil:
			if ctx.Err() == nil {
				p.log.Warn("delete messages failed; they will be delivered again", "messages", len(chunk), "err", err)
			}
		case len(out.Failed) > 0:
			p.log.Warn("some messages were not deleted; they will be delivered again", "failed", len(out.Failed),
				"code", aws.ToString(out.Failed[0].Code), "message", aws.ToString(out.Failed[0].Message))
		}
	}
}

// passes applies the FilterCriteria to the message as Lambda would deliver it, with a JSON body parsed.
func (p *QueuePump) passes(m events.SQSMessage) bool {
	if len(p.cfg.Filters) == 0 {
		return true
	}
	doc, err := filterDocument(m)
	if err != nil {
		return false
	}
	return eventfilter.MatchAnyValue(p.cfg.Filters, doc)
}

// filterDocument is the message record as generic JSON, with a body that is a JSON object or array
// replaced by its parsed value (Lambda's rule: a JSON pattern for body only matches a JSON body, a
// string pattern only a plain body).
func filterDocument(m events.SQSMessage) (map[string]any, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := decodeNumbers(raw, &doc); err != nil {
		return nil, err
	}
	body := bytes.TrimSpace([]byte(m.Body))
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') && json.Valid(body) {
		var parsed any
		if err := decodeNumbers(body, &parsed); err == nil {
			doc["body"] = parsed
		}
	}
	return doc, nil
}

func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// lambdaMessage converts a received message into the record Lambda puts in an SQSEvent.
func lambdaMessage(m types.Message, queueARN, region string) events.SQSMessage {
	out := events.SQSMessage{
		MessageId:              aws.ToString(m.MessageId),
		ReceiptHandle:          aws.ToString(m.ReceiptHandle),
		Body:                   aws.ToString(m.Body),
		Md5OfBody:              aws.ToString(m.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
		Attributes:             maps.Clone(m.Attributes),
		MessageAttributes:      make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes)),
		EventSourceARN:         queueARN,
		EventSource:            "aws:sqs",
		AWSRegion:              region,
	}
	if out.Attributes == nil {
		out.Attributes = map[string]string{}
	}
	for name, a := range m.MessageAttributes {
		attr := events.SQSMessageAttribute{
			StringValue:      a.StringValue,
			BinaryValue:      a.BinaryValue,
			StringListValues: a.StringListValues,
			BinaryListValues: a.BinaryListValues,
			DataType:         aws.ToString(a.DataType),
		}
		// Lambda sends empty lists rather than null.
		if attr.StringListValues == nil {
			attr.StringListValues = []string{}
		}
		if attr.BinaryListValues == nil {
			attr.BinaryListValues = [][]byte{}
		}
		out.MessageAttributes[name] = attr
	}
	return out
}
