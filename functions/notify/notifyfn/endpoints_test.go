package notifyfn_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/queue"
)

// endpointGone reports whether moto's SNS no longer has the endpoint.
func endpointGone(t *testing.T, f *pushFixture, arn string) bool {
	t.Helper()
	_, err := sns.NewFromConfig(f.AWS).GetEndpointAttributes(t.Context(), &sns.GetEndpointAttributesInput{EndpointArn: &arn})
	var ae smithy.APIError
	if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "NotFound") {
		t.Fatal(err)
	}
	return err != nil
}

// An endpoint SNS reports disabled (the platform refused the token) on publish, through moto: the push
// fails for that device only, its endpoint is deleted and the device forgotten, so the next notice is
// queued for the other device alone; the message is not retried for the disabled one.
func TestDisabledEndpointIsDeletedAndItsDeviceForgotten(t *testing.T) {
	f := newPushFixture(t, nil)
	var deleted []notifyfn.Deleted
	f.fn.ObserveDeletes(func(d notifyfn.Deleted) { deleted = append(deleted, d) })
	ctx := t.Context()
	now := time.Now().UTC()
	for _, d := range []notify.Device{{ID: "phone", Platform: notify.FCM, Token: "fcm-token-carol-001"}, {ID: "old-phone", Platform: notify.FCM, Token: "fcm-token-carol-002"}} {
		d.UpdatedAt = now
		if err := f.Store.PutDevice(ctx, "carol", d); err != nil {
			t.Fatal(err)
		}
	}
	post := func(entity string) notify.Notice {
		t.Helper()
		n := notify.Notice{ID: notify.NoticeID("carol", notify.ReportAccepted, entity, now), Sub: "carol", Kind: notify.ReportAccepted, At: now, ReportID: entity}
		if err := f.inbox.Post(ctx, n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	post("r1")
	if got := f.deliver(t); got != 1 || len(f.published) != 2 {
		t.Fatalf("first notice: %d messages, %d pushes", got, len(f.published))
	}
	var oldArn string
	for _, p := range f.published {
		if p.DeviceID == "old-phone" {
			oldArn = p.EndpointArn
		}
	}
	// The platform refuses old-phone's token: SNS disables its endpoint.
	if _, err := sns.NewFromConfig(f.AWS).SetEndpointAttributes(ctx, &sns.SetEndpointAttributesInput{EndpointArn: &oldArn, Attributes: map[string]string{"Enabled": "false"}}); err != nil {
		t.Fatal(err)
	}
	f.published = nil
	post("r2")
	if got := f.deliver(t); got != 1 {
		t.Fatalf("second notice: %d messages", got)
	}
	if left := f.deliver(t); left != 0 {
		t.Fatalf("the message came back (%d): a disabled endpoint is no reason to retry", left)
	}
	if len(f.published) != 1 || f.published[0].DeviceID != "phone" {
		t.Fatalf("pushes %+v, want the phone's only", f.published)
	}
	if len(deleted) != 1 || deleted[0].EndpointArn != oldArn || deleted[0].Reason != "disabled" || !endpointGone(t, f, oldArn) {
		t.Fatalf("deleted %+v; endpoint gone %v", deleted, endpointGone(t, f, oldArn))
	}
	s, err := f.Store.Settings(ctx, "carol", true)
	if err != nil || len(s.Devices) != 1 || s.Devices[0].ID != "phone" {
		t.Fatalf("devices %+v, %v: want the phone only", s.Devices, err)
	}
}

// A device removed (or registered again with another token): the removal message deletes the old
// token's endpoint in moto's SNS; delivered again, it deletes nothing more and fails nothing; a token
// that never had an endpoint leaves none behind.
func TestRemovedDeviceEndpointIsDeleted(t *testing.T) {
	f := newPushFixture(t, nil)
	var deleted []notifyfn.Deleted
	f.fn.ObserveDeletes(func(d notifyfn.Deleted) { deleted = append(deleted, d) })
	ctx := t.Context()
	now := time.Now().UTC()
	phone := notify.Device{ID: "phone", Platform: notify.FCM, Token: "fcm-token-dave-0001", UpdatedAt: now}
	if err := f.Store.PutDevice(ctx, "dave", phone); err != nil {
		t.Fatal(err)
	}
	n := notify.Notice{ID: notify.NoticeID("dave", notify.ReportAccepted, "r1", now), Sub: "dave", Kind: notify.ReportAccepted, At: now, ReportID: "r1"}
	if err := f.inbox.Post(ctx, n); err != nil {
		t.Fatal(err)
	}
	f.deliver(t)
	if len(f.published) != 1 {
		t.Fatalf("pushes %+v", f.published)
	}
	arn := f.published[0].EndpointArn
	out := notify.PushOutbox{Outbox: queue.NewOutbox(queue.NewClient(f.AWS), f.OutboxURL)}
	for range 2 { // a stream record delivered twice queues the same removal twice
		if err := out.EnqueueRemoval(ctx, notify.EndpointRemoval{Sub: "dave", Device: phone}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.deliver(t); got != 2 {
		t.Fatalf("delivered %d removals", got)
	}
	if left := f.deliver(t); left != 0 {
		t.Fatalf("%d removals came back", left)
	}
	if !endpointGone(t, f, arn) || len(deleted) == 0 || deleted[0].EndpointArn != arn || deleted[0].Reason != "unregistered" {
		t.Fatalf("endpoint gone %v, deleted %+v", endpointGone(t, f, arn), deleted)
	}
	never := notify.Device{ID: "tablet", Platform: notify.FCM, Token: "fcm-token-dave-0002"}
	if err := out.EnqueueRemoval(ctx, notify.EndpointRemoval{Sub: "dave", Device: never}); err != nil {
		t.Fatal(err)
	}
	deleted = nil
	if got := f.deliver(t); got != 1 || len(deleted) != 1 || !endpointGone(t, f, deleted[0].EndpointArn) {
		t.Fatalf("a token without an endpoint: %d messages, deleted %+v", got, deleted)
	}
	apps, err := sns.NewFromConfig(f.AWS).ListEndpointsByPlatformApplication(ctx, &sns.ListEndpointsByPlatformApplicationInput{PlatformApplicationArn: aws.String(f.app)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range apps.Endpoints { // moto's SNS is shared by the package's tests: dave's tokens only
		if tok := ep.Attributes["Token"]; tok == phone.Token || tok == never.Token {
			t.Errorf("endpoint of %s left", tok)
		}
	}
}
