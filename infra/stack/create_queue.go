package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// createQueues creates queues in dependency order: a queue's RedrivePolicy needs its dead-letter
// queue's ARN, so each pass creates the queues whose targets now resolve.
func (r *Resources) createQueues(ctx context.Context, q *sqs.Client) error {
	pending := map[string]Queue{}
	for id, queue := range r.tmpl.Queues {
		ok, err := r.exists(queue.Condition)
		if err != nil {
			return fmt.Errorf("create queue %s: %w", id, err)
		}
		if ok {
			pending[id] = queue
		}
	}
	for len(pending) > 0 {
		progressed := false
		for _, id := range slices.Sorted(maps.Keys(pending)) {
			queue := pending[id]
			dlq := ""
			if rp := queue.RedrivePolicy; rp != nil {
				arn, ok := r.Resolve(rp.DeadLetterTarget)
				if !ok {
					continue // its dead-letter queue is not created yet
				}
				dlq = arn
			}
			info, err := r.createQueue(ctx, q, id, queue, dlq)
			if err != nil {
				return fmt.Errorf("create queue %s: %w", id, err)
			}
			r.Queues[id] = info
			delete(pending, id)
			progressed = true
		}
		if !progressed {
			return fmt.Errorf("create queues %v: dead-letter targets do not resolve to queues of this template", slices.Sorted(maps.Keys(pending)))
		}
	}
	return nil
}

func (r *Resources) createQueue(ctx context.Context, q *sqs.Client, id string, queue Queue, dlqARN string) (QueueInfo, error) {
	name := physicalName(r.Prefix, id)
	attrs := map[string]string{}
	if queue.FIFO {
		name += ".fifo"
		attrs[string(types.QueueAttributeNameFifoQueue)] = "true"
		if queue.ContentBasedDeduplication {
			attrs[string(types.QueueAttributeNameContentBasedDeduplication)] = "true"
		}
	}
	for _, a := range []struct {
		name types.QueueAttributeName
		v    *int
	}{
		{types.QueueAttributeNameVisibilityTimeout, queue.VisibilityTimeout},
		{types.QueueAttributeNameMessageRetentionPeriod, queue.MessageRetentionPeriod},
		{types.QueueAttributeNameDelaySeconds, queue.DelaySeconds},
		{types.QueueAttributeNameReceiveMessageWaitTimeSeconds, queue.ReceiveMessageWaitTimeSeconds},
		{types.QueueAttributeNameMaximumMessageSize, queue.MaximumMessageSize},
	} {
		if a.v != nil {
			attrs[string(a.name)] = strconv.Itoa(*a.v)
		}
	}
	if dlqARN != "" {
		policy, err := json.Marshal(map[string]string{
			"deadLetterTargetArn": dlqARN,
			"maxReceiveCount":     strconv.Itoa(queue.RedrivePolicy.MaxReceiveCount),
		})
		if err != nil {
			return QueueInfo{}, fmt.Errorf("redrive policy: %w", err)
		}
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
	}

	var url string
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var nameExists *types.QueueNameExists
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case errors.As(err, &nameExists):
		// It exists with other attributes (the template changed): bring them up to date.
		got, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return QueueInfo{}, fmt.Errorf("get url of existing queue %s: %w", name, err)
		}
		url = aws.ToString(got.QueueUrl)
		settable := maps.Clone(attrs)
		delete(settable, string(types.QueueAttributeNameFifoQueue)) // fixed at creation
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: settable}); err != nil {
			return QueueInfo{}, fmt.Errorf("update existing queue %s: %w", name, err)
		}
	default:
		return QueueInfo{}, err
	}

	got, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return QueueInfo{}, fmt.Errorf("get arn of %s: %w", name, err)
	}
	return QueueInfo{Name: name, URL: url, ARN: got.Attributes[string(types.QueueAttributeNameQueueArn)]}, nil
}
