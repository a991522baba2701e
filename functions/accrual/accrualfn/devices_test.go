package accrualfn_test

import (
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/notify"
)

// Device items' changes, as the stream delivers them to accrual (its FilterCriteria pass their REMOVE and
// MODIFY), against moto: a removal and a registration with another token each queue the deletion of the
// old token's endpoint once per record (the same record again queues the same message id); a
// registration that only refreshed the device queues nothing; nothing else is written.
func TestRemovedDevicesQueueTheirEndpointsRemoval(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	phone := notify.Device{ID: "phone", Platform: notify.FCM, Token: "fcm-token-erin-0001", UpdatedAt: now}
	if err := h.store.PutDevice(ctx, "erin", phone); err != nil {
		t.Fatal(err)
	}
	before := h.e.Record(h.e.Item("USER#erin", "NOTIFY#DEV#phone")).Change.NewImage
	refreshed := phone
	refreshed.UpdatedAt = now.Add(time.Hour)
	if err := h.store.PutDevice(ctx, "erin", refreshed); err != nil {
		t.Fatal(err)
	}
	same := h.e.Record(h.e.Item("USER#erin", "NOTIFY#DEV#phone")).Change.NewImage
	renewed := phone
	renewed.Token = "fcm-token-erin-0002"
	if err := h.store.PutDevice(ctx, "erin", renewed); err != nil {
		t.Fatal(err)
	}
	after := h.e.Record(h.e.Item("USER#erin", "NOTIFY#DEV#phone")).Change.NewImage
	record := func(name string, old, new map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		r := h.e.Record(h.e.Item("USER#erin", "NOTIFY#DEV#phone"))
		r.EventName, r.Change.OldImage, r.Change.NewImage = name, old, new
		return r
	}
	h.e.Drain(h.e.OutboxURL)
	h.resetCounts()
	h.handleOK(record("MODIFY", before, same)) // refreshed: the same token
	if ns := h.e.Drain(h.e.OutboxURL); len(ns) != 0 {
		t.Fatalf("a refreshed device queued %+v", ns)
	}
	replaced := record("MODIFY", same, after)
	var ids []string
	var tokens []string
	for _, rec := range []events.DynamoDBEventRecord{replaced, replaced, record("REMOVE", after, nil)} { // the first record delivered again
		h.handleOK(rec)
		ns := h.e.Drain(h.e.OutboxURL)
		if len(ns) != 1 {
			t.Fatalf("queued %+v, want one removal", ns)
		}
		r, err := notify.DecodeRemoval(ns[0])
		if err != nil || r.Sub != "erin" || r.Device.ID != "phone" {
			t.Fatalf("removal %+v, %v", r, err)
		}
		ids, tokens = append(ids, ns[0].ID), append(tokens, r.Device.Token)
	}
	if ids[0] != ids[1] || ids[0] == ids[2] || tokens[0] != phone.Token || tokens[2] != renewed.Token {
		t.Errorf("removals %v of tokens %v: want the replaced token's twice under one id, then the renewed one's", ids, tokens)
	}
	for op, n := range h.calls.Snapshot() {
		if op != "SQS.SendMessageBatch" {
			t.Errorf("device records made %d %s calls", n, op)
		}
	}
}
