package pump

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// failingStream is a one-shard stream: quiet until a record is written, then its next GetRecords fails
// (a dropped connection) and the one after returns the record.
type failingStream struct {
	quietStream
	mu      sync.Mutex
	written bool
	failed  bool
	served  bool
}

func (f *failingStream) write() {
	f.mu.Lock()
	f.written = true
	f.mu.Unlock()
}

func (f *failingStream) GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &dynamodbstreams.GetRecordsOutput{NextShardIterator: aws.String("it")}
	switch {
	case !f.written || f.served:
		return out, nil
	case !f.failed:
		f.failed = true
		return nil, errors.New("read tcp: use of closed network connection")
	}
	f.served = true
	now := time.Now()
	out.Records = []types.Record{{EventID: aws.String("e1"), EventName: types.OperationTypeInsert, Dynamodb: &types.StreamRecord{
		SequenceNumber: aws.String("100"), ApproximateCreationDateTime: &now, StreamViewType: types.StreamViewTypeNewAndOldImages,
		Keys: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "A"}},
	}}}
	return out, nil
}

// A Drain that starts while a shard backs off after a failed read waits for the read that follows:
// the record written before the Drain has been handled when it returns.
func TestDrainWaitsOutAFailedRead(t *testing.T) {
	f := &failingStream{}
	var handled atomic.Int32
	p, err := NewStreamPump(StreamConfig{
		Function: "F", StreamARN: "arn:aws:dynamodb:us-east-1:1:table/t/stream/s", PollInterval: 20 * time.Millisecond,
	}, f, nil, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		handled.Add(int32(len(ev.Records)))
		return events.DynamoDBEventResponse{}, nil
	}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if err := p.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	f.write()
	// Let the pump meet the failure first, then drain.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		failed := f.failed
		f.mu.Unlock()
		if failed {
			break
		}
	}
	drainCtx, cancelDrain := context.WithTimeout(ctx, 10*time.Second)
	defer cancelDrain()
	if err := p.Drain(drainCtx); err != nil {
		t.Fatal(err)
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("Drain returned with %d records handled, want the 1 written before it", n)
	}
	cancel()
	<-done
}
