package accountfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/functions/account/accountfn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/notify"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

// call sends a request through the account function's Lambda handler as API Gateway does, as sub.
func call(t *testing.T, fn *accountfn.Function, sub, method, routeKey, path string, params map[string]string, body string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	claims := map[string]string{"sub": sub, "cognito:groups": "[citizen]"}
	ev := gateway.Event(req, []byte(body), routeKey, claims)
	ev.PathParameters = params
	resp, err := fn.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	r := response{status: resp.StatusCode, raw: resp.Body}
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &r.body); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, resp.Body, err)
		}
	}
	return r
}

func code(r response) string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// The notification routes against moto: the caller's own inbox, devices and preferences, and nothing of
// another user's — another's notification or device id answers 404 and changes nothing; bad input is a
// 4xx that writes nothing.
func TestNotificationRoutesArePrivate(t *testing.T) {
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	fn, err := accountfn.New(e.Base("AccountFunction", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var ids []string
	for i, k := range []notify.Kind{notify.ReportDispatched, notify.ReportAccepted, notify.ReportResolved} {
		at := now.Add(time.Duration(i-3) * time.Minute)
		n := notify.Notice{ID: notify.NoticeID("alice", k, "r1", at), Sub: "alice", Kind: k, At: at, ReportID: "r1"}
		if _, _, err := e.Store.PutNotice(ctx, n, at.Add(notify.Retention)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	list := func(sub, q string) response {
		return call(t, fn, sub, "GET", "GET /v1/me/notifications", "/v1/me/notifications"+q, nil, "")
	}
	r := list("alice", "?limit=2")
	items, _ := r.body["items"].([]any)
	if r.status != 200 || len(items) != 2 || r.body["unreadCount"] != float64(3) || r.body["nextCursor"] == "" {
		t.Fatalf("alice's first page: %d %s", r.status, r.raw)
	}
	if first := items[0].(map[string]any); first["id"] != ids[2] || first["kind"] != "report.resolved" || first["read"] != false {
		t.Fatalf("newest first: %v", first)
	}
	if r := list("bob", ""); r.status != 200 || len(r.body["items"].([]any)) != 0 || r.body["unreadCount"] != float64(0) {
		t.Fatalf("bob sees %s", r.raw)
	}
	if r := list("alice", "?limit=0"); r.status != 400 || code(r) != "invalid_limit" {
		t.Fatalf("limit 0: %d %s", r.status, r.raw)
	}

	readOne := func(sub, id string) response {
		return call(t, fn, sub, "POST", "POST /v1/me/notifications/{id}/read", "/v1/me/notifications/"+id+"/read", map[string]string{"id": id}, "")
	}
	if r := readOne("bob", ids[0]); r.status != 404 || code(r) != "notification_not_found" {
		t.Fatalf("bob marks alice's: %d %s", r.status, r.raw)
	}
	if r := readOne("alice", "not-an-id"); r.status != 404 {
		t.Fatalf("malformed id: %d %s", r.status, r.raw)
	}
	if r := list("alice", ""); r.body["unreadCount"] != float64(3) {
		t.Fatalf("refused marks changed something: %s", r.raw)
	}
	if r := readOne("alice", ids[0]); r.status != 200 || r.body["read"] != true {
		t.Fatalf("alice marks hers: %d %s", r.status, r.raw)
	}
	if r := list("alice", ""); r.body["unreadCount"] != float64(2) {
		t.Fatalf("after one read: %s", r.raw)
	}
	readAll := func(body string) response {
		return call(t, fn, "alice", "POST", "POST /v1/me/notifications/read", "/v1/me/notifications/read", nil, body)
	}
	for _, bad := range []string{``, `{}`, `{"before":"yesterday"}`, `{"before":"2026-11-30T00:00:00Z","x":1}`} {
		if r := readAll(bad); r.status != 400 {
			t.Fatalf("mark all %q: %d %s", bad, r.status, r.raw)
		}
	}
	if r := readAll(fmt.Sprintf(`{"before":%q}`, now.Format(time.RFC3339Nano))); r.status != 200 {
		t.Fatalf("mark all: %d %s", r.status, r.raw)
	}
	r = list("alice", "")
	if r.body["unreadCount"] != float64(0) {
		t.Fatalf("after mark all: %s", r.raw)
	}
	for _, it := range r.body["items"].([]any) {
		if it.(map[string]any)["read"] != true {
			t.Fatalf("unread after mark all: %v", it)
		}
	}

	device := func(sub, method, id, body string) response {
		return call(t, fn, sub, method, method+" /v1/me/devices/{id}", "/v1/me/devices/"+id, map[string]string{"id": id}, body)
	}
	for _, bad := range []string{`{"platform":"sms","token":"abcdefgh"}`, `{"platform":"fcm","token":"x"}`, `{"platform":"fcm"}`, `{"platform":"fcm","token":"abcdefgh","extra":1}`, `[]`} {
		if r := device("alice", "PUT", "phone", bad); r.status != 400 {
			t.Fatalf("device %s: %d %s", bad, r.status, r.raw)
		}
	}
	if s, _ := e.Store.Settings(ctx, "alice", true); len(s.Devices) != 0 {
		t.Fatalf("a refused device was written: %+v", s.Devices)
	}
	if r := device("alice", "PUT", "phone", `{"platform":"fcm","token":"fcm-token-0001"}`); r.status != 200 || r.body["id"] != "phone" || r.body["token"] != nil {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	if r := device("bob", "DELETE", "phone", ""); r.status != 404 || code(r) != "device_not_found" {
		t.Fatalf("bob deletes alice's device: %d %s", r.status, r.raw)
	}
	if s, _ := e.Store.Settings(ctx, "alice", true); len(s.Devices) != 1 {
		t.Fatalf("alice's devices after bob's delete: %+v", s.Devices)
	}
	if r := device("alice", "DELETE", "phone", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}

	prefs := func(sub, method, body string) response {
		return call(t, fn, sub, method, method+" /v1/me/notification-preferences", "/v1/me/notification-preferences", nil, body)
	}
	if r := prefs("alice", "PUT", `{"push":{"report.eaten":true}}`); r.status != 400 || code(r) != "invalid_preferences" {
		t.Fatalf("unknown kind: %d %s", r.status, r.raw)
	}
	if r := prefs("alice", "PUT", `{"quietHours":{"start":"25:00","end":"07:00"}}`); r.status != 400 {
		t.Fatalf("bad quiet hours: %d %s", r.status, r.raw)
	}
	r = prefs("alice", "PUT", `{"push":{"report.accepted":false},"quietHours":{"start":"22:00","end":"07:00"}}`)
	push, _ := r.body["push"].(map[string]any)
	if r.status != 200 || push["report.accepted"] != false || push["report.resolved"] != true || len(push) != len(notify.Kinds) {
		t.Fatalf("put preferences: %d %s", r.status, r.raw)
	}
	if r := prefs("bob", "GET", ""); r.body["quietHours"] != nil || r.body["push"].(map[string]any)["report.accepted"] != true {
		t.Fatalf("bob's preferences: %s", r.raw)
	}
	if r := prefs("alice", "GET", ""); !bytes.Contains([]byte(r.raw), []byte(`"start":"22:00"`)) {
		t.Fatalf("alice's preferences: %s", r.raw)
	}
}
