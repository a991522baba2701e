package pump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// Handlers are the functions' handlers, keyed by the template's logical ids, one map per kind of event.
// A function with an enabled or disabled event of a kind needs a handler of that kind, and a handler
// needs a function with such an event: the runner and the template cannot drift apart silently.
type Handlers struct {
	Streams   map[string]StreamHandler
	Queues    map[string]QueueHandler
	Schedules map[string]ScheduleHandler
}

// Option adjusts the pumps FromTemplate builds.
type Option func(*settings)

type settings struct {
	pollInterval  time.Duration
	retryDelay    time.Duration
	scheduleEvery time.Duration
}

// WithPollInterval sets how often quiet streams and queues are polled (default 150 ms).
func WithPollInterval(d time.Duration) Option { return func(s *settings) { s.pollInterval = d } }

// WithRetryDelay sets the base delay before a retry (default 200 ms, times the attempt).
func WithRetryDelay(d time.Duration) Option { return func(s *settings) { s.retryDelay = d } }

// WithScheduleEvery makes every schedule fire every d instead of on its expression: for tests and
// demos that cannot wait for rate(1 day).
func WithScheduleEvery(d time.Duration) Option { return func(s *settings) { s.scheduleEvery = d } }

// Set is every event source mapping and schedule of a template, built by FromTemplate.
type Set struct {
	Streams   []*StreamPump
	Queues    []*QueuePump
	Scheduler *Scheduler
	log       *slog.Logger
}

// FromTemplate builds the pumps and the scheduler for the template's DynamoDB, SQS and schedule events,
// against the resources Create made and the AWS endpoint in awsCfg (moto). Disabled events get no pump
// (disabled schedules still fire on demand). Conditions on functions are not evaluated: a conditional
// function is wired like any other.
func FromTemplate(tpl *stack.Template, res *stack.Resources, awsCfg aws.Config, h Handlers, log *slog.Logger, opts ...Option) (*Set, error) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &builder{
		tpl: tpl, res: res, h: h, st: st, log: log,
		streams: dynamodbstreams.NewFromConfig(awsCfg), queues: sqs.NewFromConfig(awsCfg),
		queueURLs: map[string]string{},
		used:      map[string]map[string]bool{"stream": {}, "queue": {}, "schedule": {}},
	}
	for _, q := range res.Queues {
		b.queueURLs[q.ARN] = q.URL
	}
	set := &Set{log: log}
	var schedules []Schedule
	for _, id := range slices.Sorted(maps.Keys(tpl.Functions)) {
		fn := tpl.Functions[id]
		for _, ev := range fn.StreamEvents {
			if p := b.stream(fn, ev); p != nil {
				set.Streams = append(set.Streams, p)
			}
		}
		for _, ev := range fn.QueueEvents {
			if p := b.queue(fn, ev); p != nil {
				set.Queues = append(set.Queues, p)
			}
		}
		for _, ev := range fn.ScheduleEvents {
			if b.handler("schedule", id, ev.Name, h.Schedules[id] != nil) {
				schedules = append(schedules, Schedule{
					Function: id, Event: ev.Name, Type: ev.Type, Expression: ev.Expression, Timezone: ev.Timezone,
					Input: ev.Input, Enabled: ev.Enabled, Timeout: seconds(fn.Timeout), Every: st.scheduleEvery,
				})
			}
		}
	}
	b.unused("stream", "DynamoDB", slices.Collect(maps.Keys(h.Streams)))
	b.unused("queue", "SQS", slices.Collect(maps.Keys(h.Queues)))
	b.unused("schedule", "Schedule or ScheduleV2", slices.Collect(maps.Keys(h.Schedules)))
	sched, err := NewScheduler(schedules, h.Schedules, SchedulerOptions{
		Region: res.Region, AccountID: res.AccountID, RetryDelay: st.retryDelay,
	}, log)
	if err != nil {
		b.errs = append(b.errs, err)
	}
	if err := errors.Join(b.errs...); err != nil {
		return nil, fmt.Errorf("pumps from template: %w", err)
	}
	set.Scheduler = sched
	return set, nil
}

// builder collects the errors of FromTemplate so that one run reports all of them.
type builder struct {
	tpl       *stack.Template
	res       *stack.Resources
	h         Handlers
	st        settings
	log       *slog.Logger
	streams   *dynamodbstreams.Client
	queues    *sqs.Client
	queueURLs map[string]string // by ARN
	used      map[string]map[string]bool
	errs      []error
}

func (b *builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf(format, args...))
}

// handler records that the function's event of this kind needs a handler and reports whether it has one.
func (b *builder) handler(kind, function, event string, ok bool) bool {
	b.used[kind][function] = true
	if !ok {
		b.fail("function %s: event %s needs a %s handler, and the runner has none", function, event, kind)
	}
	return ok
}

func (b *builder) unused(kind, eventType string, ids []string) {
	slices.Sort(ids)
	for _, id := range ids {
		if !b.used[kind][id] {
			b.fail("%s handler for %s: the template has no function %s with a %s event", kind, id, id, eventType)
		}
	}
}

func (b *builder) functionARN(id string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", b.res.Region, b.res.AccountID, id)
}

func (b *builder) stream(fn stack.Function, ev stack.StreamEvent) *StreamPump {
	h := b.h.Streams[fn.LogicalID]
	if !b.handler("stream", fn.LogicalID, ev.Name, h != nil) {
		return nil
	}
	if !ev.Enabled {
		b.log.Info("event disabled; no pump", "function", fn.LogicalID, "event", ev.Name)
		return nil
	}
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	arn, ok := b.res.Resolve(ev.Stream)
	if !ok {
		b.fail("%s: stream %s does not resolve to a stream of this stack", where, ev.Stream)
		return nil
	}
	filters, err := eventfilter.CompileAll(ev.FilterPatterns)
	if err != nil {
		b.fail("%s: FilterCriteria: %w", where, err)
		return nil
	}
	cfg := StreamConfig{
		Function:                   fn.LogicalID,
		FunctionARN:                b.functionARN(fn.LogicalID),
		StreamARN:                  arn,
		StartingPosition:           ev.StartingPosition,
		BatchSize:                  ev.BatchSize,
		BatchingWindow:             seconds(ev.MaximumBatchingWindowInSeconds),
		BisectBatchOnFunctionError: ev.BisectBatchOnFunctionError,
		MaximumRetryAttempts:       ev.MaximumRetryAttempts,
		MaximumRecordAge:           seconds(ev.MaximumRecordAgeInSeconds),
		ReportBatchItemFailures:    ev.ReportsBatchItemFailures(),
		Filters:                    filters,
		Timeout:                    seconds(fn.Timeout),
		PollInterval:               b.st.pollInterval,
		RetryDelay:                 b.st.retryDelay,
	}
	if !ev.OnFailure.IsLiteral() || ev.OnFailure.Literal != "" {
		dest, ok := b.res.Resolve(ev.OnFailure)
		url := b.queueURLs[dest]
		if !ok || url == "" {
			b.fail("%s: on-failure destination %s is not a queue of this stack (SNS destinations are not served locally)", where, ev.OnFailure)
			return nil
		}
		cfg.OnFailureQueueURL = url
	}
	p, err := NewStreamPump(cfg, b.streams, b.queues, h, b.log)
	if err != nil {
		b.fail("%s: %w", where, err)
		return nil
	}
	return p
}

func (b *builder) queue(fn stack.Function, ev stack.QueueEvent) *QueuePump {
	h := b.h.Queues[fn.LogicalID]
	if !b.handler("queue", fn.LogicalID, ev.Name, h != nil) {
		return nil
	}
	if !ev.Enabled {
		b.log.Info("event disabled; no pump", "function", fn.LogicalID, "event", ev.Name)
		return nil
	}
	where := fmt.Sprintf("function %s event %s", fn.LogicalID, ev.Name)
	arn, ok := b.res.Resolve(ev.Queue)
	url := b.queueURLs[arn]
	if !ok || url == "" {
		b.fail("%s: queue %s does not resolve to a queue of this stack", where, ev.Queue)
		return nil
	}
	filters, err := eventfilter.CompileAll(ev.FilterPatterns)
	if err != nil {
		b.fail("%s: FilterCriteria: %w", where, err)
		return nil
	}
	p, err := NewQueuePump(QueueConfig{
		Function:                fn.LogicalID,
		FunctionARN:             b.functionARN(fn.LogicalID),
		QueueURL:                url,
		QueueARN:                arn,
		BatchSize:               ev.BatchSize,
		ReportBatchItemFailures: ev.ReportsBatchItemFailures(),
		Filters:                 filters,
		Timeout:                 seconds(fn.Timeout),
		PollInterval:            b.st.pollInterval,
	}, b.queues, h, b.log)
	if err != nil {
		b.fail("%s: %w", where, err)
		return nil
	}
	return p
}

// seconds converts a template's seconds; negative values (AWS's -1, "no limit") become zero.
func seconds(n int) time.Duration {
	return time.Duration(max(n, 0)) * time.Second
}

// Run runs every pump and the scheduler until ctx is done. If one of them fails (a stream that cannot
// be read at the start), the others are stopped and the errors returned.
func (s *Set) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var runs []func(context.Context) error
	if s.Scheduler != nil {
		runs = append(runs, s.Scheduler.Run)
	}
	for _, p := range s.Streams {
		runs = append(runs, p.Run)
	}
	for _, p := range s.Queues {
		runs = append(runs, p.Run)
	}
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			if errs[i] = run(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Ready returns once every stream pump has positioned its iterators (see StreamPump.Ready).
func (s *Set) Ready(ctx context.Context) error {
	for _, p := range s.Streams {
		if err := p.Ready(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.Function(), err)
		}
	}
	for _, p := range s.Queues {
		if err := p.Ready(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.Function(), err)
		}
	}
	return nil
}

// Drain returns once nothing is left to deliver: every pump is drained and a whole round of drains saw
// no invocation, so effects that trigger further events (a stream handler sending to a queue, a queue
// handler writing to the table) have run their course. Scheduled fires in flight are waited for.
func (s *Set) Drain(ctx context.Context) error {
	for {
		before := s.invocations()
		for _, p := range s.Streams {
			if err := p.Drain(ctx); err != nil {
				return fmt.Errorf("drain %s: %w", p.Function(), err)
			}
		}
		for _, p := range s.Queues {
			if err := p.Drain(ctx); err != nil {
				return fmt.Errorf("drain %s: %w", p.Function(), err)
			}
		}
		if s.Scheduler != nil {
			if err := s.Scheduler.Drain(ctx); err != nil {
				return fmt.Errorf("drain schedules: %w", err)
			}
		}
		if s.invocations() == before {
			return nil
		}
	}
}

// invocations counts the pumps' invocations; scheduled fires are left out, since a schedule that fires
// every few milliseconds in a test would otherwise keep Drain from ever settling.
func (s *Set) invocations() uint64 {
	var n uint64
	for _, p := range s.Streams {
		n += p.Invocations()
	}
	for _, p := range s.Queues {
		n += p.Invocations()
	}
	return n
}

// Fire invokes the function's scheduled handler now (see Scheduler.Fire); ErrUnknownFunction if the
// function has no schedule.
func (s *Set) Fire(ctx context.Context, function string) error {
	if s.Scheduler == nil {
		return fmt.Errorf("%w: %s has no schedule", ErrUnknownFunction, function)
	}
	return s.Scheduler.Fire(ctx, function)
}
