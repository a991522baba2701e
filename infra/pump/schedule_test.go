package pump

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestSchedulerFire(t *testing.T) {
	var got calls[json.RawMessage]
	var arns calls[string]
	fail := errors.New("roll-up failed")
	handlers := map[string]ScheduleHandler{
		"KpiFunction": func(ctx context.Context, p json.RawMessage) error {
			if c, ok := lambdacontext.FromContext(ctx); ok {
				arns.add(c.InvokedFunctionArn)
			}
			got.add(p)
			return nil
		},
		"SweeperFunction": func(context.Context, json.RawMessage) error { return fail },
	}
	s, err := NewScheduler([]Schedule{
		{Function: "KpiFunction", Event: "Hourly", Type: "ScheduleV2", Expression: "rate(1 hour)", Input: `{"job": "kpi"}`, Enabled: true},
		{Function: "KpiFunction", Event: "Nightly", Type: "Schedule", Expression: "cron(0 2 * * ? *)"},
		{Function: "KpiFunction", Event: "Weekly", Type: "ScheduleV2", Expression: "cron(0 3 ? * MON *)", Timezone: "UTC"},
		{Function: "SweeperFunction", Event: "Sweep", Type: "ScheduleV2", Expression: "rate(15 minutes)", Enabled: true},
	}, handlers, SchedulerOptions{Region: "eu-west-1", AccountID: "111122223333"}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	if err := s.Fire(t.Context(), "KpiFunction"); err != nil {
		t.Fatalf("Fire: %v", err)
	}
	payloads := got.all()
	if len(payloads) != 3 {
		t.Fatalf("%d invocations, want one per schedule (3), disabled ones included", len(payloads))
	}
	if string(payloads[0]) != `{"job": "kpi"}` {
		t.Errorf("payload with Input = %s, want the Input verbatim", payloads[0])
	}
	for i, want := range []struct{ source, resource string }{
		{"aws.events", "arn:aws:events:eu-west-1:111122223333:rule/KpiFunctionNightly"},
		{"aws.scheduler", "arn:aws:scheduler:eu-west-1:111122223333:schedule/default/KpiFunctionWeekly"},
	} {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payloads[i+1], &ev); err != nil {
			t.Fatal(err)
		}
		if ev.DetailType != "Scheduled Event" || ev.Source != want.source || ev.Version != "0" || ev.ID == "" ||
			ev.AccountID != "111122223333" || ev.Region != "eu-west-1" || len(ev.Resources) != 1 || ev.Resources[0] != want.resource ||
			string(ev.Detail) != "{}" {
			t.Errorf("scheduled event %d = %s", i, payloads[i+1])
		}
		if ev.Time.Before(before) || ev.Time.After(time.Now()) || ev.Time.Nanosecond() != 0 {
			t.Errorf("event time %v, want now in whole seconds", ev.Time)
		}
	}
	for _, arn := range arns.all() {
		if arn != "arn:aws:lambda:eu-west-1:111122223333:function:KpiFunction" {
			t.Errorf("function ARN in the context = %q", arn)
		}
	}

	if err := s.Fire(t.Context(), "SweeperFunction"); !errors.Is(err, fail) || !strings.Contains(err.Error(), "SweeperFunction (Sweep)") {
		t.Errorf("Fire of a failing handler = %v, want its error, named", err)
	}
	if err := s.Fire(t.Context(), "IntakeFunction"); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("Fire of a function without schedules = %v, want ErrUnknownFunction", err)
	}
	if fns := s.Functions(); len(fns) != 2 || fns[0] != "KpiFunction" || fns[1] != "SweeperFunction" {
		t.Errorf("Functions = %v", fns)
	}
}

func TestSchedulerRun(t *testing.T) {
	var fast, disabled atomic.Int32
	s, err := NewScheduler([]Schedule{
		{Function: "Fast", Event: "E", Expression: "rate(1 day)", Enabled: true, Every: 40 * time.Millisecond},
		{Function: "Off", Event: "E", Expression: "rate(1 minute)", Every: 10 * time.Millisecond},
	}, map[string]ScheduleHandler{
		"Fast": func(context.Context, json.RawMessage) error { fast.Add(1); return nil },
		"Off":  func(context.Context, json.RawMessage) error { disabled.Add(1); return nil },
	}, SchedulerOptions{}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for fast.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if n := fast.Load(); n < 3 {
		t.Errorf("the 40 ms schedule fired %d times, want at least 3", n)
	}
	if n := disabled.Load(); n != 0 {
		t.Errorf("the disabled schedule fired %d times on its own", n)
	}
	if err := s.Drain(t.Context()); err != nil {
		t.Errorf("Drain = %v", err)
	}
}

func TestSchedulerRetriesTimedFires(t *testing.T) {
	tests := []struct {
		name      string
		failures  int // the handler fails this many calls, then succeeds
		retries   int
		wantCalls int
		wantErr   bool
	}{
		{"succeeds at once", 0, 2, 1, false},
		{"succeeds on the second retry", 2, 2, 3, false},
		{"fails for good", 5, 2, 3, true},
		{"no retries", 1, -1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			s, err := NewScheduler([]Schedule{{Function: "F", Event: "E", Expression: "rate(1 hour)", Enabled: true}},
				map[string]ScheduleHandler{"F": func(context.Context, json.RawMessage) error {
					if int(n.Add(1)) <= tt.failures {
						return errors.New("boom")
					}
					return nil
				}}, SchedulerOptions{Retries: tt.retries, RetryDelay: time.Millisecond}, testLog(t))
			if err != nil {
				t.Fatal(err)
			}
			err = s.fire(t.Context(), s.schedules[0], time.Now(), s.opts.Retries)
			if (err != nil) != tt.wantErr || int(n.Load()) != tt.wantCalls {
				t.Errorf("fire = %v after %d calls, want error %v after %d", err, n.Load(), tt.wantErr, tt.wantCalls)
			}
		})
	}
}

func TestNewSchedulerErrors(t *testing.T) {
	h := map[string]ScheduleHandler{"F": func(context.Context, json.RawMessage) error { return nil }}
	tests := []struct {
		name string
		s    Schedule
		want string
	}{
		{"no handler", Schedule{Function: "G", Event: "E", Expression: "rate(1 hour)"}, "schedule E of G: no handler"},
		{"bad expression", Schedule{Function: "F", Event: "E", Expression: "rate(1 hours)"}, "singular"},
		{"bad zone", Schedule{Function: "F", Event: "E", Expression: "rate(1 hour)", Timezone: "Mars/Olympus"}, "time zone"},
		{"bad input", Schedule{Function: "F", Event: "E", Expression: "rate(1 hour)", Input: "{"}, "Input is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewScheduler([]Schedule{tt.s}, h, SchedulerOptions{}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewScheduler = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
