package testenv

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// CreateReport writes r (a new report with its first timeline entry and a completed idempotency key)
// with the store's CreateReport, as intake does, and returns what was written. Zero fields get defaults: a
// fresh id, status submitted, reporter "citizen1", created now, one photo.
func (e *Env) CreateReport(r report.Report) report.Report {
	e.T.Helper()
	if r.ID == "" {
		r.ID = platform.NewID()
	}
	if r.Status == "" {
		r.Status = report.Submitted
	}
	if r.ReporterSub == "" {
		r.ReporterSub = "citizen1"
	}
	if r.Description == "" {
		r.Description = "测试 test report"
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	if r.Photos == nil {
		r.Photos = []report.Photo{{Key: "reports/" + r.ID + "/1.jpg", ContentType: "image/jpeg", Size: 1234, MetadataStripped: true}}
	}
	if r.Timeline == nil {
		r.Timeline = []report.TimelineEntry{{At: r.CreatedAt, Status: report.Submitted, Actor: "citizen"}}
	}
	// As intake does: claim the idempotency key, then write the report and complete the key together.
	key := idem.Record{Scope: "report", Owner: r.ReporterSub, Key: "k-" + r.ID, BodyHash: "h", Status: idem.InFlight,
		ResourceID: r.ID, LockedUntil: time.Now().Add(idem.Lease), ExpiresAt: time.Now().Add(idem.TTL)}
	// A claim held under this very id is our own, applied by an SDK retry of the PutItem whose first
	// answer was lost (see retries.go): carry on with it.
	if existing, err := e.Store.ClaimKey(context.Background(), key); err != nil || existing != nil && existing.ResourceID != r.ID {
		e.T.Fatalf("claim key: %v (held: %v)", err, existing != nil)
	}
	key.Status, key.Result = idem.Done, []byte(`{}`)
	if err := e.Store.CreateReport(context.Background(), r, key); err != nil {
		e.T.Fatalf("create report: %v", err)
	}
	return r
}

// Partition returns every item of report id's partition (report, timeline, assignments, inbound events,
// resolution), read consistently: a test compares it before and after a refused request.
func (e *Env) Partition(id string) []map[string]types.AttributeValue {
	e.T.Helper()
	out, err := e.DB.Query(context.Background(), &dynamodb.QueryInput{
		TableName: &e.Table, KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "REPORT#" + id}},
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out.Items
}

// SamePartition fails the test if report id's partition differs from before.
func (e *Env) SamePartition(id string, before []map[string]types.AttributeValue, what string) {
	e.T.Helper()
	after := e.Partition(id)
	if !reflect.DeepEqual(Plain(before), Plain(after)) {
		e.T.Errorf("%s wrote to report %s:\nbefore %v\nafter  %v", what, id, Plain(before), Plain(after))
	}
}

// Plain renders items as comparable, printable Go values.
func Plain(items []map[string]types.AttributeValue) []map[string]any {
	out := make([]map[string]any, len(items))
	for i, it := range items {
		m := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(it)) {
			m[k] = plainValue(it[k])
		}
		out[i] = m
	}
	return out
}

func plainValue(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberB:
		return v.Value
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberNS:
		return v.Value
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			l[i] = plainValue(x)
		}
		return l
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, x := range v.Value {
			m[k] = plainValue(x)
		}
		return m
	}
	return fmt.Sprintf("%T", v)
}

// Item reads one item (nil if absent).
func (e *Env) Item(pk, sk string) map[string]types.AttributeValue {
	e.T.Helper()
	out, err := e.DB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &e.Table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out.Item
}

// seq numbers stream records across the test binary, as a shard's sequence numbers grow.
var seq atomic.Int64

// InsertRecord is the stream record DynamoDB emits for the item at pk/sk as it is now: an INSERT with its
// NewImage, as Lambda delivers it (after the dispatch function's FilterCriteria), with a fresh
// SequenceNumber.
func (e *Env) InsertRecord(pk, sk string) events.DynamoDBEventRecord {
	e.T.Helper()
	item := e.Item(pk, sk)
	if item == nil {
		e.T.Fatalf("no item %s/%s", pk, sk)
	}
	return e.Record(item)
}

// ReportRecord is InsertRecord for report id.
func (e *Env) ReportRecord(id string) events.DynamoDBEventRecord {
	e.T.Helper()
	return e.InsertRecord("REPORT#"+id, "REPORT")
}

// Record wraps an item image in an INSERT stream record.
func (e *Env) Record(item map[string]types.AttributeValue) events.DynamoDBEventRecord {
	e.T.Helper()
	img, err := StreamImage(item)
	if err != nil {
		e.T.Fatal(err)
	}
	n := seq.Add(1)
	return events.DynamoDBEventRecord{
		AWSRegion: e.AWS.Region, EventID: fmt.Sprintf("ev-%d", n), EventName: "INSERT", EventSource: "aws:dynamodb",
		EventVersion: "1.1", EventSourceArn: e.StreamARN,
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now().Truncate(time.Second)},
			Keys:                        map[string]events.DynamoDBAttributeValue{"pk": img["pk"], "sk": img["sk"]},
			NewImage:                    img,
			SequenceNumber:              fmt.Sprintf("%021d", n),
			SizeBytes:                   int64(len(img)) * 16,
			StreamViewType:              "NEW_AND_OLD_IMAGES",
		},
	}
}

// StreamImage converts an item as the SDK reads it into the image a stream event carries.
func StreamImage(item map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	return streamfn.Lambda(item), nil
}

// Event is a stream batch of records.
func Event(recs ...events.DynamoDBEventRecord) events.DynamoDBEvent {
	return events.DynamoDBEvent{Records: recs}
}

// Failed returns the SequenceNumbers a stream handler reported as failed.
func Failed(resp events.DynamoDBEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}
