package dynamostore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

func notice(sub string, kind notify.Kind, entity string, at time.Time) notify.Notice {
	return notify.Notice{ID: notify.NoticeID(sub, kind, entity, at), Sub: sub, Kind: kind, At: at, ReportID: entity, Category: "street_light"}
}

// A user's inbox: each notice stored once, newest first and paged, read marks one by one or up to a time,
// and nothing of another user's reachable by id.
func TestInboxStoresEachNoticeOnceNewestFirstAndPrivately(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var mine []notify.Notice
	for i, k := range []notify.Kind{notify.ReportDispatched, notify.ReportAccepted, notify.ReportResolved} {
		n := notice("u1", k, "r1", t0.Add(time.Duration(i)*time.Minute))
		created, pushed, err := st.PutNotice(ctx, n, n.At.Add(notify.Retention))
		if err != nil || !created || pushed {
			t.Fatalf("put %s: created %v pushed %v err %v", k, created, pushed, err)
		}
		mine = append(mine, n)
	}
	other := notice("u2", notify.ReportDispatched, "r2", t0)
	if _, _, err := st.PutNotice(ctx, other, other.At.Add(notify.Retention)); err != nil {
		t.Fatal(err)
	}
	// The same event again (a redelivered stream record) writes nothing.
	again := mine[0]
	again.Points = 99
	if created, _, err := st.PutNotice(ctx, again, again.At.Add(notify.Retention)); err != nil || created {
		t.Fatalf("second put: created %v err %v", created, err)
	}

	page, next, err := st.Notices(ctx, "u1", 2, "", t0)
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("page 1: %d items, next %q, err %v", len(page), next, err)
	}
	if page[0].ID != mine[2].ID || page[1].ID != mine[1].ID {
		t.Fatalf("page 1 = %s, %s; want the newest first", page[0].Kind, page[1].Kind)
	}
	rest, next2, err := st.Notices(ctx, "u1", 2, next, t0)
	if err != nil || len(rest) != 1 || rest[0].ID != mine[0].ID || rest[0].Points != 0 {
		t.Fatalf("page 2: %+v next %q err %v", rest, next2, err)
	}
	if _, _, err := st.Notices(ctx, "u1", 2, "bm90LWFuLWlk", t0); !errors.Is(err, report.ErrInvalidCursor) {
		t.Fatalf("forged cursor: %v", err)
	}

	// u2 cannot mark u1's notice read: it is not in u2's partition.
	if err := st.MarkRead(ctx, "u2", mine[0].ID, t0); !errors.Is(err, notify.ErrNoticeNotFound) {
		t.Fatalf("u2 marks u1's notice: %v", err)
	}
	if n, err := st.UnreadCount(ctx, "u1", "", 100, t0); err != nil || n != 3 {
		t.Fatalf("unread = %d, %v; want 3", n, err)
	}
	if err := st.MarkRead(ctx, "u1", mine[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRead(ctx, "u1", mine[0].ID, t0.Add(time.Hour)); err != nil { // again: no change
		t.Fatal(err)
	}
	if n, err := st.UnreadCount(ctx, "u1", "", 100, t0); err != nil || n != 2 {
		t.Fatalf("unread after one read = %d, %v; want 2", n, err)
	}
	// Mark up to the second: only the newest stays unread, and an older mark does not move it back.
	mark := fmt.Sprintf("%013d-ffffffffffffffffffff", mine[1].At.UnixMilli())
	if err := st.MarkReadThrough(ctx, "u1", mark); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkReadThrough(ctx, "u1", fmt.Sprintf("%013d-ffffffffffffffffffff", t0.Add(-time.Hour).UnixMilli())); err != nil {
		t.Fatal(err)
	}
	s, err := st.Settings(ctx, "u1", true)
	if err != nil || s.ReadThrough != mark {
		t.Fatalf("watermark = %q, %v; want %q", s.ReadThrough, err, mark)
	}
	if n, err := st.UnreadCount(ctx, "u1", s.ReadThrough, 100, t0); err != nil || n != 1 {
		t.Fatalf("unread after the mark = %d, %v; want 1", n, err)
	}
	if s2, _ := st.Settings(ctx, "u2", true); s2.ReadThrough != "" {
		t.Fatalf("u1's mark reached u2: %q", s2.ReadThrough)
	}
	if n, err := st.UnreadCount(ctx, "u2", "", 100, t0); err != nil || n != 1 {
		t.Fatalf("u2 unread = %d, %v; want 1", n, err)
	}
}

// Devices and preferences: per user, bounded, and another user's device id is not found.
func TestDevicesAndPreferencesArePerUser(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if err := st.PutDevice(ctx, "u1", notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-aaaaaaaa", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutDevice(ctx, "u1", notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-bbbbbbbb", UpdatedAt: now}); err != nil {
		t.Fatal(err) // the same device again: replaced
	}
	prefs := notify.Preferences{Push: map[notify.Kind]bool{notify.ReportAccepted: false}, QuietHours: &notify.QuietHours{Start: "22:00", End: "07:00"}}
	if err := st.PutPreferences(ctx, "u1", prefs); err != nil {
		t.Fatal(err)
	}
	s, err := st.Settings(ctx, "u1", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Devices) != 1 || s.Devices[0].Token != "tok-bbbbbbbb" || s.Devices[0].Platform != notify.FCM {
		t.Fatalf("devices = %+v", s.Devices)
	}
	if s.Preferences.Wants(notify.ReportAccepted) || !s.Preferences.Wants(notify.ReportResolved) || *s.Preferences.QuietHours != *prefs.QuietHours {
		t.Fatalf("preferences = %+v", s.Preferences)
	}
	if err := st.DeleteDevice(ctx, "u2", "phone"); !errors.Is(err, notify.ErrDeviceNotFound) {
		t.Fatalf("u2 deletes u1's device: %v", err)
	}
	if s2, _ := st.Settings(ctx, "u2", true); len(s2.Devices) != 0 || s2.Preferences.QuietHours != nil {
		t.Fatalf("u2 sees %+v", s2)
	}
	for i := range notify.MaxDevices - 1 {
		if err := st.PutDevice(ctx, "u1", notify.Device{ID: fmt.Sprintf("d%d", i), Platform: notify.APNs, Token: "tok-cccccccc", UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutDevice(ctx, "u1", notify.Device{ID: "one-too-many", Platform: notify.APNs, Token: "tok-dddddddd", UpdatedAt: now}); !errors.Is(err, notify.ErrTooManyDevices) {
		t.Fatalf("11th device: %v", err)
	}
	if err := st.DeleteDevice(ctx, "u1", "phone"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteDevice(ctx, "u1", "phone"); !errors.Is(err, notify.ErrDeviceNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := st.PutPreferences(ctx, "u1", notify.Preferences{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Settings(ctx, "u1", true); s.Preferences.QuietHours != nil || !s.Preferences.Wants(notify.ReportAccepted) || len(s.Devices) != notify.MaxDevices-1 {
		t.Fatalf("after reset: %+v", s)
	}
}

// A push claim whose answer is lost is re-sent by the SDK and still reported as this claim's; a later
// claim is refused until the claim is released.
func TestPushClaimSurvivesALostAnswer(t *testing.T) {
	e := newResendEnv(t, "UpdateItem")
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	n := notice("u1", notify.ReportResolved, "r1", at)
	if _, _, err := e.plain.PutNotice(ctx, n, at.Add(notify.Retention)); err != nil {
		t.Fatal(err)
	}
	ok, err := e.store.ClaimPush(ctx, "u1", n.ID, "claim-a")
	if err != nil || !ok {
		t.Fatalf("claim with a lost answer: %v %v", ok, err)
	}
	e.lost(t)
	if ok, err := e.plain.ClaimPush(ctx, "u1", n.ID, "claim-b"); err != nil || ok {
		t.Fatalf("second claim: %v %v", ok, err)
	}
	if _, pushed, err := e.plain.PutNotice(ctx, n, at.Add(notify.Retention)); err != nil || !pushed {
		t.Fatalf("redelivery sees pushed=%v (%v)", pushed, err)
	}
	if err := e.plain.ReleasePush(ctx, "u1", n.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.plain.ClaimPush(ctx, "u1", n.ID, "claim-b"); err != nil || !ok {
		t.Fatalf("claim after release: %v %v", ok, err)
	}
	if ok, err := e.plain.ClaimPush(ctx, "u2", n.ID, "claim-a"); err != nil || ok {
		t.Fatalf("claim of a notice u2 does not have: %v %v", ok, err)
	}
}

// ForgetDevice against moto: it removes a device only while it has the token that was pushed to (a
// device registered again with a new token stays), and forgetting one already gone is no error; a device
// item's stream image decodes to its user and device.
func TestForgetDeviceOnlyWithItsToken(t *testing.T) {
	e := newResendEnv(t, "none")
	e.inj.SetEnabled(false)
	ctx := t.Context()
	st := e.plain
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, d := range []notify.Device{{ID: "phone", Platform: notify.FCM, Token: "tok-new-aaaa"}, {ID: "tablet", Platform: notify.APNs, Token: "tok-bbbbbbbb"}} {
		d.UpdatedAt = now
		if err := st.PutDevice(ctx, "u1", d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ForgetDevice(ctx, "u1", "phone", "tok-old-aaaa"); err != nil { // pushed before it was registered again
		t.Fatal(err)
	}
	for range 2 {
		if err := st.ForgetDevice(ctx, "u1", "tablet", "tok-bbbbbbbb"); err != nil {
			t.Fatal(err)
		}
	}
	us, err := st.Settings(ctx, "u1", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(us.Devices) != 1 || us.Devices[0].ID != "phone" || us.Devices[0].Token != "tok-new-aaaa" {
		t.Fatalf("devices %+v, want the phone with its new token", us.Devices)
	}
	out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"pk": s("USER#u1"), "sk": s("NOTIFY#DEV#phone")}})
	if err != nil {
		t.Fatal(err)
	}
	sub, d, err := dynamostore.DeviceFromImage(out.Item)
	if err != nil || sub != "u1" || d.ID != "phone" || d.Token != "tok-new-aaaa" || d.Platform != notify.FCM || !d.UpdatedAt.Equal(now) {
		t.Fatalf("image: %s %+v %v", sub, d, err)
	}
	if _, _, err := dynamostore.DeviceFromImage(map[string]types.AttributeValue{"pk": s("REPORT#x"), "type": s("report")}); err == nil {
		t.Error("a report image decoded as a device")
	}
}
