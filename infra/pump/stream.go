package pump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
)

// StreamHandler handles a batch of DynamoDB stream records, as the function's Lambda handler does.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// StreamsAPI is the part of the DynamoDB Streams client a StreamPump uses; *dynamodbstreams.Client has it.
type StreamsAPI interface {
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// MessageSender sends the on-failure invocation records; *sqs.Client has it.
type MessageSender interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Local defaults and caps.
const (
	DefaultStreamBatchSize = 100
	MaxStreamBatchSize     = 10000
	// MaxBatchingWindow caps MaximumBatchingWindowInSeconds locally: waiting up to 300 s for a batch to
	// fill would only slow local runs down.
	MaxBatchingWindow   = time.Second
	DefaultPollInterval = 150 * time.Millisecond
	// maxIdlePoll is how far polling backs off while a stream or queue stays quiet.
	maxIdlePoll       = time.Second
	DefaultRetryDelay = 200 * time.Millisecond
	maxRetryDelay     = 2 * time.Second
	// shardRefresh is how often the pump looks for new shards (AWS rolls shards over every few hours).
	shardRefresh = 5 * time.Second
	// getRecordsLimit is GetRecords' maximum Limit.
	getRecordsLimit = 1000
)

// Starting positions of a stream event source mapping.
const (
	StartLatest      = "LATEST"
	StartTrimHorizon = "TRIM_HORIZON"
)

// StreamConfig is one DynamoDB stream event source mapping. Fields follow the template's DynamoDB event.
type StreamConfig struct {
	// Function is the function's logical id: it names the pump in logs and the function in failure
	// records.
	Function string
	// FunctionARN goes into lambdacontext and failure records; default arn:aws:lambda:<region>:<account>:
	// function:<Function>, with the stream ARN's region and account.
	FunctionARN string
	StreamARN   string
	// StartingPosition is LATEST (default: records written before Run starts are not delivered) or
	// TRIM_HORIZON (everything the stream still holds).
	StartingPosition string
	// BatchSize defaults to 100.
	BatchSize int
	// BatchingWindow (MaximumBatchingWindowInSeconds) lets a batch fill for that long; capped at
	// MaxBatchingWindow. Zero invokes as soon as records arrive.
	BatchingWindow             time.Duration
	BisectBatchOnFunctionError bool
	// MaximumRetryAttempts: a negative value retries until the record expires (24 hours, locally too:
	// infra/moto/patches.py trims the stream as DynamoDB does); 0 discards a failing batch at once. Mind
	// the zero value.
	MaximumRetryAttempts int
	// MaximumRecordAge discards failing records older than this; zero or negative means no limit.
	MaximumRecordAge        time.Duration
	ReportBatchItemFailures bool
	// Filters are the FilterCriteria; a record must match one of them (none: all records pass).
	// Records that match none are dropped and count as processed, as in Lambda.
	Filters []*eventfilter.Pattern
	// OnFailureQueueURL is the SQS queue that gets an invocation record for each discarded batch.
	OnFailureQueueURL string
	// Timeout bounds each invocation (the function's Timeout); zero means none.
	Timeout time.Duration
	// PollInterval is the pause between polls when the stream is quiet, default 150 ms; it doubles
	// while the stream stays quiet, up to 1 s, and is back to PollInterval as soon as records arrive
	// or a Drain waits.
	PollInterval time.Duration
	// RetryDelay × attempt is the wait before a retry (capped at 2 s); default 200 ms.
	RetryDelay time.Duration
}

// StreamPump delivers a DynamoDB stream to a handler the way a Lambda event source mapping does.
type StreamPump struct {
	cfg     StreamConfig
	streams StreamsAPI
	sender  MessageSender
	handler StreamHandler
	log     *slog.Logger
	region  string
	act     *activity
}

// NewStreamPump checks cfg and fills in its defaults. sender may be nil when cfg has no
// OnFailureQueueURL.
func NewStreamPump(cfg StreamConfig, streams StreamsAPI, sender MessageSender, h StreamHandler, log *slog.Logger) (*StreamPump, error) {
	if cfg.Function == "" {
		return nil, errors.New("stream pump: no function")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("stream pump %s: %s", cfg.Function, fmt.Sprintf(format, args...))
	}
	region, _ := arnRegionAccount(cfg.StreamARN)
	if region == "" {
		return nil, fail("stream ARN %q is not an ARN", cfg.StreamARN)
	}
	switch cfg.StartingPosition {
	case "":
		cfg.StartingPosition = StartLatest
	case StartLatest, StartTrimHorizon:
	default:
		return nil, fail("starting position %q: want LATEST or TRIM_HORIZON", cfg.StartingPosition)
	}
	switch {
	case cfg.BatchSize == 0:
		cfg.BatchSize = DefaultStreamBatchSize
	case cfg.BatchSize < 0 || cfg.BatchSize > MaxStreamBatchSize:
		return nil, fail("batch size %d: want 1 to %d", cfg.BatchSize, MaxStreamBatchSize)
	}
	cfg.BatchingWindow = min(max(cfg.BatchingWindow, 0), MaxBatchingWindow)
	if cfg.FunctionARN == "" {
		cfg.FunctionARN = functionARN(cfg.StreamARN, cfg.Function)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if h == nil || streams == nil {
		return nil, fail("no handler or streams client")
	}
	if cfg.OnFailureQueueURL != "" && sender == nil {
		return nil, fail("on-failure queue %s without an SQS client", cfg.OnFailureQueueURL)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StreamPump{
		cfg: cfg, streams: streams, sender: sender, handler: h, region: region, act: newActivity(),
		log: log.With("function", cfg.Function, "source", "dynamodb-stream"),
	}, nil
}

// Run polls the stream until ctx is done, then returns nil. It returns an error if the stream cannot be
// described or positioned at the start; later errors are logged and retried. Run it once.
func (p *StreamPump) Run(ctx context.Context) error {
	defer p.act.stop()
	r := &streamRun{p: p, shards: map[string]*shard{}, finished: map[string]bool{}}
	if err := r.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("stream pump %s: %w", p.cfg.Function, err)
	}
	p.act.markReady()
	p.log.Info("stream pump started", "stream", p.cfg.StreamARN, "start", p.cfg.StartingPosition, "shards", len(r.order))
	for ctx.Err() == nil {
		r.cycle(ctx)
	}
	return nil
}

// Ready returns once Run has positioned its iterators: with LATEST, records written after Ready are
// delivered and earlier ones are not.
func (p *StreamPump) Ready(ctx context.Context) error { return p.act.waitReady(ctx) }

// Drain returns once the pump has polled every shard after Drain was called, found no new record, and
// has no batch in flight or waiting for a retry. A batch that keeps failing without a retry limit keeps
// Drain waiting until ctx is done.
func (p *StreamPump) Drain(ctx context.Context) error { return p.act.waitIdle(ctx) }

// Invocations counts the handler invocations so far.
func (p *StreamPump) Invocations() uint64 { return p.act.count() }

// Function returns the logical id of the pump's function.
func (p *StreamPump) Function() string { return p.cfg.Function }
