package pump

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// ScheduleHandler handles a scheduled invocation. payload is what EventBridge would send: the
// schedule's Input if it has one, else a "Scheduled Event". A runner adapts each function's own handler
// (which may take events.EventBridgeEvent or a typed input) to this shape.
type ScheduleHandler func(ctx context.Context, payload json.RawMessage) error

// Schedule is a Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler) event of a function.
type Schedule struct {
	Function string
	// Event is the event's name in the template.
	Event string
	// Type is "Schedule" or "ScheduleV2".
	Type string
	// Expression is rate(value unit), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss).
	Expression string
	// Timezone (ScheduleV2 only) is the IANA zone cron and at are read in; "" is UTC.
	Timezone string
	// Input is the JSON payload the schedule sends; "" sends a Scheduled Event.
	Input string
	// Enabled schedules fire on their own; all schedules fire on demand (Fire).
	Enabled bool
	// Timeout bounds each invocation (the function's Timeout); zero means none.
	Timeout time.Duration
	// Every, when positive, replaces the expression's timing: the schedule fires every Every. Tests and
	// demos use it so as not to wait for a real minute.
	Every time.Duration
}

// SchedulerOptions are the account context of the Scheduled Events and the retries of timed fires.
type SchedulerOptions struct {
	Region    string // default us-east-1
	AccountID string // default 123456789012
	// Retries of a timed fire whose handler failed. Zero means the default, 2, as Lambda retries an
	// asynchronous invocation twice; negative means none. Fire (on demand) never retries.
	Retries int
	// RetryDelay × attempt is the wait before a retry; default 200 ms.
	RetryDelay time.Duration
}

// Scheduler fires scheduled functions.
type Scheduler struct {
	schedules []*schedule
	handlers  map[string]ScheduleHandler
	opts      SchedulerOptions
	log       *slog.Logger

	mu          sync.Mutex
	inFlight    int
	changed     chan struct{}
	invocations uint64
}

type schedule struct {
	Schedule
	timing   timing
	resource string // the rule or schedule ARN in the Scheduled Event
	arn      string // the function ARN
}

// NewScheduler parses the schedules' expressions; every schedule's function needs a handler.
func NewScheduler(schedules []Schedule, handlers map[string]ScheduleHandler, opts SchedulerOptions, log *slog.Logger) (*Scheduler, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Retries == 0 {
		opts.Retries = 2
	}
	opts.Retries = max(opts.Retries, 0)
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{handlers: handlers, opts: opts, log: log.With("source", "schedule"), changed: make(chan struct{})}
	for _, sc := range schedules {
		if handlers[sc.Function] == nil {
			return nil, fmt.Errorf("schedule %s of %s: no handler", sc.Event, sc.Function)
		}
		loc := time.UTC
		if sc.Timezone != "" {
			var err error
			if loc, err = time.LoadLocation(sc.Timezone); err != nil {
				return nil, fmt.Errorf("schedule %s of %s: time zone: %w", sc.Event, sc.Function, err)
			}
		}
		t, err := parseExpression(sc.Expression, loc)
		if err != nil {
			return nil, fmt.Errorf("schedule %s of %s: %w", sc.Event, sc.Function, err)
		}
		if sc.Input != "" && !json.Valid([]byte(sc.Input)) {
			return nil, fmt.Errorf("schedule %s of %s: Input is not JSON", sc.Event, sc.Function)
		}
		resource := fmt.Sprintf("arn:aws:events:%s:%s:rule/%s%s", opts.Region, opts.AccountID, sc.Function, sc.Event)
		if sc.Type == "ScheduleV2" {
			resource = fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s%s", opts.Region, opts.AccountID, sc.Function, sc.Event)
		}
		s.schedules = append(s.schedules, &schedule{
			Schedule: sc, timing: t, resource: resource,
			arn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", opts.Region, opts.AccountID, sc.Function),
		})
	}
	return s, nil
}

// Run fires the enabled schedules on time until ctx is done, then returns nil. A fire that is still
// running when the next one is due makes it skip that one, as a slow function would.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, sc := range s.schedules {
		if !sc.Enabled {
			s.log.Info("schedule disabled; fires only on demand", "function", sc.Function, "event", sc.Event)
			continue
		}
		wg.Go(func() { s.loop(ctx, sc) })
	}
	wg.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context, sc *schedule) {
	next := sc.after(time.Now())
	s.log.Info("schedule started", "function", sc.Function, "event", sc.Event, "expression", sc.Expression, "next", next)
	for !next.IsZero() && sleep(ctx, time.Until(next)) {
		if err := s.fire(ctx, sc, next, s.opts.Retries); err != nil && ctx.Err() == nil {
			s.log.Error("scheduled invocation failed", "function", sc.Function, "event", sc.Event, "err", err)
		}
		now := time.Now()
		next = sc.after(next)
		for !next.IsZero() && !next.After(now) {
			next = sc.after(next)
		}
	}
}

// after is the schedule's first fire time after t.
func (sc *schedule) after(t time.Time) time.Time {
	if sc.Every > 0 {
		return t.Add(sc.Every)
	}
	return sc.timing.next(t)
}

// Fire invokes the function's scheduled handler now, once for each of its schedules (enabled or not),
// without retries, and returns the handler's errors. It backs POST /_local/schedules/{function}.
func (s *Scheduler) Fire(ctx context.Context, function string) error {
	var errs []error
	found := false
	for _, sc := range s.schedules {
		if sc.Function != function {
			continue
		}
		found = true
		if err := s.fire(ctx, sc, time.Now(), 0); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", function, sc.Event, err))
		}
	}
	if !found {
		return fmt.Errorf("%w: %s has no schedule", ErrUnknownFunction, function)
	}
	return errors.Join(errs...)
}

// Functions lists the functions that have schedules.
func (s *Scheduler) Functions() []string {
	var out []string
	for _, sc := range s.schedules {
		if !slices.Contains(out, sc.Function) {
			out = append(out, sc.Function)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Scheduler) fire(ctx context.Context, sc *schedule, at time.Time, retries int) error {
	s.track(1)
	defer s.track(-1)
	payload, err := scheduledPayload(sc, s.opts, at)
	if err != nil {
		return err
	}
	h := s.handlers[sc.Function]
	call := func(ctx context.Context, p json.RawMessage) (struct{}, error) { return struct{}{}, h(ctx, p) }
	for attempt := 1; ; attempt++ {
		start := time.Now()
		_, requestID, err := invoke(ctx, sc.arn, sc.Timeout, call, payload)
		s.mu.Lock()
		s.invocations++
		s.mu.Unlock()
		log := s.log.With("function", sc.Function, "event", sc.Event, "requestId", requestID, "attempt", attempt,
			"ms", time.Since(start).Milliseconds())
		if err == nil {
			log.Info("scheduled invocation")
			return nil
		}
		if attempt > retries || ctx.Err() != nil {
			return err
		}
		log.Warn("scheduled invocation failed; retrying", "err", err)
		if !sleep(ctx, s.opts.RetryDelay*time.Duration(attempt)) {
			return err
		}
	}
}

// scheduledPayload is the schedule's Input, or the Scheduled Event EventBridge sends without one.
func scheduledPayload(sc *schedule, opts SchedulerOptions, at time.Time) (json.RawMessage, error) {
	if sc.Input != "" {
		return json.RawMessage(sc.Input), nil
	}
	source := "aws.events"
	if sc.Type == "ScheduleV2" {
		source = "aws.scheduler"
	}
	return json.Marshal(events.EventBridgeEvent{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: "Scheduled Event",
		Source:     source,
		AccountID:  opts.AccountID,
		Time:       at.UTC().Truncate(time.Second),
		Region:     opts.Region,
		Resources:  []string{sc.resource},
		Detail:     json.RawMessage("{}"),
	})
}

func (s *Scheduler) track(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight += delta
	close(s.changed)
	s.changed = make(chan struct{})
}

// Drain returns once no scheduled invocation is running.
func (s *Scheduler) Drain(ctx context.Context) error {
	for {
		s.mu.Lock()
		n, changed := s.inFlight, s.changed
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Invocations counts the handler invocations so far, retries included.
func (s *Scheduler) Invocations() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invocations
}
