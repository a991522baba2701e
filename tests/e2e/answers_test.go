package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type answeredReport struct {
	ID          string
	Status      string
	ResolvedAt  time.Time
	Timeline    []struct{ Status, Actor, Note string }
	Assignments []struct {
		Dept, Role, Status string
		SLADeadline        time.Time
	}
	Feedback *struct {
		At      time.Time
		Answer  string
		Rating  int
		Comment string
		Photos  []struct{ Key, VersionID string }
	}
}

// resolvedReport files a report, waits for its dispatch to municipal and resolves it with lead's account.
func resolvedReport(t *testing.T, citizen, lead *client, description string, lat, lng float64) answeredReport {
	t.Helper()
	id := fileReport(t, citizen, "manhole_cover", description, lat, lng)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "dispatched" && r.LeadDept == "municipal" })
	resolveViaStaff(t, lead, id)
	waitFor(t, citizen, id, func(r fullReport) bool { return r.Status == "resolved" })
	var r answeredReport
	if st := citizen.call("GET", "/v1/reports/"+id, nil, nil, &r); st != 200 {
		t.Fatalf("GET report = %d", st)
	}
	return r
}

// key is a fresh Idempotency-Key named after name (printable ASCII without spaces).
func key(name string) map[string]string {
	name = strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f && r != '\'' {
			return r
		}
		return '-'
	}, name)
	return map[string]string{"Idempotency-Key": fmt.Sprint("e2e-answer-", name, "-", time.Now().UnixNano())}
}

// setClock moves the stack's clock (the zero time: back to the wall clock).
func setClock(t *testing.T, at time.Time) {
	t.Helper()
	body := map[string]any{"now": nil}
	if !at.IsZero() {
		body["now"] = at.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(api+"/_local/clock", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("set clock = %d", resp.StatusCode)
	}
}

// TestConfirmContestAndTheWindowsEnd: through the real stream path, a reporter's contest reopens the
// report to its lead with a new deadline (in the department's reopened queue), a confirmation records the
// rating, bad input and second answers write nothing, and at the window's end the sweeper confirms an
// unanswered resolution.
func TestConfirmContestAndTheWindowsEnd(t *testing.T) {
	citizen := login(t, "e2e-answer-citizen", []string{"citizen"}, "")
	other := login(t, "e2e-answer-other", []string{"citizen"}, "")
	municipal := login(t, "e2e-answer-municipal", []string{"staff"}, "municipal")
	var e struct{ Error struct{ Code string } }

	// Contest: reopened to municipal with a new deadline.
	r := resolvedReport(t, citizen, municipal, "井盖又松了 the cover is loose again", 23.3611, 103.3811)
	photo := citizen.uploadPhoto("image/jpeg", photoJPEG(t))
	bad := []struct {
		name   string
		who    *client
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"someone else's report", other, "/contest", map[string]any{"photoKeys": []string{photo}}, 404, "report_not_found"},
		{"no photo", citizen, "/contest", map[string]any{"comment": "still broken"}, 400, "invalid_photo_count"},
		{"a photo that is not an upload", citizen, "/contest", map[string]any{"photoKeys": []string{"reports/x.jpg"}}, 400, "invalid_photo_key"},
		{"rating 0", citizen, "/confirm", map[string]any{"rating": 0}, 400, "invalid_rating"},
		{"rating 6", citizen, "/confirm", map[string]any{"rating": 6}, 400, "invalid_rating"},
		{"an unknown field", citizen, "/confirm", map[string]any{"rating": 4, "stars": 4}, 400, "invalid_json"},
	}
	for _, b := range bad {
		if st := b.who.call("POST", "/v1/reports/"+r.ID+b.path, b.body, key(b.name), &e); st != b.status || e.Error.Code != b.code {
			t.Errorf("%s = %d %s, want %d %s", b.name, st, e.Error.Code, b.status, b.code)
		}
	}
	if st := citizen.call("POST", "/v1/reports/"+r.ID+"/confirm", map[string]any{"rating": 4}, nil, &e); st != 400 || e.Error.Code != "idempotency_key_required" {
		t.Errorf("no Idempotency-Key = %d %s", st, e.Error.Code)
	}
	var still answeredReport
	if citizen.call("GET", "/v1/reports/"+r.ID, nil, nil, &still); still.Status != "resolved" || still.Feedback != nil {
		t.Fatalf("refused answers wrote: %+v", still)
	}

	before := time.Now()
	var reopened answeredReport
	if st := citizen.call("POST", "/v1/reports/"+r.ID+"/contest", map[string]any{"comment": "still loose", "photoKeys": []string{photo}}, key("contest"), &reopened); st != 200 {
		t.Fatalf("contest = %d", st)
	}
	if reopened.Status != "reopened" || reopened.Feedback == nil || reopened.Feedback.Answer != "contested" || len(reopened.Feedback.Photos) != 1 {
		t.Fatalf("contested report = %+v", reopened)
	}
	got := waitFor(t, citizen, r.ID, func(f fullReport) bool { return f.Status == "reopened" })
	if last := got.Timeline[len(got.Timeline)-1]; last.Status != "reopened" || last.Actor != "citizen" {
		t.Errorf("last timeline entry = %+v", last)
	}
	citizen.call("GET", "/v1/reports/"+r.ID, nil, nil, &reopened)
	for _, a := range reopened.Assignments {
		if a.Dept == "municipal" && (a.Status != "reopened" || a.SLADeadline.Before(before)) {
			t.Errorf("municipal's assignment after the contest = %+v (contested at %v)", a, before)
		}
	}
	// municipal is told through its webhook, as of a dispatch (report.reopened, the new deadline).
	msg := fmt.Sprintf("msg_%s_municipal_reopened_%d", r.ID, reopened.Feedback.At.UnixMilli())
	var sent sinkDelivery
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var ok bool
		if sent, ok = sinkFor(t, "municipal", msg); ok || time.Now().After(deadline) {
			if !ok {
				t.Errorf("municipal's sink never got %s", msg)
			}
			break
		}
	}
	if sent.Body != "" && (!strings.Contains(sent.Body, `"type":"report.reopened"`) || !strings.Contains(sent.Body, "still loose")) {
		t.Errorf("the reopen notice = %s", sent.Body)
	}
	var q struct{ Items []struct{ ReportID string } }
	if st := municipal.call("GET", "/v1/dept/reports?status=reopened&limit=100", nil, nil, &q); st != 200 || !containsReport(q.Items, r.ID) {
		t.Errorf("municipal's reopened queue = %d %+v, want %s", st, q, r.ID)
	}
	if st := citizen.call("POST", "/v1/reports/"+r.ID+"/confirm", map[string]any{"rating": 5}, key("after-contest"), &e); st != 409 || e.Error.Code != "already_answered" {
		t.Errorf("confirm after contesting = %d %s, want 409 already_answered", st, e.Error.Code)
	}
	// The department takes it up again as after a dispatch.
	if st := municipal.call("POST", "/v1/dept/reports/"+r.ID+"/transitions", map[string]any{"to": "accepted"}, nil, nil); st != 200 {
		t.Errorf("accept the reopened report = %d", st)
	}
	// Resolved again, it keeps its first resolvedAt and its one award (accrual keys the award by it).
	proof := municipal.uploadPhoto("image/jpeg", photoJPEG(t))
	if st := municipal.call("POST", "/v1/dept/reports/"+r.ID+"/transitions", map[string]any{"to": "resolved", "note": "fixed again", "proofPhotoKeys": []string{proof}}, nil, nil); st != 200 {
		t.Fatalf("resolve the reopened report = %d", st)
	}
	waitFor(t, citizen, r.ID, func(f fullReport) bool { return f.Status == "resolved" })
	if resp, err := http.Post(api+"/_local/drain?scope=streams", "application/json", nil); err == nil {
		resp.Body.Close()
	}
	var again2 answeredReport
	citizen.call("GET", "/v1/reports/"+r.ID, nil, nil, &again2)
	if !again2.ResolvedAt.Equal(r.ResolvedAt) {
		t.Errorf("resolvedAt after the second resolution = %v, want the first %v", again2.ResolvedAt, r.ResolvedAt)
	}
	var ledger ledgerPage
	citizen.call("GET", "/v1/me/ledger?limit=100", nil, nil, &ledger)
	awards := 0
	for _, e := range ledger.Items {
		if e.ReportID == r.ID && e.Delta > 0 {
			awards++
		}
	}
	if awards != 1 {
		t.Errorf("%d awards for the report resolved twice, want 1: %+v", awards, ledger.Items)
	}

	// Confirm: the rating is on the report; the same request again answers the same.
	c := resolvedReport(t, citizen, municipal, "井盖已修好 cover fixed", 23.3622, 103.3822)
	k := key("confirm")
	var confirmed, again answeredReport
	if st := citizen.call("POST", "/v1/reports/"+c.ID+"/confirm", map[string]any{"rating": 5, "comment": "很快 quick"}, k, &confirmed); st != 200 ||
		confirmed.Status != "resolved" || confirmed.Feedback == nil || confirmed.Feedback.Rating != 5 {
		t.Fatalf("confirm = %d %+v", st, confirmed)
	}
	if st := citizen.call("POST", "/v1/reports/"+c.ID+"/confirm", map[string]any{"rating": 5, "comment": "很快 quick"}, k, &again); st != 200 || again.Feedback == nil || again.Feedback.Rating != 5 {
		t.Errorf("the same confirmation again = %d %+v", st, again)
	}
	if st := citizen.call("POST", "/v1/reports/"+c.ID+"/confirm", map[string]any{"rating": 1}, k, &e); st != 422 || e.Error.Code != "idempotency_key_reused" {
		t.Errorf("its key with another body = %d %s", st, e.Error.Code)
	}
	// The rating and the contest are in today's KPIs once rolled up, overall and for municipal.
	resp, err := http.Post(api+"/_local/schedules/KpiFunction", "application/json", strings.NewReader(`{"day":"today"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	type answers struct{ Answers, Rated, Satisfied, RatingSum, Contested int }
	var sum struct {
		Answers          answers
		SatisfactionRate *float64
		AverageRating    *float64
		ReopenRate       *float64
	}
	if st := municipal.call("GET", "/v1/kpi/summary?from="+today+"&to="+today, nil, nil, &sum); st != 200 ||
		sum.Answers.Rated < 1 || sum.Answers.Satisfied < 1 || sum.Answers.Contested < 1 || sum.SatisfactionRate == nil || sum.AverageRating == nil || sum.ReopenRate == nil {
		t.Errorf("today's summary = %d %+v", st, sum)
	}
	var league struct {
		Items []struct {
			Dept             string
			Answers          answers
			SatisfactionRate *float64
		}
	}
	municipal.call("GET", "/v1/kpi/departments?from="+today+"&to="+today, nil, nil, &league)
	found := false
	for _, d := range league.Items {
		if d.Dept == "municipal" {
			found = d.Answers.Rated >= 1 && d.Answers.Contested >= 1 && d.SatisfactionRate != nil
		}
	}
	if !found {
		t.Errorf("municipal's answers are not in today's league: %+v", league.Items)
	}

	// The window's end: the sweeper confirms an unanswered resolution; then no answer is taken.
	w := resolvedReport(t, citizen, municipal, "井盖修好了 fixed, no answer", 23.3633, 103.3833)
	late := citizen.uploadPhoto("image/jpeg", photoJPEG(t))
	setClock(t, w.ResolvedAt.Add(7*24*time.Hour+time.Minute))
	defer setClock(t, time.Time{})
	resp, err = http.Post(api+"/_local/schedules/SweeperFunction", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("fire sweeper = %d", resp.StatusCode)
	}
	var auto answeredReport
	if st := citizen.call("GET", "/v1/reports/"+w.ID, nil, nil, &auto); st != 200 || auto.Feedback == nil || auto.Feedback.Answer != "auto_confirmed" || auto.Status != "resolved" {
		t.Errorf("after the window = %d %+v", st, auto)
	}
	if st := citizen.call("POST", "/v1/reports/"+w.ID+"/contest", map[string]any{"photoKeys": []string{late}}, key("late"), &e); st != 409 || e.Error.Code != "already_answered" {
		t.Errorf("contest after the window = %d %s, want 409 already_answered", st, e.Error.Code)
	}
}
