package pump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
)

// QueueHandler handles a batch of SQS messages, as the function's Lambda handler does.
type QueueHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// QueueAPI is the part of the SQS client a QueuePump uses; *sqs.Client has it.
type QueueAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// MaxQueueBatchSize is the most messages one ReceiveMessage returns, and so the largest local batch.
const MaxQueueBatchSize = 10

// QueueConfig is one SQS event source mapping.
type QueueConfig struct {
	// Function is the function's logical id, for logs; FunctionARN defaults from the queue ARN.
	Function    string
	FunctionARN string
	QueueURL    string
	QueueARN    string
	// BatchSize defaults to 10; larger sizes (which AWS allows with a batching window) are capped at 10.
	BatchSize               int
	ReportBatchItemFailures bool
	// Filters are the FilterCriteria. Messages that match none are deleted from the queue, as Lambda
	// does. A body that is a JSON object or array is matched as JSON, any other body as a string.
	Filters []*eventfilter.Pattern
	// Timeout bounds each invocation (the function's Timeout); zero means none.
	Timeout time.Duration
	// PollInterval is the pause between receives when the queue is empty, default 150 ms; it doubles
	// while the queue stays empty, up to 1 s, and is back to PollInterval when messages arrive or a
	// Drain waits.
	PollInterval time.Duration
}

// QueuePump delivers an SQS queue to a handler the way a Lambda event source mapping does.
//
// Messages the handler fails are not deleted (all of them on a handler error; the listed ones with a
// partial batch response) and reappear after their visibility timeout, or whatever the handler set with
// ChangeMessageVisibility. The queue's RedrivePolicy is applied by moto itself: moto's ReceiveMessage
// moves a message whose ApproximateReceiveCount has reached maxReceiveCount to the dead-letter queue
// instead of returning it, as SQS does, so the pump does not emulate it.
type QueuePump struct {
	cfg     QueueConfig
	queue   QueueAPI
	handler QueueHandler
	log     *slog.Logger
	region  string
	act     *activity
}

// NewQueuePump checks cfg and fills in its defaults.
func NewQueuePump(cfg QueueConfig, queue QueueAPI, h QueueHandler, log *slog.Logger) (*QueuePump, error) {
	if cfg.Function == "" {
		return nil, errors.New("queue pump: no function")
	}
	region, _ := arnRegionAccount(cfg.QueueARN)
	if region == "" || cfg.QueueURL == "" {
		return nil, fmt.Errorf("queue pump %s: want a queue URL and ARN, got %q and %q", cfg.Function, cfg.QueueURL, cfg.QueueARN)
	}
	switch {
	case cfg.BatchSize == 0:
		cfg.BatchSize = MaxQueueBatchSize
	case cfg.BatchSize < 0:
		return nil, fmt.Errorf("queue pump %s: batch size %d", cfg.Function, cfg.BatchSize)
	}
	cfg.BatchSize = min(cfg.BatchSize, MaxQueueBatchSize)
	if cfg.FunctionARN == "" {
		cfg.FunctionARN = functionARN(cfg.QueueARN, cfg.Function)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if h == nil || queue == nil {
		return nil, fmt.Errorf("queue pump %s: no handler or SQS client", cfg.Function)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &QueuePump{
		cfg: cfg, queue: queue, handler: h, region: region, act: newActivity(),
		log: log.With("function", cfg.Function, "source", "sqs"),
	}, nil
}

// Run polls the queue until ctx is done, then returns nil. Errors are logged and retried.
func (p *QueuePump) Run(ctx context.Context) error {
	defer p.act.stop()
	p.act.markReady()
	p.log.Info("queue pump started", "queue", p.cfg.QueueURL)
	errorsInARow, idleCycles, emptyChecks := 0, 0, 0
	for ctx.Err() == nil {
		start := time.Now()
		// WaitTimeSeconds 0, always: serve.py runs one request at a time and moto waits inside a long
		// poll, so a long poll would hold up every other call to moto.
		out, err := p.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.cfg.QueueURL),
			MaxNumberOfMessages:         int32(p.cfg.BatchSize),
			WaitTimeSeconds:             0,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			errorsInARow++
			p.log.Warn("receive failed", "attempt", errorsInARow, "err", err)
			sleep(ctx, min(time.Duration(errorsInARow)*time.Second, 10*time.Second))
			continue
		}
		errorsInARow = 0
		if len(out.Messages) == 0 {
			// moto counts visible and in-flight messages one after the other, so a message whose
			// visibility timeout ends between the two counts shows in neither: only two empty answers
			// in a row, a poll apart, mean an empty queue.
			idle := true
			if p.act.draining() {
				if p.empty(ctx) {
					emptyChecks++
				} else {
					emptyChecks = 0
				}
				idle = emptyChecks >= 2
			}
			p.act.cycle(start, idle)
			p.act.pause(ctx, time.Until(start.Add(p.act.idleBackoff(p.cfg.PollInterval, idleCycles))))
			idleCycles++
			continue
		}
		idleCycles, emptyChecks = 0, 0
		p.handle(ctx, out.Messages)
		p.act.cycle(start, false)
	}
	return nil
}

// empty reports whether the queue holds no message at all, visible, in flight or delayed: Drain then
// also waits for failed messages to come back and be retried or dead-lettered.
func (p *QueuePump) empty(ctx context.Context) bool {
	out, err := p.queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(p.cfg.QueueURL),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return false
	}
	for _, v := range out.Attributes {
		if n, err := strconv.Atoi(v); err != nil || n != 0 {
			return false
		}
	}
	return true
}

// Ready returns at once while Run is running: a queue keeps its messages until they are received.
func (p *QueuePump) Ready(ctx context.Context) error { return p.act.waitReady(ctx) }

// Drain returns once a receive that began after the call found the queue empty (nothing visible, in
// flight or delayed) with no batch in flight. A message that keeps failing with no redrive policy keeps
// Drain waiting until ctx is done.
func (p *QueuePump) Drain(ctx context.Context) error { return p.act.waitIdle(ctx) }

// Invocations counts the handler invocations so far.
func (p *QueuePump) Invocations() uint64 { return p.act.count() }

// Function returns the logical id of the pump's function.
func (p *QueuePump) Function() string { return p.cfg.Function }
