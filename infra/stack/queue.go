package stack

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Queue is an AWS::SQS::Queue. Optional numeric attributes are nil when not declared, so SQS's own
// defaults apply.
type Queue struct {
	LogicalID string
	// Condition names the template condition the queue depends on; "" when unconditional.
	Condition                 string
	FIFO                      bool
	ContentBasedDeduplication bool
	// VisibilityTimeout, MessageRetentionPeriod, DelaySeconds and ReceiveMessageWaitTimeSeconds are in
	// seconds, MaximumMessageSize in bytes.
	VisibilityTimeout             *int
	MessageRetentionPeriod        *int
	DelaySeconds                  *int
	ReceiveMessageWaitTimeSeconds *int
	MaximumMessageSize            *int
	// RedrivePolicy is nil when the queue has no dead-letter queue.
	RedrivePolicy *RedrivePolicy
}

// RedrivePolicy sends a message to DeadLetterTarget (a queue ARN, normally !GetAtt DLQ.Arn) after
// MaxReceiveCount receives.
type RedrivePolicy struct {
	DeadLetterTarget Value
	MaxReceiveCount  int
}

func (t *Template) parseQueue(id string, res, props *yaml.Node) (Queue, error) {
	q := Queue{LogicalID: id}
	var err error
	if q.Condition, err = condition(res, id); err != nil {
		return q, err
	}
	if q.FIFO, err = t.plainBool(get(props, "FifoQueue"), "FifoQueue", false); err != nil {
		return q, err
	}
	if q.ContentBasedDeduplication, err = t.plainBool(get(props, "ContentBasedDeduplication"), "ContentBasedDeduplication", false); err != nil {
		return q, err
	}
	for _, f := range []struct {
		name string
		dst  **int
	}{
		{"VisibilityTimeout", &q.VisibilityTimeout},
		{"MessageRetentionPeriod", &q.MessageRetentionPeriod},
		{"DelaySeconds", &q.DelaySeconds},
		{"ReceiveMessageWaitTimeSeconds", &q.ReceiveMessageWaitTimeSeconds},
		{"MaximumMessageSize", &q.MaximumMessageSize},
	} {
		if *f.dst, err = t.plainIntPtr(get(props, f.name), f.name); err != nil {
			return q, err
		}
	}
	if q.RedrivePolicy, err = t.redrivePolicy(get(props, "RedrivePolicy")); err != nil {
		return q, fmt.Errorf("RedrivePolicy: %w", err)
	}
	return q, nil
}

// redrivePolicy accepts the mapping form and the JSON-string form CloudFormation also allows.
func (t *Template) redrivePolicy(n *yaml.Node) (*RedrivePolicy, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if isLiteral(n) {
		var raw struct {
			DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
			MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(n.Value), &raw); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		var count int
		if err := json.Unmarshal(unquote(raw.MaxReceiveCount), &count); err != nil {
			return nil, fmt.Errorf("line %d: maxReceiveCount: %w", n.Line, err)
		}
		return &RedrivePolicy{DeadLetterTarget: Value{Literal: raw.DeadLetterTargetArn}, MaxReceiveCount: count}, nil
	}
	target, err := parseValue(get(n, "deadLetterTargetArn"))
	if err != nil {
		return nil, fmt.Errorf("deadLetterTargetArn: %w", err)
	}
	if target.IsLiteral() && target.Literal == "" {
		return nil, fmt.Errorf("line %d: no deadLetterTargetArn", n.Line)
	}
	count, err := t.plainInt(get(n, "maxReceiveCount"), "maxReceiveCount", 0)
	if err != nil {
		return nil, err
	}
	return &RedrivePolicy{DeadLetterTarget: target, MaxReceiveCount: count}, nil
}

// unquote lets maxReceiveCount be a JSON number or a numeric string, as SQS accepts both.
func unquote(raw json.RawMessage) json.RawMessage {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		return raw[1 : len(raw)-1]
	}
	return raw
}
