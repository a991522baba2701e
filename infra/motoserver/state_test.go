package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The state tests run moto the way `make run` does with a state directory: write, save, start a new moto,
// create the same resources, load, and read back through the AWS API.

const (
	stateTable  = "state-table"
	stateBucket = "state-bucket"
	stateQueue  = "state-queue"
)

// stateEnv is one moto with clients for the resources the tests create.
type stateEnv struct {
	srv   *Server
	db    *dynamodb.Client
	s3    *s3.Client
	sqs   *sqs.Client
	queue string // URL
}

func startState(t *testing.T, dir string, create bool) *stateEnv {
	t.Helper()
	srv, err := Start(t.Context(), Options{StateDir: dir})
	if err != nil {
		t.Fatalf("start moto: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cfg, err := srv.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e := &stateEnv{srv: srv, db: dynamodb.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg, S3Options), sqs: sqs.NewFromConfig(cfg)}
	if create {
		e.create(t)
	}
	return e
}

// create makes the resources as infra/stack would: a table with a GSI and a stream, a bucket, a queue.
func (e *stateEnv) create(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	_, err := e.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(stateTable),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s("pk"), s("sk"), s("gsi1pk"), s("gsi1sk")},
		KeySchema:            key("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("gsi1"), KeySchema: key("gsi1pk", "gsi1sk"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(stateBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(stateQueue)})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	e.queue = aws.ToString(q.QueueUrl)
}

// richItem has every attribute type, nested, with GSI keys.
func richItem() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":     &types.AttributeValueMemberS{Value: "REPORT#1"},
		"sk":     &types.AttributeValueMemberS{Value: "REPORT"},
		"gsi1pk": &types.AttributeValueMemberS{Value: "USER#u1"},
		"gsi1sk": &types.AttributeValueMemberS{Value: "REPORT#2026-11-01T09:00:00Z#1"},
		"text":   &types.AttributeValueMemberS{Value: "路灯不亮 \"quoted\"\n"},
		"bin":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xff, 0xfe}},
		"num":    &types.AttributeValueMemberN{Value: "12345678901234567890.123456"},
		"neg":    &types.AttributeValueMemberN{Value: "-0.5"},
		"ss":     &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":     &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs":     &types.AttributeValueMemberBS{Value: [][]byte{{0}, {1, 2}}},
		"ok":     &types.AttributeValueMemberBOOL{Value: true},
		"none":   &types.AttributeValueMemberNULL{Value: true},
		"doc": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberN{Value: "7"},
				&types.AttributeValueMemberB{Value: []byte("zz")},
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberBOOL{Value: false}}},
			}},
			"empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}},
	}
}

// write puts the rich item, n more items in its GSI partition, an object and three messages (one of
// them received once, so it carries a receive count).
func (e *stateEnv) write(t *testing.T, n int, photo []byte) {
	t.Helper()
	ctx := t.Context()
	if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(stateTable), Item: richItem()}); err != nil {
		t.Fatalf("put rich item: %v", err)
	}
	for i := range n {
		_, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(stateTable), Item: map[string]types.AttributeValue{
			"pk":     &types.AttributeValueMemberS{Value: fmt.Sprintf("REPORT#x%03d", i)},
			"sk":     &types.AttributeValueMemberS{Value: "REPORT"},
			"gsi1pk": &types.AttributeValueMemberS{Value: "USER#u1"},
			"gsi1sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("REPORT#2026-11-02T%02d:00:00Z#x%03d", i%24, i)},
		}})
		if err != nil {
			t.Fatalf("put item %d: %v", i, err)
		}
	}
	_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(stateBucket), Key: aws.String("reports/1/0.jpg"), Body: bytes.NewReader(photo),
		ContentType: aws.String("image/jpeg"), Metadata: map[string]string{"origin": "test"},
	})
	if err != nil {
		t.Fatalf("put object: %v", err)
	}
	for _, body := range []string{"first", "second", "third"} {
		_, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.queue), MessageBody: aws.String(body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String("webhook")},
				"raw":  {DataType: aws.String("Binary"), BinaryValue: []byte{9, 8, 7}},
			}})
		if err != nil {
			t.Fatalf("send %s: %v", body, err)
		}
	}
	// Receive "first" and make it visible again at once: it has been received once, as a failed delivery
	// attempt would leave it.
	got, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.queue), MaxNumberOfMessages: 1})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("receive: %v, %d messages", err, len(got.Messages))
	}
	_, err = e.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(e.queue),
		ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0})
	if err != nil {
		t.Fatalf("change visibility: %v", err)
	}
}

type snapshot struct {
	rich     map[string]types.AttributeValue
	indexed  []string // gsi1sk of USER#u1, in query order
	photo    []byte
	ctype    string
	meta     map[string]string
	messages map[string]string // body → receive count
	attrs    map[string]string // body → attributes "kind/raw"
}

// read takes everything back through the API: GetItem, an index Query, GetObject, ReceiveMessage.
func (e *stateEnv) read(t *testing.T) snapshot {
	t.Helper()
	ctx := t.Context()
	var s snapshot
	item, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(stateTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#1"}, "sk": &types.AttributeValueMemberS{Value: "REPORT"}}})
	if err != nil {
		t.Fatalf("get item: %v", err)
	}
	s.rich = item.Item
	q := &dynamodb.QueryInput{TableName: aws.String(stateTable), IndexName: aws.String("gsi1"), Limit: aws.Int32(7),
		KeyConditionExpression:    aws.String("gsi1pk = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: "USER#u1"}},
		ScanIndexForward:          aws.Bool(false)}
	for {
		page, err := e.db.Query(ctx, q)
		if err != nil {
			t.Fatalf("query gsi1: %v", err)
		}
		for _, it := range page.Items {
			s.indexed = append(s.indexed, it["gsi1sk"].(*types.AttributeValueMemberS).Value)
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		q.ExclusiveStartKey = page.LastEvaluatedKey
	}
	obj, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: aws.String("reports/1/0.jpg")})
	if err != nil {
		t.Fatalf("get object: %v", err)
	}
	defer obj.Body.Close()
	if s.photo, err = io.ReadAll(obj.Body); err != nil {
		t.Fatal(err)
	}
	s.ctype, s.meta = aws.ToString(obj.ContentType), obj.Metadata
	s.messages, s.attrs = map[string]string{}, map[string]string{}
	for range 3 {
		got, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.queue), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
			MessageAttributeNames:       []string{"All"}, VisibilityTimeout: 30})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		for _, m := range got.Messages {
			s.messages[aws.ToString(m.Body)] = m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]
			s.attrs[aws.ToString(m.Body)] = aws.ToString(m.MessageAttributes["kind"].StringValue) + "/" + fmt.Sprint(m.MessageAttributes["raw"].BinaryValue)
		}
		if len(s.messages) == 3 {
			break
		}
	}
	return s
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")                    // not there yet: the save creates it
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0x00, 0x7f}, 25_000) // 100 kB of binary
	first := startState(t, dir, true)
	// A first run: nothing saved yet is not an error.
	if sum, err := first.srv.LoadState(t.Context()); err != nil || sum.Found {
		t.Fatalf("LoadState with nothing saved = %+v, %v; want Found false and no error", sum, err)
	}
	first.write(t, 20, photo)

	saved, err := first.srv.SaveState(t.Context())
	if err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	if !saved.Found || saved.Items != 21 || saved.Objects != 1 || saved.ObjectBytes != int64(len(photo)) || saved.Messages != 3 || saved.Bytes == 0 {
		t.Errorf("saved = %+v; want 21 items, 1 object of %d bytes, 3 messages", saved, len(photo))
	}
	// Before the first moto goes, read what it answers (after the save: reading receives the messages).
	want := first.read(t)
	if err := first.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.srv.Err(); err != nil {
		t.Errorf("Err after Stop = %v; want nil: the exit was asked for", err)
	}

	second := startState(t, dir, true)
	loaded, err := second.srv.LoadState(t.Context())
	if err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	if !loaded.Found || loaded.Items != saved.Items || loaded.Objects != 1 || loaded.Messages != 3 || !loaded.SavedAt.Equal(saved.SavedAt) {
		t.Errorf("loaded = %+v; want what was saved: %+v", loaded, saved)
	}
	got := second.read(t)

	if !reflect.DeepEqual(got.rich, want.rich) || !reflect.DeepEqual(got.rich, richItem()) {
		t.Errorf("GetItem after load = %#v\nwant %#v", got.rich, richItem())
	}
	if len(got.indexed) != 21 || !reflect.DeepEqual(got.indexed, want.indexed) {
		t.Errorf("index Query after load = %v\nwant %v", got.indexed, want.indexed)
	}
	if !bytes.Equal(got.photo, photo) || got.ctype != "image/jpeg" || got.meta["origin"] != "test" {
		t.Errorf("object after load: %d bytes (equal: %v), type %q, metadata %v", len(got.photo), bytes.Equal(got.photo, photo), got.ctype, got.meta)
	}
	// Receive counts carry over: "first" had been received once before the save, the others never; each
	// read receives once more. (The first moto's read came after its save, so it counted one receive less.)
	wantCounts := map[string]string{"first": "2", "second": "1", "third": "1"}
	if !reflect.DeepEqual(got.messages, wantCounts) || !reflect.DeepEqual(want.messages, wantCounts) {
		t.Errorf("receive counts after load = %v (before the stop %v); want %v", got.messages, want.messages, wantCounts)
	}
	if got.attrs["second"] != "webhook/[9 8 7]" {
		t.Errorf("message attributes after load = %q", got.attrs["second"])
	}
	// The load did not flood the stream: a reader from TRIM_HORIZON sees no record of it.
	if n := streamRecords(t, second); n != 0 {
		t.Errorf("the load wrote %d stream records; want none", n)
	}
}

func streamRecords(t *testing.T, e *stateEnv) int {
	t.Helper()
	ctx := t.Context()
	table, err := e.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(stateTable)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := e.srv.AWSConfig(ctx)
	streams := dynamodbstreams.NewFromConfig(cfg)
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: table.Table.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sh := range desc.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: table.Table.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		n += len(recs.Records)
	}
	return n
}

// TestStateLoadRefused: a state that cannot be applied whole is refused with an error that says why, and
// moto is left as it was. The cases damage one saved state in turn (and repair it after).
func TestStateLoadRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startState(t, dir, true)
	first.write(t, 3, []byte("photo"))
	if _, err := first.srv.SaveState(t.Context()); err != nil {
		t.Fatal(err)
	}
	_ = first.srv.Stop()

	second := startState(t, dir, false)
	// Nothing created yet: the saved table, bucket and queue do not exist in this moto.
	if _, err := second.srv.LoadState(t.Context()); !errors.Is(err, ErrStateMismatch) || !strings.Contains(err.Error(), "table "+stateTable) {
		t.Errorf("LoadState without the resources = %v; want ErrStateMismatch naming the table", err)
	}
	second.create(t)

	manifest := filepath.Join(dir, "manifest.json")
	data := dataFile(t, dir, ".jsonl", "dynamodb")
	tests := []struct {
		name   string
		file   string
		damage func([]byte) []byte
		want   error
		says   string
	}{
		{"manifest not JSON", manifest, func(b []byte) []byte { return b[:len(b)/2] }, ErrStateCorrupt, "not valid JSON"},
		{"another format version", manifest, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"version": 1`), []byte(`"version": 2`), 1)
		}, ErrStateVersion, "format version 2"},
		{"not a manifest", manifest, func([]byte) []byte { return []byte(`{"hello":"world"}`) }, ErrStateCorrupt, "not a civicsnap-moto-state manifest"},
		{"table file truncated", data, func(b []byte) []byte { return b[:len(b)-10] }, ErrStateCorrupt, "is damaged"},
		{"table file altered", data, func(b []byte) []byte { return bytes.Replace(b, []byte("REPORT#1"), []byte("REPORT#2"), 1) }, ErrStateCorrupt, "is damaged"},
		{"table file gone", data, nil, ErrStateCorrupt, "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = os.WriteFile(tt.file, orig, 0o644) }()
			if tt.damage == nil {
				err = os.Remove(tt.file)
			} else {
				err = os.WriteFile(tt.file, tt.damage(orig), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = second.srv.LoadState(t.Context())
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("LoadState = %v; want %v saying %q", err, tt.want, tt.says)
			}
			if n := itemCount(t, second); n != 0 {
				t.Errorf("a refused load left %d items", n)
			}
		})
	}
	// Repaired, the same state loads.
	if sum, err := second.srv.LoadState(t.Context()); err != nil || sum.Items != 4 {
		t.Errorf("LoadState of the repaired state = %+v, %v; want 4 items", sum, err)
	}
}

// TestStateSaveInterrupted: moto dies in the middle of a save (after writing the new snapshot's data,
// before committing it). The caller hears that moto exited, with its stderr; the previous state is what
// the next start loads; the next save clears the leftovers.
func TestStateSaveInterrupted(t *testing.T) {
	dir := t.TempDir()
	first := startState(t, dir, true)
	first.write(t, 3, []byte("photo"))
	if _, err := first.srv.SaveState(t.Context()); err != nil {
		t.Fatal(err)
	}
	_ = first.srv.Stop()

	t.Setenv("CIVICSNAP_STATE_TEST_CRASH", "before-commit") // infra/moto/state.py's test hook
	crashing := startState(t, dir, true)
	os.Setenv("CIVICSNAP_STATE_TEST_CRASH", "") // only this moto has it; t.Setenv restores it after the test
	if _, err := crashing.srv.LoadState(t.Context()); err != nil {
		t.Fatal(err)
	}
	crashing.write(t, 10, []byte("photo")) // 10 more items that will not make it
	_, err := crashing.srv.SaveState(t.Context())
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "test crash before commit") || !strings.Contains(err.Error(), "exit status 70") {
		t.Fatalf("SaveState when moto dies mid-save = %v; want ErrExited with its exit status and stderr", err)
	}
	select {
	case <-crashing.srv.Done():
	default:
		t.Error("Done not closed after moto died")
	}

	third := startState(t, dir, true)
	sum, err := third.srv.LoadState(t.Context())
	if err != nil || sum.Items != 4 {
		t.Fatalf("LoadState after the interrupted save = %+v, %v; want the previous state's 4 items", sum, err)
	}
	if entries := snapshotDirs(t, dir); len(entries) != 2 {
		t.Errorf("state dir holds %v; want the committed snapshot and the interrupted one's leftover", entries)
	}
	if _, err := third.srv.SaveState(t.Context()); err != nil {
		t.Fatal(err)
	}
	if entries := snapshotDirs(t, dir); len(entries) != 1 {
		t.Errorf("after the next save the state dir holds %v; want one snapshot", entries)
	}
}

// TestExitReported: moto killed from outside closes Done, and Err says it exited and how (after a Stop,
// Err is nil: TestStateRoundTrip).
func TestExitReported(t *testing.T) {
	t.Parallel()
	killed := ForTest(t)
	if err := killed.Err(); err != nil {
		t.Fatalf("Err while running = %v", err)
	}
	if err := killed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-killed.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed 10 s after moto was killed")
	}
	if err := killed.Err(); !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Err after kill = %v; want ErrExited saying it was killed", err)
	}
	if _, err := killed.SaveState(t.Context()); !errors.Is(err, ErrExited) {
		t.Errorf("SaveState after moto died = %v; want ErrExited", err)
	}
}

func dataFile(t *testing.T, dir, suffix, kind string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "data-*", kind, "*", "*", "*"+suffix))
	if len(matches) != 1 {
		t.Fatalf("want one %s file in the snapshot, found %v", kind, matches)
	}
	return matches[0]
}

func snapshotDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func itemCount(t *testing.T, e *stateEnv) int32 {
	t.Helper()
	out, err := e.db.Scan(context.WithoutCancel(t.Context()), &dynamodb.ScanInput{TableName: aws.String(stateTable), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	return out.Count
}

// TestStateKeepsObjectVersions: a versioned bucket's objects come back with every version under its own
// id, the latest still current — reports pin the version of each photo that was checked (issue 11).
func TestStateKeepsObjectVersions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	first := startState(t, dir, true)
	ctx := t.Context()
	if _, err := first.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(stateBucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	key := aws.String("photos/2026-11-30/u1/a.jpg")
	var ids []string
	for _, body := range []string{"uploaded, with metadata", "stripped", "posted again"} {
		out, err := first.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(stateBucket), Key: key, Body: strings.NewReader(body), ContentType: aws.String("image/jpeg")})
		if err != nil || aws.ToString(out.VersionId) == "" {
			t.Fatalf("put %q: %v (version %q)", body, err, aws.ToString(out.VersionId))
		}
		ids = append(ids, aws.ToString(out.VersionId))
	}
	if saved, err := first.srv.SaveState(ctx); err != nil || saved.Objects != 3 {
		t.Fatalf("SaveState = %+v, %v; want 3 objects (the versions)", saved, err)
	}
	if err := first.srv.Stop(); err != nil {
		t.Fatal(err)
	}

	second := startState(t, dir, true)
	if _, err := second.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(stateBucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := second.srv.LoadState(ctx); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	read := func(version *string) (string, string) {
		t.Helper()
		obj, err := second.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: key, VersionId: version})
		if err != nil {
			t.Fatalf("get %s version %v: %v", aws.ToString(key), aws.ToString(version), err)
		}
		defer obj.Body.Close()
		b, _ := io.ReadAll(obj.Body)
		return string(b), aws.ToString(obj.VersionId)
	}
	for i, body := range []string{"uploaded, with metadata", "stripped", "posted again"} {
		if got, _ := read(&ids[i]); got != body {
			t.Errorf("version %s after the load holds %q, want %q", ids[i], got, body)
		}
	}
	if got, v := read(nil); got != "posted again" || v != ids[2] {
		t.Errorf("current version after the load: %q (%s), want the latest %q (%s)", got, v, "posted again", ids[2])
	}
}
