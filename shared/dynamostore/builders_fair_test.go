package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// The store is the fair service's store (the function builds one on the other).
var _ builders.FairStore = (*dynamostore.Store)(nil)

// fairTable creates the template's table on the package's moto server and returns a store on it and the raw client.
func fairTable(t *testing.T) (*dynamostore.Store, *dynamodb.Client, string) {
	t.Helper()
	ctx := t.Context()
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(ctx, cfg, fmt.Sprintf("bldfair%d", tables.Add(1)), motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := res.Tables["Table"].Name
	sh, _ := time.LoadLocation("Asia/Shanghai")
	return dynamostore.New(db, table, sh), db, table
}

// countPK counts the items of one partition (a test's own look).
func countPK(t *testing.T, db *dynamodb.Client, table, pk string) int {
	t.Helper()
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}, Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// Each write of the fair store applied twice (as the SDK re-sends a request whose answer was lost)
// changes nothing the second time and writes no second KPI record.
func TestFairStoreWritesApplyOnce(t *testing.T) {
	st, db, table := fairTable(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := builders.Fair{ID: "f1", Title: "招聘会", Start: now.Add(time.Hour), End: now.Add(5 * time.Hour),
		Place:     volunteer.Place{Lat: 23.39, Lng: 103.37, RadiusM: 200},
		Employers: []string{"e1", "e2"}, Capacity: 2, Status: builders.FairOpen, CreatedAt: now, Secret: []byte("0123456789abcdefghij")}
	if _, created, err := st.PublishFair(ctx, f, "h1"); err != nil || !created {
		t.Fatalf("publish: %v %v", created, err)
	}
	got, created, err := st.PublishFair(ctx, f, "h1")
	if err != nil || created || got.ID != "f1" || string(got.Secret) != string(f.Secret) {
		t.Fatalf("publish again: %+v %v %v", got, created, err)
	}
	if _, _, err := st.PublishFair(ctx, f, "h2"); !errors.Is(err, idem.ErrKeyReused) {
		t.Fatalf("another body: %v", err)
	}
	if n := countPK(t, db, table, "BLDREC#fair#f1"); n != 1 {
		t.Fatalf("%d fair records", n)
	}

	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "WORKER#w1"}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"},
		"type": &types.AttributeValueMemberS{Value: "worker"}, "sub": &types.AttributeValueMemberS{Value: "w1"}}}); err != nil {
		t.Fatal(err)
	}
	_, reg, worker, err := st.FairForWorker(ctx, "f1", "w1")
	if err != nil || reg != nil || !worker {
		t.Fatalf("before registering: %v %v %v", reg, worker, err)
	}
	for _, sub := range []string{"w1", "w2", "w3"} {
		cur, _ := st.Fair(ctx, "f1")
		_, created, err := st.Register(ctx, cur, sub, now)
		switch {
		case sub == "w3" && !errors.Is(err, builders.ErrFairFull):
			t.Fatalf("a third registration for 2 places: %v", err)
		case sub != "w3" && (err != nil || !created):
			t.Fatalf("register %s: %v %v", sub, created, err)
		}
	}
	if _, created, err := st.Register(ctx, f, "w1", now); err != nil || created {
		t.Fatalf("a re-sent registration: %v %v", created, err)
	}
	page, cursor, err := st.Registrations(ctx, "f1", "", 1)
	if err != nil || len(page) != 1 || cursor == "" {
		t.Fatalf("first page: %v %q %v", page, cursor, err)
	}
	rest, _, err := st.Registrations(ctx, "f1", cursor, 5)
	if err != nil || len(rest) != 1 || rest[0].Sub == page[0].Sub {
		t.Fatalf("second page: %v %v", rest, err)
	}
	if _, _, err := st.Registrations(ctx, "f1", "Zm9v", 5); err == nil {
		t.Fatal("a cursor of another list was taken")
	}

	r, err := st.Registration(ctx, "f1", "w1")
	if err != nil {
		t.Fatal(err)
	}
	r.CheckedInAt, r.Method = now, builders.CheckinCode
	if err := st.CheckInFair(ctx, r, 42); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckInFair(ctx, r, 42); !errors.Is(err, builders.ErrChanged) {
		t.Fatalf("a check-in applied twice: %v", err)
	}
	after, _ := st.Registration(ctx, "f1", "w1")
	if len(after.UsedSteps) != 1 || after.UsedSteps[0] != 42 || !after.CheckedInAt.Equal(now) {
		t.Errorf("the registration after check-in: %+v", after)
	}
	if fair, _ := st.Fair(ctx, "f1"); fair.CheckedIn != 1 || fair.Registered != 2 {
		t.Errorf("the fair counts %d checked in, %d registered", fair.CheckedIn, fair.Registered)
	}
	if n := countPK(t, db, table, "BLDREC#fair_checkin#f1#w1"); n != 1 {
		t.Errorf("%d check-in records", n)
	}
	if _, err := st.CancelRegistration(ctx, "f1", "w1"); !errors.Is(err, builders.ErrCheckedInNoLeave) {
		t.Errorf("cancelling a checked-in registration: %v", err)
	}
	for range 2 {
		if c, err := st.CancelRegistration(ctx, "f1", "w2"); err != nil || c.Status != builders.RegCancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
	}
	if fair, _ := st.Fair(ctx, "f1"); fair.Registered != 1 {
		t.Errorf("registered %d after one cancellation sent twice", fair.Registered)
	}

	tr := builders.Transfer{ID: "t1", Employer: "x", Destination: "y", Headcount: 40, Date: "2026-12-08", By: "admin", CreatedAt: now}
	for i := range 2 {
		if _, created, err := st.PutTransfer(ctx, tr, "h"); err != nil || created != (i == 0) {
			t.Fatalf("transfer %d: %v %v", i, created, err)
		}
	}
	if n := countPK(t, db, table, "BLDREC#transfer#t1"); n != 1 {
		t.Errorf("%d transfer records", n)
	}

	d, err := st.PutDesk(ctx, builders.Desk{ID: "law1", Name: "法律援助", Kind: builders.DeskLegal, Staff: []string{"s1"}, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := st.PutDesk(ctx, builders.Desk{ID: "law1", Name: "法律援助站", Kind: builders.DeskLegal, CreatedAt: now.Add(time.Hour)})
	if err != nil || !d2.CreatedAt.Equal(d.CreatedAt) || len(d2.Staff) != 0 || d2.Name != "法律援助站" {
		t.Fatalf("the desk updated: %+v %v", d2, err)
	}
	start := now.Add(24 * time.Hour).Truncate(time.Second)
	sl := builders.Slot{DeskID: "law1", ID: builders.SlotID(start), Start: start, End: start.Add(time.Hour), Capacity: 1, Status: "open"}
	for range 2 {
		if out, err := st.PutSlots(ctx, d2, []builders.Slot{sl}); err != nil || len(out) != 1 || out[0].ID != sl.ID {
			t.Fatalf("slots: %v %v", out, err)
		}
	}
	if n := countPK(t, db, table, "DESK#law1"); n != 2 {
		t.Fatalf("%d items in the desk's partition, want the desk and one slot", n)
	}
	b := builders.Booking{DeskID: "law1", SlotID: sl.ID, Sub: "w1", Kind: builders.DeskLegal, Status: builders.BookingBooked, Start: start, At: now}
	if _, created, err := st.Book(ctx, sl, b); err != nil || !created {
		t.Fatalf("book: %v %v", created, err)
	}
	if _, created, err := st.Book(ctx, sl, b); err != nil || created {
		t.Fatalf("a re-sent booking: %v %v", created, err)
	}
	b2 := b
	b2.Sub = "w2"
	if _, _, err := st.Book(ctx, sl, b2); !errors.Is(err, builders.ErrSlotFull) {
		t.Fatalf("a second booking of one place: %v", err)
	}
	b.Status, b.ServedAt, b.ServedBy = builders.BookingServed, now, "s1"
	if err := st.Serve(ctx, b, builders.DeskLegal); err != nil {
		t.Fatal(err)
	}
	if err := st.Serve(ctx, b, builders.DeskLegal); !errors.Is(err, builders.ErrChanged) {
		t.Fatalf("served twice: %v", err)
	}
	if n := countPK(t, db, table, "BLDREC#consultation#law1#"+sl.ID+"#w1"); n != 1 {
		t.Errorf("%d consultation records", n)
	}
	mine, err := st.MyBookings(ctx, "w1", 10)
	if err != nil || len(mine) != 1 || mine[0].Status != builders.BookingServed {
		t.Errorf("w1's bookings: %+v %v", mine, err)
	}
}
