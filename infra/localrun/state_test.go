package localrun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/market"
)

func startStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	st, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return st
}

func (st *Stack) testStore() *dynamostore.Store {
	return dynamostore.New(dynamodb.NewFromConfig(st.AWS), st.Names.Tables["Table"].Name, time.UTC)
}

// TestStateAcrossRestart: what a stack holds when it is stopped is what the next one starts with, and the
// seed does not write over it: an admin's edit of a department and a restock survive.
func TestStateAcrossRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	first := startStack(t, Options{StateDir: dir})
	if first.Loaded == nil || first.Loaded.Found {
		t.Fatalf("first start loaded %+v; want nothing found", first.Loaded)
	}
	store := first.testStore()
	dept, err := store.Department(ctx, "municipal")
	if err != nil {
		t.Fatal(err)
	}
	dept.NameEN = "Municipal works (renamed by an admin)"
	if err := store.PutDepartment(ctx, dept); err != nil {
		t.Fatal(err)
	}
	rice, err := store.Item(ctx, "rice-5kg")
	if err != nil {
		t.Fatal(err)
	}
	rice.Stock = 3 // the seed says 200
	if err := store.PutItem(ctx, rice, true); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(first.AWS)
	table := first.Names.Tables["Table"].Name
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TEST#1"}, "sk": &types.AttributeValueMemberS{Value: "X"},
		"n": &types.AttributeValueMemberN{Value: "42"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	bucket := first.Names.Buckets["PhotoBucket"].Name
	_, err = s3.NewFromConfig(first.AWS, motoserver.S3Options).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket,
		Key: aws.String("reports/r1/0.jpg"), Body: bytes.NewReader([]byte{0xff, 0xd8, 0xff}), ContentType: aws.String("image/jpeg")})
	if err != nil {
		t.Fatal(err)
	}
	dlq := first.Names.Queues["OutboxDLQ"].URL // nothing consumes the dead letters: they must wait
	if _, err := sqs.NewFromConfig(first.AWS).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String(`{"dead":"letter"}`)}); err != nil {
		t.Fatal(err)
	}

	saved, err := first.Shutdown(ctx)
	if err != nil || saved == nil {
		t.Fatalf("Shutdown = %+v, %v; want a save", saved, err)
	}
	if saved.Objects != 1 || saved.Messages != 1 || saved.Items < 40 {
		t.Errorf("saved %s; want the seed's items and more, 1 object, 1 message", saved)
	}

	second := startStack(t, Options{StateDir: dir})
	defer second.Close(context.WithoutCancel(ctx))
	if second.Loaded == nil || !second.Loaded.Found || second.Loaded.Items != saved.Items {
		t.Fatalf("second start loaded %+v; want the %d items saved", second.Loaded, saved.Items)
	}
	store = second.testStore()
	if d, err := store.Department(ctx, "municipal"); err != nil || d.NameEN != dept.NameEN || !strings.HasPrefix(d.WebhookURL, second.API+"/") {
		t.Errorf("department after restart = %+v, %v; want the admin's name and this run's sink", d, err)
	}
	stock, _, err := store.Stocks(ctx, []market.Item{rice})
	if err != nil || stock["rice-5kg"] != 3 {
		t.Errorf("rice stock after restart = %v, %v; want 3, not the seed's 200", stock["rice-5kg"], err)
	}
	got, err := dynamodb.NewFromConfig(second.AWS).GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TEST#1"}, "sk": &types.AttributeValueMemberS{Value: "X"}}})
	if err != nil || got.Item["n"].(*types.AttributeValueMemberN).Value != "42" {
		t.Errorf("item after restart = %v, %v", got.Item, err)
	}
	obj, err := s3.NewFromConfig(second.AWS, motoserver.S3Options).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("reports/r1/0.jpg")})
	if err != nil {
		t.Fatalf("object after restart: %v", err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(body, []byte{0xff, 0xd8, 0xff}) || aws.ToString(obj.ContentType) != "image/jpeg" {
		t.Errorf("object after restart = %x (%s)", body, aws.ToString(obj.ContentType))
	}
	msgs, err := sqs.NewFromConfig(second.AWS).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(second.Names.Queues["OutboxDLQ"].URL)})
	if err != nil || len(msgs.Messages) != 1 || aws.ToString(msgs.Messages[0].Body) != `{"dead":"letter"}` {
		t.Errorf("dead letter after restart: %v, %v", msgs, err)
	}

	// A second stack on the same state directory is refused before it starts anything.
	if st, err := Start(ctx, Options{Addr: "127.0.0.1:0", StateDir: dir}); err == nil || !strings.Contains(err.Error(), "in use by another local stack") {
		if st != nil {
			_ = st.Close(ctx)
		}
		t.Errorf("Start on a state directory in use = %v; want it refused", err)
	}

	// A checkpoint while running.
	resp, err := http.Post(second.API+"/_local/state/save", "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("POST /_local/state/save = %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestStartRefusesDamagedState: a saved state that cannot be loaded fails the start, and is left exactly
// as it was (no save over it on the way out).
func TestStartRefusesDamagedState(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.json")
	damaged := []byte(`{"format":"civicsnap-moto-state","version":1,"data":"data-x","files":{"x.jsonl":{"bytes":1,"sha256":"0"}},"dynamodb":[],"s3":[],"sqs":[]}`)
	if err := os.WriteFile(manifest, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := Start(t.Context(), Options{Addr: "127.0.0.1:0", StateDir: dir})
	if err == nil {
		_ = st.Close(t.Context())
		t.Fatal("Start with a damaged state: want an error")
	}
	if !errors.Is(err, motoserver.ErrStateCorrupt) || !strings.Contains(err.Error(), "make reset") {
		t.Errorf("Start error = %v; want ErrStateCorrupt and the way out", err)
	}
	after, _ := os.ReadFile(manifest)
	if !bytes.Equal(after, damaged) {
		t.Errorf("the damaged manifest was changed to %s", after)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "data-") {
			t.Errorf("a failed start saved %s", e.Name())
		}
	}
}

// TestMotoDeathStopsStack: moto killed under a running stack closes Moto.Done, stops the pumps at once
// (they do not keep polling a dead endpoint), and Shutdown reports why.
func TestMotoDeathStopsStack(t *testing.T) {
	var warnings atomic.Int64
	log := slog.New(countingHandler{slog.NewJSONHandler(io.Discard, nil), &warnings})
	st := startStack(t, Options{Log: log})
	if err := syscall.Kill(st.Moto.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-st.Moto.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Moto.Done not closed 10 s after moto was killed")
	}
	select {
	case <-st.pumpsDone:
	case <-time.After(5 * time.Second):
		t.Fatal("pumps still running 5 s after moto died")
	}
	settled := warnings.Load()
	time.Sleep(time.Second)
	if n := warnings.Load() - settled; n > 0 {
		t.Errorf("%d more warnings logged after the pumps stopped", n)
	}
	_, err := st.Shutdown(t.Context())
	if !errors.Is(err, motoserver.ErrExited) || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Shutdown after moto died = %v; want motoserver.ErrExited saying it was killed", err)
	}
}

type countingHandler struct {
	slog.Handler
	n *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}
