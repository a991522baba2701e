package notify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/notify"
)

func TestQuietHoursHoldUntilTheirEnd(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	local := func(h, m int) time.Time { return time.Date(2026, 11, 30, h, m, 0, 0, sh) }
	night := &notify.QuietHours{Start: "22:00", End: "07:30"}
	lunch := &notify.QuietHours{Start: "12:00", End: "13:00"}
	cases := []struct {
		name string
		q    *notify.QuietHours
		now  time.Time
		want time.Time
	}{
		{"none", nil, local(23, 0), local(23, 0)},
		{"before the night", night, local(21, 59), local(21, 59)},
		{"at its start", night, local(22, 0), time.Date(2026, 12, 1, 7, 30, 0, 0, sh)},
		{"after midnight", night, local(3, 0), local(7, 30)},
		{"at its end", night, local(7, 30), local(7, 30)},
		{"within a daytime window", lunch, local(12, 15), local(13, 0)},
		{"after a daytime window", lunch, local(13, 0), local(13, 0)},
		{"empty window", &notify.QuietHours{Start: "08:00", End: "08:00"}, local(8, 0), local(8, 0)},
		// 22:00 local is 14:00 UTC: the window is the city's, whatever zone now is in.
		{"now in UTC", night, time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 7, 30, 0, 0, sh)},
	}
	for _, tc := range cases {
		if got := tc.q.HeldUntil(tc.now, sh); !got.Equal(tc.want) {
			t.Errorf("%s: held until %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPreferencesAndDevicesAreValidated(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"good", notify.Preferences{Push: map[notify.Kind]bool{notify.ReportAccepted: false}, QuietHours: &notify.QuietHours{Start: "22:00", End: "07:00"}}.Validate(), nil},
		{"unknown kind", notify.Preferences{Push: map[notify.Kind]bool{"report.eaten": true}}.Validate(), notify.ErrInvalidPrefs},
		{"bad start", notify.Preferences{QuietHours: &notify.QuietHours{Start: "24:00", End: "07:00"}}.Validate(), notify.ErrInvalidPrefs},
		{"bad end", notify.Preferences{QuietHours: &notify.QuietHours{Start: "22:00", End: "7:00"}}.Validate(), notify.ErrInvalidPrefs},
		{"fcm", notify.Device{Platform: notify.FCM, Token: "abcdefgh"}.Validate(), nil},
		{"unknown platform", notify.Device{Platform: "sms", Token: "abcdefgh"}.Validate(), notify.ErrInvalidDevice},
		{"short token", notify.Device{Platform: notify.APNs, Token: "abc"}.Validate(), notify.ErrInvalidDevice},
		{"token with a space", notify.Device{Platform: notify.APNs, Token: "abcd efgh"}.Validate(), notify.ErrInvalidDevice},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil) != (tc.err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

// memStore is an in-memory InboxStore for the service's rules (the DynamoDB one is tested against moto).
type memStore struct {
	mu        sync.Mutex
	notices   map[string]notify.Notice
	pushed    map[string]bool
	settings  map[string]notify.UserSettings
	forgotten []string
}

func newMem() *memStore {
	return &memStore{notices: map[string]notify.Notice{}, pushed: map[string]bool{}, settings: map[string]notify.UserSettings{}}
}

func (m *memStore) PutNotice(_ context.Context, n notify.Notice, _ time.Time) (bool, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := n.Sub + "/" + n.ID
	if _, ok := m.notices[k]; ok {
		return false, m.pushed[k], nil
	}
	m.notices[k] = n
	return true, false, nil
}
func (m *memStore) Notices(context.Context, string, int, string, time.Time) ([]notify.Notice, string, error) {
	return nil, "", nil
}
func (m *memStore) UnreadCount(context.Context, string, string, int, time.Time) (int, error) {
	return 0, nil
}
func (m *memStore) MarkRead(context.Context, string, string, time.Time) error { return nil }
func (m *memStore) MarkReadThrough(context.Context, string, string) error     { return nil }
func (m *memStore) Settings(_ context.Context, sub string, _ bool) (notify.UserSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settings[sub], nil
}
func (m *memStore) PutPreferences(context.Context, string, notify.Preferences) error { return nil }
func (m *memStore) PutDevice(context.Context, string, notify.Device) error           { return nil }
func (m *memStore) DeleteDevice(context.Context, string, string) error               { return nil }
func (m *memStore) ForgetDevice(_ context.Context, sub, id, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgotten = append(m.forgotten, sub+"/"+id+"/"+token)
	return nil
}
func (m *memStore) ClaimPush(_ context.Context, sub, id, _ string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := sub + "/" + id
	if _, ok := m.notices[k]; !ok || m.pushed[k] {
		return false, nil
	}
	m.pushed[k] = true
	return true, nil
}
func (m *memStore) ReleasePush(_ context.Context, sub, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pushed, sub+"/"+id)
	return nil
}

type queueRec struct{ msgs []notify.PushMessage }

func (q *queueRec) EnqueuePush(_ context.Context, m notify.PushMessage) error {
	q.msgs = append(q.msgs, m)
	return nil
}

type pusherRec struct {
	fail     map[string]bool // device ids that fail
	disabled map[string]bool // device ids whose endpoint SNS reports disabled
	sent     []string
}

func (p *pusherRec) Push(_ context.Context, d notify.Device, n notify.Notice) error {
	if p.disabled[d.ID] {
		return fmt.Errorf("publish: %w", notify.ErrEndpointDisabled)
	}
	if p.fail[d.ID] {
		return errors.New("throttled")
	}
	p.sent = append(p.sent, d.ID+"/"+n.ID)
	return nil
}

// Post and Push together: a notice is queued for push only for a user with devices who wants its kind,
// held through quiet hours, pushed once however often it is posted or its message delivered, and
// pushed again after a failure of every device.
func TestPostAndPushOnce(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	ctx := context.Background()
	day := time.Date(2026, 11, 30, 10, 0, 0, 0, sh)
	n := notice("u1", notify.ReportAccepted, day)
	phone := notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-aaaaaaaa"}
	tablet := notify.Device{ID: "tablet", Platform: notify.APNs, Token: "tok-bbbbbbbb"}
	cases := []struct {
		name     string
		settings notify.UserSettings
		now      time.Time
		fail     map[string]bool
		queued   bool
		held     bool
		sent     int
		retry    bool
	}{
		{"no devices: inbox only", notify.UserSettings{}, day, nil, false, false, 0, false},
		{"kind turned off", notify.UserSettings{Devices: []notify.Device{phone}, Preferences: notify.Preferences{Push: map[notify.Kind]bool{notify.ReportAccepted: false}}}, day, nil, false, false, 0, false},
		{"two devices", notify.UserSettings{Devices: []notify.Device{phone, tablet}}, day, nil, true, false, 2, false},
		{"one device fails: the other is enough", notify.UserSettings{Devices: []notify.Device{phone, tablet}}, day, map[string]bool{"tablet": true}, true, false, 1, false},
		{"every device fails: retried", notify.UserSettings{Devices: []notify.Device{phone}}, day, map[string]bool{"phone": true}, true, false, 0, true},
		{"quiet hours: held", notify.UserSettings{Devices: []notify.Device{phone}, Preferences: notify.Preferences{QuietHours: &notify.QuietHours{Start: "09:00", End: "11:00"}}}, day, nil, true, true, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store, q, p := newMem(), &queueRec{}, &pusherRec{fail: tc.fail}
			store.settings["u1"] = tc.settings
			in := notify.NewInbox(store, q, p, sh, func() time.Time { return tc.now })
			for range 2 { // a redelivered stream record posts again
				if err := in.Post(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			if len(store.notices) != 1 {
				t.Fatalf("%d notices stored", len(store.notices))
			}
			if (len(q.msgs) > 0) != tc.queued {
				t.Fatalf("queued %d", len(q.msgs))
			}
			if !tc.queued {
				return
			}
			var last notify.Decision
			for _, m := range q.msgs { // both messages delivered (and the first once more)
				for range 2 {
					d, err := in.Push(ctx, m)
					if err != nil && !d.Retry {
						t.Fatal(err)
					}
					last = d
				}
			}
			if len(p.sent) != tc.sent || last.Retry != tc.retry {
				t.Fatalf("sent %v, last decision %+v", p.sent, last)
			}
			if tc.held && (last.After != time.Hour || store.pushed["u1/"+n.ID]) {
				t.Fatalf("held push: %+v, claimed %v", last, store.pushed["u1/"+n.ID])
			}
			if tc.retry && !tc.held {
				// Every device failed: the claim was released, so the next delivery pushes once it works.
				p.fail = nil
				if d, err := in.Push(ctx, q.msgs[0]); err != nil || d.Retry || len(p.sent) != 1 {
					t.Fatalf("retry: %+v %v sent %v", d, err, p.sent)
				}
			}
		})
	}
}

func notice(sub string, kind notify.Kind, at time.Time) notify.Notice {
	return notify.Notice{ID: notify.NoticeID(sub, kind, "r1", at), Sub: sub, Kind: kind, At: at, ReportID: "r1"}
}

// A device whose endpoint the push service reports disabled is forgotten (with the token it was pushed
// with, so a device registered again with a new token is kept); it counts as no device: a message whose
// every device is disabled is done, not retried, while a disabled one beside one that failed for a
// passing reason is retried (and the disabled one is not in the user's devices any more).
func TestDisabledEndpointsAreForgotten(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	ctx := context.Background()
	day := time.Date(2026, 11, 30, 10, 0, 0, 0, sh)
	phone := notify.Device{ID: "phone", Platform: notify.FCM, Token: "tok-aaaaaaaa"}
	tablet := notify.Device{ID: "tablet", Platform: notify.APNs, Token: "tok-bbbbbbbb"}
	for _, tc := range []struct {
		name           string
		disabled, fail map[string]bool
		sent           int
		retry          bool
		forgotten      string
	}{
		{"the only device disabled: done", map[string]bool{"phone": true}, nil, 0, false, "[u1/phone/tok-aaaaaaaa]"},
		{"one disabled, the other pushed", map[string]bool{"phone": true}, nil, 1, false, "[u1/phone/tok-aaaaaaaa]"},
		{"one disabled, the other failing: retried", map[string]bool{"phone": true}, map[string]bool{"tablet": true}, 0, true, "[u1/phone/tok-aaaaaaaa]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			devices := []notify.Device{phone, tablet}
			if tc.name == "the only device disabled: done" {
				devices = devices[:1]
			}
			store, p := newMem(), &pusherRec{disabled: tc.disabled, fail: tc.fail}
			n := notice("u1", notify.ReportAccepted, day)
			store.notices["u1/"+n.ID] = n
			in := notify.NewInbox(store, nil, p, sh, func() time.Time { return day })
			d, err := in.Push(ctx, notify.PushMessage{Sub: "u1", Notice: n, Devices: devices, NotBefore: day})
			if err != nil && !d.Retry {
				t.Fatal(err)
			}
			if len(p.sent) != tc.sent || d.Retry != tc.retry || fmt.Sprint(store.forgotten) != tc.forgotten {
				t.Fatalf("sent %v, decision %+v, forgotten %v; want %d sent, retry %v, forgotten %s", p.sent, d, store.forgotten, tc.sent, tc.retry, tc.forgotten)
			}
		})
	}
}
