package pump

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/eventfilter"
)

// keys lists the pk of each record of each invocation, e.g. [[r1 r2] [r2]].
func keys(evs []events.DynamoDBEvent) [][]string {
	out := make([][]string, len(evs))
	for i, ev := range evs {
		out[i] = []string{}
		for _, r := range ev.Records {
			out[i] = append(out[i], r.Change.Keys["pk"].String())
		}
	}
	return out
}

func seqOf(evs []events.DynamoDBEvent, pk string) string {
	for _, ev := range evs {
		for _, r := range ev.Records {
			if r.Change.Keys["pk"].String() == pk {
				return r.Change.SequenceNumber
			}
		}
	}
	return ""
}

// newStream builds a pump with the tests' fast timings, starts it and waits until it is positioned.
func (e *env) newStream(t *testing.T, cfg StreamConfig, h StreamHandler) *StreamPump {
	t.Helper()
	if cfg.Function == "" {
		cfg.Function = "StreamFunction"
	}
	cfg.PollInterval, cfg.RetryDelay = testPoll, testRetry
	p, err := NewStreamPump(cfg, e.streams, e.sqs, h, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	start(t, p)
	if err := p.Ready(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	return p
}

func drain(t *testing.T, d interface{ Drain(context.Context) error }) {
	t.Helper()
	if err := d.Drain(waitCtx(t)); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

func TestStreamPump(t *testing.T) {
	t.Parallel() // each starts its own moto; overlapping the starts saves seconds
	e := newEnv(t)

	t.Run("delivers records as Lambda does", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewAndOldImages)
		e.put(t, name, "before", "submitted") // written before the mapping: LATEST skips it
		var got calls[events.DynamoDBEvent]
		var lc calls[*lambdacontext.LambdaContext]
		p := e.newStream(t, StreamConfig{Function: "DispatchFunction", StreamARN: arn, MaximumRetryAttempts: -1},
			func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				c, _ := lambdacontext.FromContext(ctx)
				lc.add(c)
				got.add(ev)
				return events.DynamoDBEventResponse{}, nil
			})
		e.put(t, name, "a", "submitted")
		e.put(t, name, "a", "resolved")
		e.del(t, name, "a")
		drain(t, p)

		var recs []events.DynamoDBEventRecord
		for _, ev := range got.all() {
			recs = append(recs, ev.Records...)
		}
		if len(recs) != 3 {
			t.Fatalf("got %d records %v, want INSERT, MODIFY, REMOVE of a", len(recs), keys(got.all()))
		}
		ids := map[string]bool{}
		for i, r := range recs {
			want := []string{"INSERT", "MODIFY", "REMOVE"}[i]
			if r.EventName != want || r.Change.Keys["pk"].String() != "a" {
				t.Errorf("record %d: %s of %s, want %s of a", i, r.EventName, r.Change.Keys["pk"].String(), want)
			}
			if r.EventVersion != "1.1" || r.EventSource != "aws:dynamodb" || r.AWSRegion != "us-east-1" || r.EventSourceArn != arn {
				t.Errorf("record %d envelope = %q %q %q %q", i, r.EventVersion, r.EventSource, r.AWSRegion, r.EventSourceArn)
			}
			if r.EventID == "" || ids[r.EventID] {
				t.Errorf("record %d: eventID %q empty or repeated", i, r.EventID)
			}
			ids[r.EventID] = true
			c := r.Change
			if c.StreamViewType != "NEW_AND_OLD_IMAGES" || c.SizeBytes <= 0 {
				t.Errorf("record %d: view %q size %d", i, c.StreamViewType, c.SizeBytes)
			}
			if age := time.Since(c.ApproximateCreationDateTime.Time); age < 0 || age > time.Minute || c.ApproximateCreationDateTime.Nanosecond() != 0 {
				t.Errorf("record %d: ApproximateCreationDateTime %v, want whole seconds, just now", i, c.ApproximateCreationDateTime.Time)
			}
			if i > 0 && !seqLess(recs[i-1].Change.SequenceNumber, c.SequenceNumber) {
				t.Errorf("sequence numbers out of order: %s then %s", recs[i-1].Change.SequenceNumber, c.SequenceNumber)
			}
		}
		if recs[0].Change.OldImage != nil || recs[0].Change.NewImage["status"].String() != "submitted" {
			t.Errorf("INSERT images: old %v new %v", recs[0].Change.OldImage, recs[0].Change.NewImage)
		}
		if recs[1].Change.OldImage["status"].String() != "submitted" || recs[1].Change.NewImage["status"].String() != "resolved" {
			t.Errorf("MODIFY images: old %v new %v", recs[1].Change.OldImage, recs[1].Change.NewImage)
		}
		if recs[2].Change.NewImage != nil || recs[2].Change.OldImage["status"].String() != "resolved" {
			t.Errorf("REMOVE images: old %v new %v", recs[2].Change.OldImage, recs[2].Change.NewImage)
		}
		for _, c := range lc.all() {
			if c == nil || c.AwsRequestID == "" || c.InvokedFunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:DispatchFunction" {
				t.Errorf("lambda context = %+v", c)
			}
		}
	})

	t.Run("TRIM_HORIZON reads from the start in batches of BatchSize", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeKeysOnly)
		for i := 1; i <= 5; i++ {
			e.put(t, name, fmt.Sprintf("r%d", i), "submitted")
		}
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, StartingPosition: StartTrimHorizon, BatchSize: 2, MaximumRetryAttempts: -1},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				got.add(ev)
				return events.DynamoDBEventResponse{}, nil
			})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{{"r1", "r2"}, {"r3", "r4"}, {"r5"}})
		if r := got.all()[0].Records[0]; r.Change.NewImage != nil || r.Change.StreamViewType != "KEYS_ONLY" {
			t.Errorf("KEYS_ONLY record has images: %+v", r.Change)
		}
	})

	t.Run("FilterCriteria drops records that match no filter", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewAndOldImages)
		filters, err := eventfilter.CompileAll([]string{
			`{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"status":{"S":["resolved"]}}}}`,
			`{"eventName":["REMOVE"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"keep"}]}}}}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, Filters: filters, MaximumRetryAttempts: -1},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				got.add(ev)
				return events.DynamoDBEventResponse{}, nil
			})
		e.put(t, name, "a", "submitted") // INSERT, not resolved: dropped
		e.put(t, name, "a", "resolved")  // MODIFY to resolved: delivered
		e.put(t, name, "b", "rejected")  // dropped
		e.put(t, name, "keep1", "resolved")
		e.del(t, name, "b")     // REMOVE of b: dropped
		e.del(t, name, "keep1") // REMOVE of keep1: delivered
		drain(t, p)
		var seen []string
		for _, ev := range got.all() {
			for _, r := range ev.Records {
				seen = append(seen, r.EventName+" "+r.Change.Keys["pk"].String())
			}
		}
		if want := []string{"MODIFY a", "INSERT keep1", "REMOVE keep1"}; !slices.Equal(seen, want) {
			t.Errorf("delivered %v, want %v", seen, want)
		}
	})

	t.Run("a partial batch failure retries from the lowest failed sequence number", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		for i := 1; i <= 5; i++ {
			e.put(t, name, fmt.Sprintf("r%d", i), "submitted")
		}
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, StartingPosition: StartTrimHorizon, ReportBatchItemFailures: true, MaximumRetryAttempts: 3},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				if got.add(ev) > 1 {
					return events.DynamoDBEventResponse{}, nil
				}
				// Report r4 before r3: the checkpoint is the lowest, r3.
				return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
					{ItemIdentifier: ev.Records[3].Change.SequenceNumber}, {ItemIdentifier: ev.Records[2].Change.SequenceNumber},
				}}, nil
			})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{{"r1", "r2", "r3", "r4", "r5"}, {"r3", "r4", "r5"}})
	})

	t.Run("batch item failures are ignored without ReportBatchItemFailures", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		e.put(t, name, "r1", "submitted")
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, StartingPosition: StartTrimHorizon, MaximumRetryAttempts: 3},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				got.add(ev)
				return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[0].Change.SequenceNumber}}}, nil
			})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{{"r1"}})
	})

	t.Run("an itemIdentifier that is not in the batch fails the whole batch", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		e.put(t, name, "r1", "submitted")
		e.put(t, name, "r2", "submitted")
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, StartingPosition: StartTrimHorizon, ReportBatchItemFailures: true, MaximumRetryAttempts: 3},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				switch got.add(ev) {
				case 1:
					return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "not-a-sequence-number"}}}, nil
				case 2:
					return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: ""}}}, nil
				}
				return events.DynamoDBEventResponse{}, nil
			})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{{"r1", "r2"}, {"r1", "r2"}, {"r1", "r2"}})
	})

	t.Run("a handler error or panic retries the whole batch", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		e.put(t, name, "r1", "submitted")
		e.put(t, name, "r2", "submitted")
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, StartingPosition: StartTrimHorizon, ReportBatchItemFailures: true, MaximumRetryAttempts: 3},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				switch got.add(ev) {
				case 1:
					return events.DynamoDBEventResponse{}, errors.New("table busy")
				case 2:
					panic("nil map")
				}
				return events.DynamoDBEventResponse{}, nil
			})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{{"r1", "r2"}, {"r1", "r2"}, {"r1", "r2"}})
	})

	t.Run("a poison record exhausts its retries and goes to the on-failure queue", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		dlq, _ := e.queue(t, name+"-failures", nil)
		for _, pk := range []string{"r1", "poison", "r3"} {
			e.put(t, name, pk, "submitted")
		}
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{
			StreamARN: arn, StartingPosition: StartTrimHorizon, ReportBatchItemFailures: true,
			MaximumRetryAttempts: 2, OnFailureQueueURL: dlq,
		}, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got.add(ev)
			var resp events.DynamoDBEventResponse
			for _, r := range ev.Records {
				if r.Change.Keys["pk"].String() == "poison" {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
				}
			}
			return resp, nil
		})
		drain(t, p)
		// The first attempt and two retries; r1 is checkpointed after the first and never comes back.
		assertKeys(t, got.all(), [][]string{{"r1", "poison", "r3"}, {"poison", "r3"}, {"poison", "r3"}})

		bodies := e.receiveAll(t, dlq)
		if len(bodies) != 1 {
			t.Fatalf("on-failure queue holds %d messages, want 1", len(bodies))
		}
		var rec StreamFailureRecord
		if err := json.Unmarshal([]byte(bodies[0]), &rec); err != nil {
			t.Fatal(err)
		}
		evs := got.all()
		want := StreamBatchInfo{
			ShardID: rec.BatchInfo.ShardID, StartSequenceNumber: seqOf(evs, "poison"), EndSequenceNumber: seqOf(evs, "r3"),
			ApproximateArrivalOfFirstRecord: rec.BatchInfo.ApproximateArrivalOfFirstRecord,
			ApproximateArrivalOfLastRecord:  rec.BatchInfo.ApproximateArrivalOfLastRecord,
			BatchSize:                       2, StreamARN: arn,
		}
		if rec.BatchInfo != want || !strings.HasPrefix(rec.BatchInfo.ShardID, "shardId-") {
			t.Errorf("DDBStreamBatchInfo = %+v, want %+v", rec.BatchInfo, want)
		}
		if _, err := time.Parse(time.RFC3339, rec.BatchInfo.ApproximateArrivalOfFirstRecord); err != nil {
			t.Errorf("approximateArrivalOfFirstRecord: %v", err)
		}
		rc := rec.RequestContext
		if rc.Condition != ConditionRetryAttemptsExhausted || rc.ApproximateInvokeCount != 3 || rc.RequestID == "" ||
			rc.FunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:StreamFunction" {
			t.Errorf("requestContext = %+v", rc)
		}
		// A partial batch response is not a function error.
		if r := rec.ResponseContext; r == nil || r.StatusCode != 200 || r.ExecutedVersion != "$LATEST" || r.FunctionError != "" {
			t.Errorf("responseContext = %+v", r)
		}
		if rec.Version != "1.0" || !strings.HasSuffix(rec.Timestamp, "Z") {
			t.Errorf("version %q timestamp %q", rec.Version, rec.Timestamp)
		}

		// The stream moves on.
		e.put(t, name, "r4", "submitted")
		drain(t, p)
		if all := keys(got.all()); !slices.Equal(all[len(all)-1], []string{"r4"}) {
			t.Errorf("after the discard: %v, want r4 delivered", all)
		}
	})

	t.Run("bisecting isolates a poison record", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		dlq, _ := e.queue(t, name+"-failures", nil)
		for _, pk := range []string{"r1", "r2", "poison", "r4"} {
			e.put(t, name, pk, "submitted")
		}
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{
			StreamARN: arn, StartingPosition: StartTrimHorizon, BatchSize: 4, BisectBatchOnFunctionError: true,
			MaximumRetryAttempts: 2, OnFailureQueueURL: dlq,
		}, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got.add(ev)
			for _, r := range ev.Records {
				if r.Change.Keys["pk"].String() == "poison" {
					return events.DynamoDBEventResponse{}, errors.New("cannot process poison")
				}
			}
			return events.DynamoDBEventResponse{}, nil
		})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{
			{"r1", "r2", "poison", "r4"}, // fails: halves
			{"r1", "r2"},                 // ok
			{"poison", "r4"},             // fails: halves
			{"poison"},                   // fails a third time: discarded alone
			{"r4"},                       // ok
		})
		bodies := e.receiveAll(t, dlq)
		if len(bodies) != 1 {
			t.Fatalf("on-failure queue holds %d messages, want 1", len(bodies))
		}
		var rec StreamFailureRecord
		if err := json.Unmarshal([]byte(bodies[0]), &rec); err != nil {
			t.Fatal(err)
		}
		poison := seqOf(got.all(), "poison")
		if b := rec.BatchInfo; b.BatchSize != 1 || b.StartSequenceNumber != poison || b.EndSequenceNumber != poison {
			t.Errorf("batch info = %+v, want the poison record %s alone", b, poison)
		}
		if rec.RequestContext.ApproximateInvokeCount != 3 || rec.ResponseContext == nil || rec.ResponseContext.FunctionError != "Unhandled" {
			t.Errorf("requestContext %+v responseContext %+v", rec.RequestContext, rec.ResponseContext)
		}
	})

	t.Run("without bisect a handler error discards the whole batch", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		e.put(t, name, "r1", "submitted")
		e.put(t, name, "poison", "submitted")
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{StreamARN: arn, StartingPosition: StartTrimHorizon, MaximumRetryAttempts: 1},
			func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				got.add(ev)
				return events.DynamoDBEventResponse{}, errors.New("always")
			})
		drain(t, p)
		assertKeys(t, got.all(), [][]string{{"r1", "poison"}, {"r1", "poison"}})
	})

	t.Run("records older than MaximumRecordAge are discarded", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		arn := e.table(t, name, ddbtypes.StreamViewTypeNewImage)
		dlq, _ := e.queue(t, name+"-failures", nil)
		e.put(t, name, "r1", "submitted")
		var got calls[events.DynamoDBEvent]
		p := e.newStream(t, StreamConfig{
			StreamARN: arn, StartingPosition: StartTrimHorizon, MaximumRetryAttempts: -1,
			MaximumRecordAge: time.Second, OnFailureQueueURL: dlq,
		}, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got.add(ev)
			return events.DynamoDBEventResponse{}, errors.New("always")
		})
		drain(t, p)
		// Retries back off (50 ms × attempt here), so about a second of failures is a handful of
		// invocations, not a hot loop.
		if n := len(got.all()); n < 2 || n > 12 {
			t.Errorf("%d invocations before the record aged out, want a few", n)
		}
		bodies := e.receiveAll(t, dlq)
		if len(bodies) != 1 || !strings.Contains(bodies[0], `"condition":"RecordAgeExceeded"`) {
			t.Errorf("on-failure queue = %v, want one RecordAgeExceeded record", bodies)
		}
	})

	t.Run("Run fails on a stream that does not exist", func(t *testing.T) {
		t.Parallel()
		p, err := NewStreamPump(StreamConfig{Function: "F", StreamARN: "arn:aws:dynamodb:us-east-1:123456789012:table/nope/stream/2026-01-01T00:00:00.000"},
			e.streams, nil, func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return events.DynamoDBEventResponse{}, nil
			}, testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(waitCtx(t)); err == nil {
			t.Error("Run = nil, want an error")
		}
		if err := p.Ready(waitCtx(t)); !errors.Is(err, ErrStopped) {
			t.Errorf("Ready after Run = %v, want ErrStopped", err)
		}
		if err := p.Drain(waitCtx(t)); !errors.Is(err, ErrStopped) {
			t.Errorf("Drain after Run = %v, want ErrStopped", err)
		}
	})
}

func assertKeys(t *testing.T, evs []events.DynamoDBEvent, want [][]string) {
	t.Helper()
	got := keys(evs)
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("invocations = %v, want %v", got, want)
	}
}

// seqLess compares stream sequence numbers: decimal strings of varying length.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func TestNewStreamPumpChecksConfig(t *testing.T) {
	h := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}
	const arn = "arn:aws:dynamodb:us-east-1:1:table/t/stream/x"
	tests := []struct {
		name string
		cfg  StreamConfig
		h    StreamHandler
		want string
	}{
		{"no function", StreamConfig{StreamARN: arn}, h, "no function"},
		{"no ARN", StreamConfig{Function: "F", StreamARN: "t"}, h, "is not an ARN"},
		{"starting position", StreamConfig{Function: "F", StreamARN: arn, StartingPosition: "AT_TIMESTAMP"}, h, "want LATEST or TRIM_HORIZON"},
		{"batch size", StreamConfig{Function: "F", StreamARN: arn, BatchSize: 10001}, h, "want 1 to 10000"},
		{"no handler", StreamConfig{Function: "F", StreamARN: arn}, nil, "no handler"},
		{"destination without client", StreamConfig{Function: "F", StreamARN: arn, OnFailureQueueURL: "http://q"}, h, "without an SQS client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStreamPump(tt.cfg, fakeStreams{}, nil, tt.h, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewStreamPump = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	p, err := NewStreamPump(StreamConfig{Function: "F", StreamARN: arn, BatchingWindow: time.Minute}, fakeStreams{}, nil, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.cfg; c.StartingPosition != StartLatest || c.BatchSize != 100 || c.BatchingWindow != MaxBatchingWindow ||
		c.FunctionARN != "arn:aws:lambda:us-east-1:1:function:F" || c.PollInterval != DefaultPollInterval {
		t.Errorf("defaults = %+v", c)
	}
}

// fakeStreams satisfies StreamsAPI for construction tests; it is never called.
type fakeStreams struct{ StreamsAPI }
