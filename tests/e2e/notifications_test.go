package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

type notificationPage struct {
	Items []struct {
		ID            string
		Kind          string
		ReportID      string
		ProofPhotoKey string
		Points        int64
		Read          bool
	}
	NextCursor  string
	UnreadCount int
}

type pushed struct {
	Items []struct {
		Sub      string
		DeviceID string
		Platform string
		Notice   struct {
			ID       string
			Kind     string
			ReportID string
		}
	}
}

// localJSON calls one of the local stack's own routes (not the API: not checked against the document).
func localJSON(t *testing.T, method, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, api+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s = %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

func pushesTo(t *testing.T, sub string) map[string]int {
	t.Helper()
	var p pushed
	localJSON(t, "GET", "/_local/push?sub="+url.QueryEscape(sub), &p)
	n := map[string]int{}
	for _, it := range p.Items {
		n[it.Notice.Kind]++
	}
	return n
}

func inbox(t *testing.T, c *client) notificationPage {
	t.Helper()
	var p notificationPage
	if st := c.call("GET", "/v1/me/notifications?limit=50", nil, nil, &p); st != 200 {
		t.Fatalf("GET /v1/me/notifications = %d", st)
	}
	return p
}

// waitQueued polls the open queue of staff's department until report id is in it, as staff find their
// work. The queue lists assignment items, so the report is there once dispatch has written its lead's
// assignment, which follows dispatch's commit: GET /v1/reports/{id} shows the report dispatched to its
// lead from the commit on, and the lead acting in between is answered 409 assignment_pending.
func waitQueued(t *testing.T, staff *client, id string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for path := "/v1/dept/reports?status=open&limit=100"; path != ""; {
			var q struct {
				Items      []struct{ ReportID string }
				NextCursor string
			}
			if st := staff.call("GET", path, nil, nil, &q); st != 200 {
				t.Fatalf("GET %s = %d", path, st)
			}
			if containsReport(q.Items, id) {
				return
			}
			path = ""
			if q.NextCursor != "" {
				path = "/v1/dept/reports?status=open&limit=100&cursor=" + url.QueryEscape(q.NextCursor)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("report %s never reached the department's open queue", id)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// TestNotificationsThroughTheStream: a citizen with a registered phone files a report; dispatch, the
// acceptance and the resolution (with its proof photo and points) reach the inbox and the push sink (moto's
// SNS) once each, through the real stream path — and still once after both stream consumers are handed
// the report's records again. Another citizen sees none of it and cannot touch the device.
func TestNotificationsThroughTheStream(t *testing.T) {
	// A citizen of this run alone: the push sink keeps what every run pushed to a sub, so a second run
	// (-count) under one name would find its three kinds pushed before its own notices arrive.
	sub := fmt.Sprint("e2e-notify-citizen-", time.Now().UnixNano())
	citizen := login(t, sub, []string{"citizen"}, "")
	other := login(t, "e2e-notify-other", []string{"citizen"}, "")
	if st := citizen.call("PUT", "/v1/me/devices/phone-1", map[string]any{"platform": "fcm", "token": "e2e-fcm-token-0001"}, nil, nil); st != 200 {
		t.Fatalf("register device = %d", st)
	}
	id := fileReport(t, citizen, "manhole_cover", "井盖缺失 missing manhole cover", 23.3560, 103.3470)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
	resolveViaStaff(t, login(t, "e2e-notify-municipal", []string{"staff"}, "municipal"), id) // once in its queue

	want := map[string]int{"report.dispatched": 1, "report.accepted": 1, "report.resolved": 1}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := pushesTo(t, sub)
		if len(got) == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	check := func(when string) {
		t.Helper()
		p := inbox(t, citizen)
		kinds := map[string]int{}
		for _, it := range p.Items {
			if it.ReportID != id {
				continue
			}
			kinds[it.Kind]++
			if it.Kind == "report.resolved" && (it.ProofPhotoKey == "" || it.Points != 10) {
				t.Errorf("%s: the resolution's notice %+v, want its proof photo and 10 points", when, it)
			}
		}
		for k, n := range want {
			if kinds[k] != n {
				t.Errorf("%s: inbox has %v, want %v", when, kinds, want)
				break
			}
		}
		if got := pushesTo(t, sub); len(got) != len(want) || got["report.dispatched"] != 1 || got["report.accepted"] != 1 || got["report.resolved"] != 1 {
			t.Errorf("%s: pushes %v, want one of each of %v", when, got, want)
		}
	}
	check("after the resolution")

	// Both stream consumers get the report's records again (as after a failed batch or a timeout).
	for _, fn := range []string{"DispatchFunction", "AccrualFunction"} {
		var res struct {
			Records  int
			Failures []string
		}
		localJSON(t, "POST", "/_local/streams/"+fn+"/redeliver?pk="+url.QueryEscape("REPORT#"+id), &res)
		if res.Records == 0 || len(res.Failures) != 0 {
			t.Fatalf("redeliver to %s: %+v", fn, res)
		}
	}
	localJSON(t, "POST", "/_local/drain", nil)
	check("after the records came again")

	// Another citizen: an empty inbox, 404 for the notice and the device, which stays registered.
	p := inbox(t, citizen)
	if len(p.Items) == 0 || p.UnreadCount == 0 {
		t.Fatalf("inbox %+v", p)
	}
	if op := inbox(t, other); len(op.Items) != 0 {
		t.Fatalf("another citizen sees %+v", op)
	}
	if st := other.call("POST", "/v1/me/notifications/"+p.Items[0].ID+"/read", nil, nil, nil); st != 404 {
		t.Fatalf("another citizen marks the notice read = %d, want 404", st)
	}
	if st := other.call("DELETE", "/v1/me/devices/phone-1", nil, nil, nil); st != 404 {
		t.Fatalf("another citizen deletes the device = %d, want 404", st)
	}
	var prefs map[string]any
	if st := other.call("GET", "/v1/me/notification-preferences", nil, nil, &prefs); st != 200 || prefs["quietHours"] != nil {
		t.Fatalf("another citizen's preferences = %d %v", st, prefs)
	}
	if st := citizen.call("PUT", "/v1/me/notification-preferences", map[string]any{"push": map[string]any{"report.accepted": false}, "quietHours": map[string]any{"start": "23:00", "end": "06:30"}}, nil, nil); st != 200 {
		t.Fatalf("put preferences = %d", st)
	}
	if st := citizen.call("POST", "/v1/me/notifications/"+p.Items[0].ID+"/read", nil, nil, nil); st != 200 {
		t.Fatalf("mark read = %d", st)
	}
	if st := citizen.call("POST", "/v1/me/notifications/read", map[string]any{"before": time.Now().UTC().Add(time.Minute).Format(time.RFC3339Nano)}, nil, nil); st != 200 {
		t.Fatalf("mark all read = %d", st)
	}
	if p := inbox(t, citizen); p.UnreadCount != 0 {
		t.Fatalf("unread after mark all = %d", p.UnreadCount)
	}
	if st := citizen.call("DELETE", "/v1/me/devices/phone-1", nil, nil, nil); st != 204 {
		t.Fatalf("delete device = %d", st)
	}
}

type pushSinkView struct {
	Items []struct {
		DeviceID    string
		EndpointArn string
	}
	Deleted []struct {
		DeviceID    string
		EndpointArn string
		Reason      string
	}
}

// TestRemovedDeviceLosesItsEndpoint, through the real stream path: a citizen's phone gets a push (its
// token's SNS endpoint made by notify); registered again with a new token, the old token's endpoint is
// deleted; removed (DELETE /v1/me/devices/{id}), the new one's too — each once, found by the stream
// consumer and deleted by notify in moto's SNS.
func TestRemovedDeviceLosesItsEndpoint(t *testing.T) {
	sub := fmt.Sprint("e2e-device-", time.Now().UnixNano())
	citizen := login(t, sub, []string{"citizen"}, "")
	if st := citizen.call("PUT", "/v1/me/devices/phone-1", map[string]any{"platform": "fcm", "token": "e2e-fcm-old-" + sub}, nil, nil); st != 200 {
		t.Fatalf("register device = %d", st)
	}
	id := fileReport(t, citizen, "rubbish", "垃圾 rubbish", 23.3590, 103.3520)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" })
	sink := func(until func(pushSinkView) bool) pushSinkView {
		t.Helper()
		var v pushSinkView
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			v = pushSinkView{}
			localJSON(t, "GET", "/_local/push?sub="+url.QueryEscape(sub), &v)
			if until(v) || time.Now().After(deadline) {
				return v
			}
		}
	}
	v := sink(func(v pushSinkView) bool { return len(v.Items) > 0 })
	if len(v.Items) == 0 || len(v.Deleted) != 0 {
		t.Fatalf("sink %+v: want a push and no deletion", v)
	}
	oldArn := v.Items[0].EndpointArn
	if st := citizen.call("PUT", "/v1/me/devices/phone-1", map[string]any{"platform": "fcm", "token": "e2e-fcm-new-" + sub}, nil, nil); st != 200 {
		t.Fatalf("register again = %d", st)
	}
	v = sink(func(v pushSinkView) bool { return len(v.Deleted) > 0 })
	if len(v.Deleted) != 1 || v.Deleted[0].EndpointArn != oldArn || v.Deleted[0].Reason != "unregistered" || v.Deleted[0].DeviceID != "phone-1" {
		t.Fatalf("after a new token: deleted %+v, want the old token's endpoint %s", v.Deleted, oldArn)
	}
	if st := citizen.call("DELETE", "/v1/me/devices/phone-1", nil, nil, nil); st != 204 {
		t.Fatalf("delete device = %d", st)
	}
	v = sink(func(v pushSinkView) bool { return len(v.Deleted) > 1 })
	if len(v.Deleted) != 2 || v.Deleted[1].EndpointArn == oldArn || v.Deleted[1].Reason != "unregistered" {
		t.Fatalf("after the removal: deleted %+v, want the new token's endpoint too", v.Deleted)
	}
	localJSON(t, "POST", "/_local/drain", nil)
	if v = sink(func(pushSinkView) bool { return true }); len(v.Deleted) != 2 {
		t.Errorf("deleted %d endpoints, want 2", len(v.Deleted))
	}
}
