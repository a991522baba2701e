package notifyfn_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/queue"
)

// pushFixture is the notify function built over moto with SNS platform applications made in moto, and
// the inbox as the stream consumers post to it.
type pushFixture struct {
	*testenv.Env
	fn        *notifyfn.Function
	inbox     *notify.Inbox
	app       string // the FCM platform application's ARN
	mu        sync.Mutex
	published []notifyfn.Published
}

func newPushFixture(t *testing.T, now func() time.Time) *pushFixture {
	t.Helper()
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	client := sns.NewFromConfig(e.AWS)
	app, err := client.CreatePlatformApplication(t.Context(), &sns.CreatePlatformApplicationInput{
		Name: aws.String("test-fcm"), Platform: aws.String("GCM"), Attributes: map[string]string{"PlatformCredential": "k"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.Base("NotifyFunction", map[string]string{"PUSH_FCM_APPLICATION_ARN": *app.PlatformApplicationArn}, nil)
	if now != nil {
		b.Now = now
	}
	fn, err := notifyfn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	f := &pushFixture{Env: e, fn: fn, app: *app.PlatformApplicationArn}
	fn.ObservePushes(func(p notifyfn.Published) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.published = append(f.published, p)
	})
	f.inbox = notify.NewInbox(e.Store, notify.PushOutbox{Outbox: queue.NewOutbox(queue.NewClient(e.AWS), e.OutboxURL)}, nil, b.TZ, b.Now)
	return f
}

// deliver hands every queued message to the function (as the event source does) until the queue is
// empty, and returns how many messages it delivered.
func (f *pushFixture) deliver(t *testing.T) int {
	t.Helper()
	ms := f.Receive(f.OutboxURL, 1)
	if len(ms) == 0 {
		return 0
	}
	resp, err := f.fn.Handle(t.Context(), f.SQSEvent(f.OutboxARN, ms...))
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, x := range resp.BatchItemFailures {
		failed[x.ItemIdentifier] = true
	}
	for _, m := range ms {
		if !failed[*m.MessageId] {
			f.Delete(f.OutboxURL, m)
		}
	}
	return len(ms)
}

// A notice posted three times (a stream record delivered thrice) and its three push messages reach the
// device once, through moto's SNS: a platform endpoint for the token, one Publish.
func TestPushReachesTheDeviceOnceThroughSNS(t *testing.T) {
	f := newPushFixture(t, nil)
	ctx := t.Context()
	now := time.Now().UTC()
	if err := f.Store.PutDevice(ctx, "alice", notify.Device{ID: "phone", Platform: notify.FCM, Token: "fcm-token-alice-0001", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.PutDevice(ctx, "alice", notify.Device{ID: "ipad", Platform: notify.APNs, Token: "apns-token-alice-01", UpdatedAt: now}); err != nil {
		t.Fatal(err) // no APNs application configured: that device is skipped, the FCM one is enough
	}
	n := notify.Notice{ID: notify.NoticeID("alice", notify.ReportResolved, "r1", now), Sub: "alice", Kind: notify.ReportResolved, At: now, ReportID: "r1", Points: 5}
	for range 3 {
		if err := f.inbox.Post(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.deliver(t); got != 3 {
		t.Fatalf("delivered %d messages, want 3", got)
	}
	if left := f.deliver(t); left != 0 {
		t.Fatalf("%d messages came back", left)
	}
	if len(f.published) != 1 {
		t.Fatalf("published %d times, want once: %+v", len(f.published), f.published)
	}
	p := f.published[0]
	var msg map[string]string
	if err := json.Unmarshal([]byte(p.Message), &msg); err != nil || msg["GCM"] == "" || msg["default"] == "" {
		t.Fatalf("message %q: %v", p.Message, err)
	}
	var gcm struct {
		Notification struct{ Title, Body string }
		Data         map[string]string
	}
	if err := json.Unmarshal([]byte(msg["GCM"]), &gcm); err != nil || gcm.Data["notificationId"] != n.ID || gcm.Data["reportId"] != "r1" || gcm.Notification.Title == "" {
		t.Fatalf("GCM payload %s: %v", msg["GCM"], err)
	}
	if p.EndpointArn == "" || p.MessageID == "" || p.DeviceID != "phone" || p.Sub != "alice" {
		t.Fatalf("published %+v", p)
	}
	// Posting again after the push queues nothing.
	if err := f.inbox.Post(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := f.deliver(t); got != 0 {
		t.Fatalf("a pushed notice was queued again (%d)", got)
	}
}

// During quiet hours the message is held (hidden until they end; nothing pushed, nothing claimed).
func TestQuietHoursHoldThePush(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	night := time.Date(2026, 11, 30, 23, 0, 0, 0, sh)
	f := newPushFixture(t, func() time.Time { return night })
	ctx := t.Context()
	if err := f.Store.PutDevice(ctx, "bob", notify.Device{ID: "phone", Platform: notify.FCM, Token: "fcm-token-bob-00001", UpdatedAt: night}); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.PutPreferences(ctx, "bob", notify.Preferences{QuietHours: &notify.QuietHours{Start: "22:00", End: "07:00"}}); err != nil {
		t.Fatal(err)
	}
	n := notify.Notice{ID: notify.NoticeID("bob", notify.ReportAccepted, "r2", night), Sub: "bob", Kind: notify.ReportAccepted, At: night, ReportID: "r2"}
	if err := f.inbox.Post(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := f.deliver(t); got != 1 {
		t.Fatalf("delivered %d", got)
	}
	if len(f.published) != 0 {
		t.Fatalf("pushed during quiet hours: %+v", f.published)
	}
	if got := f.deliver(t); got != 0 {
		t.Fatalf("the held message is visible again at once (%d)", got)
	}
	if _, pushed, err := f.Store.PutNotice(ctx, n, night.Add(notify.Retention)); err != nil || pushed {
		t.Fatalf("held notice claimed: %v %v", pushed, err)
	}
}
