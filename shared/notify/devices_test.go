package notify_test

import (
	"context"
	"testing"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/notify"
)

func TestUnregistered(t *testing.T) {
	phone := notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-aaaaaaaa"}
	renewed := phone
	renewed.Token = "tok-cccccccc"
	for _, tc := range []struct {
		name     string
		old, new *notify.Device
		want     bool
	}{
		{"registered", nil, &phone, false},
		{"registered again with the same token", &phone, &phone, false},
		{"registered again with another token", &phone, &renewed, true},
		{"removed", &phone, nil, true},
		{"nothing", nil, nil, false},
	} {
		got, ok := notify.Unregistered(tc.old, tc.new)
		if ok != tc.want || ok && got != phone {
			t.Errorf("%s: %+v %v, want %v", tc.name, got, ok, tc.want)
		}
	}
}

type outboxRec struct{ ns []dispatch.Notification }

func (o *outboxRec) Enqueue(_ context.Context, ns []dispatch.Notification) error {
	o.ns = append(o.ns, ns...)
	return nil
}

// The removal's message id is the same for the same change (a record delivered again), another for
// another token; it reads back as it was queued.
func TestEndpointRemovalMessages(t *testing.T) {
	o := &outboxRec{}
	out := notify.PushOutbox{Outbox: o}
	phone := notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-aaaaaaaa"}
	other := phone
	other.Token = "tok-cccccccc"
	for _, d := range []notify.Device{phone, phone, other} {
		if err := out.EnqueueRemoval(context.Background(), notify.EndpointRemoval{Sub: "u1", Device: d}); err != nil {
			t.Fatal(err)
		}
	}
	if len(o.ns) != 3 || o.ns[0].ID != o.ns[1].ID || o.ns[0].ID == o.ns[2].ID || o.ns[0].Type != notify.EndpointRemovalType || len(o.ns[0].ID) > 80 {
		t.Fatalf("messages %+v", o.ns)
	}
	r, err := notify.DecodeRemoval(o.ns[2])
	if err != nil || r.Sub != "u1" || r.Device != other {
		t.Fatalf("decoded %+v, %v", r, err)
	}
	if _, err := notify.DecodeRemoval(dispatch.Notification{ID: "x", Payload: []byte(`{"sub":"u1"}`)}); err == nil {
		t.Error("a removal without a token decoded")
	}
}
