package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// Builders' home (建设者之家, issue 16) from end to end, over HTTP against the local stack: an employer is
// verified, posts a job, a worker finds it, applies and is hired, both confirm the start, and the KPI
// roll-up's builders block moves; the invitation path fills a job and takes it out of search; bad inputs are
// refused with stable codes and write nothing; a job fair, a consultation and a transfer each count.
//
// Privacy is checked on the wire: the worker's phone (unique per run) must not appear in any answer an
// employer gets before a hire, and must appear in the hire's answer to its own employer.

// Mengzi's old town: the jobs' place and the workers' area.
const bldLat, bldLng = 23.3690, 103.3860

type bldEmployer struct {
	Sub, Name, Licence, Status, StatusReason string
	Reports, OpenJobs                        int
}

type bldWage struct {
	Min, Max      int
	Unit          string
	DailyEstimate int
}

type bldJob struct {
	ID, EmployerSub, Title, Trade, Status, StartDate, EndDate string
	Headcount, Hired                                          int
	Wage                                                      bldWage
}

type bldWorkerView struct {
	Sub, DisplayName, Phone string
	Score                   *float64
}

type bldApplication struct {
	JobID, Sub, Kind, Status, JobTitle string
	Worker                             *bldWorkerView
}

type bldHire struct {
	JobID, Sub, EmployerSub, Via, Status string
	Worker                               *bldWorkerView
	Employer                             *struct{ Name, Phone string }
}

// bldKPI is the KPI summary's builders block (the day's sums).
type bldKPI struct {
	EmployersVerified, JobsPosted, PlacesOffered, Searches, Applications, Invitations int
	Hires, HiresCompleted, HiresCancelled, Fairs, FairEmployers, FairCheckins         int
	Transfers, TransferredWorkers                                                     int
	Consultations                                                                     struct{ Medical, Legal int }
}

// bldKPIs rolls today up (the KPI function, fired as its schedule would) and reads today's builders block.
func bldKPIs(t *testing.T, admin *client) bldKPI {
	t.Helper()
	resp, err := http.Post(api+"/_local/schedules/KpiFunction", "application/json", strings.NewReader(`{"day":"today"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("roll-up = %d", resp.StatusCode)
	}
	today := bldToday(t)
	var sum struct{ Builders *bldKPI }
	admin.must("GET", "/v1/kpi/summary?from="+today+"&to="+today, nil, nil, &sum, 200)
	if sum.Builders == nil {
		t.Fatalf("the KPI summary has no builders block")
	}
	return *sum.Builders
}

// bldToday is the city's local day by the stack's clock.
func bldToday(t *testing.T) string {
	return stackNow(t).In(shanghai(t)).Format(time.DateOnly)
}

func bldDay(t *testing.T, days int) string {
	return stackNow(t).In(shanghai(t)).AddDate(0, 0, days).Format(time.DateOnly)
}

// bldRaw sends a request, fails unless the status is one of want, and returns the body as sent, for the
// privacy checks (a field the test's structs do not name still carries the phone).
func (c *client) bldRaw(method, path string, body any, headers map[string]string, want ...int) json.RawMessage {
	c.t.Helper()
	var raw json.RawMessage
	c.must(method, path, body, headers, &raw, want...)
	return raw
}

// noPhone fails when an answer carries the worker's phone.
func noPhone(t *testing.T, what string, raw []byte, phone string) {
	t.Helper()
	if strings.Contains(string(raw), phone) {
		t.Errorf("%s carries the worker's phone %s: %s", what, phone, clip(raw))
	}
}

func bldKey(name string) map[string]string {
	return map[string]string{"Idempotency-Key": fmt.Sprint("e2e-bld-", name, "-", time.Now().UnixNano())}
}

// bldRun is a fresh suffix per run (-count=N runs against one stack).
func bldRun() string { return fmt.Sprint(time.Now().UnixNano() % 1e9) }

// verifiedEmployer registers an employer for sub and has the admin verify it.
func verifiedEmployer(t *testing.T, admin *client, sub, name string) *client {
	t.Helper()
	emp := login(t, sub, []string{"citizen"}, "")
	var e bldEmployer
	emp.must("PUT", "/v1/me/employer", employerBody(name), nil, &e, 200, 201)
	admin.must("POST", "/v1/admin/employers/"+sub+"/verify", map[string]any{}, nil, &e, 200)
	if e.Status != "verified" {
		t.Fatalf("verified employer %s = %+v", sub, e)
	}
	return emp
}

// withCheck completes 17 characters of a unified social credit code with the check character the API
// accepts (GB 32100-2015).
func withCheck(first17 string) string {
	for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
		if builders.ValidLicence(first17 + string(c)) {
			return first17 + string(c)
		}
	}
	return first17 + "?" // unreachable (one of the 31 is the check); the API would refuse it
}

// employerBody is a registration with a fresh licence (18 characters).
func employerBody(name string) map[string]any {
	lic := withCheck(fmt.Sprintf("91532503%09d", time.Now().UnixNano()%1e9))
	return map[string]any{"name": name, "licence": lic, "contact": map[string]any{"name": "王经理", "phone": "0873-3721234"},
		"address": "红河州蒙自市天马路 8 号"}
}

// workerBody is a worker profile near the old town, bricklayer, wanting 200 yuan a day.
func workerBody(name, phone, visibility, availableFrom string) map[string]any {
	return map[string]any{"name": name, "phone": phone, "trades": []string{"bricklayer", "tiler"}, "years": 6,
		"area":         map[string]any{"lat": bldLat + 0.01, "lng": bldLng, "radiusKm": 20, "name": "老城"},
		"expectedWage": map[string]any{"min": 200, "unit": "day"}, "availableFrom": availableFrom, "visibility": visibility}
}

// jobBody is a bricklayer's job in the old town from tomorrow for a month, 250–300 yuan a day.
func jobBody(t *testing.T, title string, headcount int) map[string]any {
	return map[string]any{"title": title, "trade": "bricklayer",
		"place": map[string]any{"lat": bldLat, "lng": bldLng, "address": "老城 工地"},
		"wage":  map[string]any{"min": 250, "max": 300, "unit": "day"}, "headcount": headcount,
		"startDate": bldDay(t, 1), "endDate": bldDay(t, 30), "requirements": "三年以上砌墙经验"}
}

func searchPath(minWage int) string {
	return fmt.Sprintf("/v1/jobs?near=%f,%f&radiusKm=10&trade=bricklayer&minWage=%d", bldLat, bldLng, minWage)
}

// searchHas runs the worker's search and reports whether the job is in its first page.
func searchHas(t *testing.T, worker *client, jobID string) bool {
	t.Helper()
	var out struct{ Items []bldJob }
	worker.must("GET", searchPath(200), nil, nil, &out, 200)
	return slices.ContainsFunc(out.Items, func(j bldJob) bool { return j.ID == jobID })
}

func jobOf(t *testing.T, c *client, id string) bldJob {
	t.Helper()
	var j bldJob
	c.must("GET", "/v1/jobs/"+id, nil, nil, &j, 200)
	return j
}

// TestBuildersHireByApplication: employer verified → job posted → a worker finds it → applies → the employer
// sees the application without the phone → accepts → hired (one place of two), the hire list shows the
// phone → both confirm → the day's KPIs move.
func TestBuildersHireByApplication(t *testing.T) {
	run := bldRun()
	admin := login(t, "e2e-bld-admin", []string{"admin"}, "")
	empSub, wSub, w2Sub := "e2e-bld-emp-"+run, "e2e-bld-w-"+run, "e2e-bld-w2-"+run
	phone := "139" + fmt.Sprintf("%08d", time.Now().UnixNano()%1e8)
	worker, other := login(t, wSub, []string{"citizen"}, ""), login(t, w2Sub, []string{"citizen"}, "")
	before := bldKPIs(t, admin)

	var trades struct{ Items []struct{ ID, Name string } }
	worker.must("GET", "/v1/builders/trades", nil, nil, &trades, 200)
	if !slices.ContainsFunc(trades.Items, func(x struct{ ID, Name string }) bool { return x.ID == "bricklayer" }) {
		t.Fatalf("trades = %+v", trades.Items)
	}
	// The admin reads the minimum wage and saves it unchanged (other tests rely on the defaults).
	var settings struct{ MinimumWage struct{ Month, Day int } }
	admin.must("GET", "/v1/admin/builders/settings", nil, nil, &settings, 200)
	if settings.MinimumWage.Month <= 0 || settings.MinimumWage.Day <= 0 {
		t.Fatalf("settings = %+v", settings)
	}
	worker.refused("a citizen edits the minimum wage", "PUT", "/v1/admin/builders/settings",
		map[string]any{"minimumWage": map[string]any{"month": 1, "day": 1}}, nil, 403, "forbidden")
	admin.must("PUT", "/v1/admin/builders/settings", map[string]any{"minimumWage": map[string]any{
		"month": settings.MinimumWage.Month, "day": settings.MinimumWage.Day}}, nil, nil, 200)

	// Registration: pending until an admin verifies it; the review queue lists it.
	emp := login(t, empSub, []string{"citizen"}, "")
	var e bldEmployer
	emp.must("PUT", "/v1/me/employer", employerBody("蒙自建工 e2e "+run), nil, &e, 200, 201)
	if e.Status != "pending" || e.Sub != empSub {
		t.Fatalf("registered = %+v", e)
	}
	var queue struct{ Items []bldEmployer }
	admin.must("GET", "/v1/admin/employers?status=pending", nil, nil, &queue, 200)
	if !slices.ContainsFunc(queue.Items, func(x bldEmployer) bool { return x.Sub == empSub }) {
		t.Errorf("the pending queue lacks %s", empSub)
	}
	emp.refused("a citizen verifies", "POST", "/v1/admin/employers/"+empSub+"/verify", map[string]any{}, nil, 403, "forbidden")
	admin.must("POST", "/v1/admin/employers/"+empSub+"/verify", map[string]any{}, nil, &e, 200)
	emp.must("GET", "/v1/me/employer", nil, nil, &e, 200)
	if e.Status != "verified" {
		t.Fatalf("after verification = %+v", e)
	}

	// The worker opts in (visible as a profile: surname + 师傅).
	var me struct{ Sub, Phone, Visibility string }
	worker.must("PUT", "/v1/me/worker", workerBody("张建国", phone, "profile", bldToday(t)), nil, &me, 200, 201)
	worker.must("GET", "/v1/me/worker", nil, nil, &me, 200)
	if me.Phone != phone || me.Visibility != "profile" {
		t.Errorf("the worker's own profile = %+v", me)
	}

	// The job: two places; a re-sent post answers the same job.
	post := jobBody(t, "砌墙工 e2e "+run, 2)
	k := bldKey("post")
	var job bldJob
	emp.must("POST", "/v1/jobs", post, k, &job, 201)
	if job.Status != "open" || job.Headcount != 2 || job.Hired != 0 || job.EmployerSub != empSub {
		t.Fatalf("posted = %+v", job)
	}
	var again bldJob
	emp.must("POST", "/v1/jobs", post, k, &again, 200, 201)
	if again.ID != job.ID {
		t.Errorf("a re-sent post = %s, want %s", again.ID, job.ID)
	}
	var mine struct{ Items []bldJob }
	emp.must("GET", "/v1/me/jobs", nil, nil, &mine, 200)
	if n := len(slices.DeleteFunc(mine.Items, func(j bldJob) bool { return j.ID != job.ID })); n != 1 {
		t.Errorf("the employer's jobs hold %s %d times, want once", job.ID, n)
	}

	// The worker finds it (near, trade, minimum wage); a minimum above its top wage does not.
	if !searchHas(t, worker, job.ID) {
		t.Fatalf("the worker's search lacks %s", job.ID)
	}
	var none struct{ Items []bldJob }
	worker.must("GET", searchPath(400), nil, nil, &none, 200)
	if slices.ContainsFunc(none.Items, func(j bldJob) bool { return j.ID == job.ID }) {
		t.Errorf("a search for 400 a day finds a job paying at most 300")
	}
	var pub struct {
		Sub, Name, Status string
		Licence           string
	}
	worker.must("GET", "/v1/employers/"+empSub, nil, nil, &pub, 200)
	if pub.Status != "verified" {
		t.Errorf("the employer's public view = %+v", pub)
	}

	// It applies; the employer sees the application without the phone.
	var app bldApplication
	worker.must("POST", "/v1/jobs/"+job.ID+"/applications", map[string]any{"message": "我做了六年瓦工"}, nil, &app, 201)
	if app.Status != "pending" || app.Kind != "application" {
		t.Fatalf("applied = %+v", app)
	}
	// A second worker applies and withdraws (the employer never sees a withdrawn one as pending).
	other.must("PUT", "/v1/me/worker", workerBody("李四", "13800000000", "hidden", bldToday(t)), nil, nil, 200, 201)
	other.must("POST", "/v1/jobs/"+job.ID+"/applications", map[string]any{"message": "试试"}, nil, nil, 201)
	other.must("DELETE", "/v1/jobs/"+job.ID+"/applications/me", nil, nil, nil, 200, 204)
	raw := emp.bldRaw("GET", "/v1/jobs/"+job.ID+"/applications", nil, nil, 200)
	noPhone(t, "the employer's applications", raw, phone)
	var apps struct{ Items []bldApplication }
	_ = json.Unmarshal(raw, &apps)
	for _, a := range apps.Items {
		want := map[string]string{wSub: "pending", w2Sub: "withdrawn"}[a.Sub]
		if a.Status != want || a.Worker == nil || a.Worker.DisplayName == "" {
			t.Errorf("the employer sees %+v (worker %+v), want %s with a worker view", a, a.Worker, want)
		}
		if a.Sub == wSub && a.Worker != nil && a.Worker.DisplayName != "张师傅" {
			t.Errorf("a profile-visible worker is shown as %q, want 张师傅", a.Worker.DisplayName)
		}
	}
	if len(apps.Items) != 2 {
		t.Errorf("applications = %+v, want the two", apps.Items)
	}
	noPhone(t, "the job to its employer", emp.bldRaw("GET", "/v1/jobs/"+job.ID, nil, nil, 200), phone)
	noPhone(t, "the employer's matches", emp.bldRaw("GET", "/v1/jobs/"+job.ID+"/matches", nil, nil, 200), phone)

	// The employer accepts: a hire, one place of two; the same answer re-sent changes nothing, another is
	// refused.
	accept := map[string]any{"answer": "accept"}
	emp.must("POST", "/v1/jobs/"+job.ID+"/applications/"+wSub+"/answer", accept, nil, nil, 200, 201)
	emp.must("POST", "/v1/jobs/"+job.ID+"/applications/"+wSub+"/answer", accept, nil, nil, 200, 201)
	emp.refused("a second, different answer", "POST", "/v1/jobs/"+job.ID+"/applications/"+wSub+"/answer",
		map[string]any{"answer": "decline"}, nil, 409, "already_answered")
	if j := jobOf(t, worker, job.ID); j.Hired != 1 || j.Status != "open" {
		t.Errorf("after one hire the job = %+v, want 1 hired, open", j)
	}
	raw = emp.bldRaw("GET", "/v1/jobs/"+job.ID+"/hires", nil, nil, 200)
	if !strings.Contains(string(raw), phone) {
		t.Errorf("the employer's hires lack the hired worker's phone: %s", clip(raw))
	}
	var hires struct{ Items []bldHire }
	_ = json.Unmarshal(raw, &hires)
	if len(hires.Items) != 1 || hires.Items[0].Sub != wSub || hires.Items[0].Status != "hired" || hires.Items[0].Via != "application" {
		t.Errorf("the employer's hires = %+v", hires.Items)
	}
	var myHires struct{ Items []bldHire }
	worker.must("GET", "/v1/me/hires", nil, nil, &myHires, 200)
	if len(myHires.Items) != 1 || myHires.Items[0].JobID != job.ID || myHires.Items[0].Employer == nil || myHires.Items[0].Employer.Phone == "" {
		t.Errorf("the worker's hires = %+v, want the job with the employer's contact", myHires.Items)
	}
	var myApps struct{ Items []bldApplication }
	worker.must("GET", "/v1/me/applications", nil, nil, &myApps, 200)
	if len(myApps.Items) != 1 || myApps.Items[0].Status != "accepted" || myApps.Items[0].JobTitle == "" {
		t.Errorf("the worker's applications = %+v", myApps.Items)
	}

	// Both confirm the start: completed once.
	var h bldHire
	emp.must("POST", "/v1/jobs/"+job.ID+"/hires/"+wSub+"/confirm", map[string]any{}, nil, &h, 200)
	if h.Status != "hired" {
		t.Errorf("after the employer's confirmation = %+v, want still hired", h)
	}
	worker.must("POST", "/v1/me/hires/"+job.ID+"/confirm", map[string]any{}, nil, &h, 200)
	worker.must("POST", "/v1/me/hires/"+job.ID+"/confirm", map[string]any{}, nil, &h, 200) // re-sent
	if h.Status != "completed" {
		t.Errorf("after both confirmations = %+v, want completed", h)
	}

	after := bldKPIs(t, admin)
	for _, c := range []struct {
		name       string
		got, least int
	}{
		{"employersVerified", after.EmployersVerified - before.EmployersVerified, 1},
		{"jobsPosted", after.JobsPosted - before.JobsPosted, 1},
		{"placesOffered", after.PlacesOffered - before.PlacesOffered, 2},
		{"searches", after.Searches - before.Searches, 2}, // two distinct queries; the first repeated counts once
		{"applications", after.Applications - before.Applications, 2},
		{"hires", after.Hires - before.Hires, 1},
		{"hiresCompleted", after.HiresCompleted - before.HiresCompleted, 1},
	} {
		if c.got != c.least {
			t.Errorf("KPI %s moved by %d, want %d (before %+v, after %+v)", c.name, c.got, c.least, before, after)
		}
	}
}

// TestBuildersInvitation: the employer finds a worker among the job's matches (no phone), invites, the
// worker accepts: hired, the job filled and out of search; the worker cancels and the place is free again.
func TestBuildersInvitation(t *testing.T) {
	run := bldRun()
	admin := login(t, "e2e-bld-admin", []string{"admin"}, "")
	empSub, wSub := "e2e-bld-inv-emp-"+run, "e2e-bld-inv-w-"+run
	phone := "137" + fmt.Sprintf("%08d", time.Now().UnixNano()%1e8)
	before := bldKPIs(t, admin)
	emp := verifiedEmployer(t, admin, empSub, "红河劳务 e2e "+run)
	worker := login(t, wSub, []string{"citizen"}, "")
	worker.must("PUT", "/v1/me/worker", workerBody("王小明", phone, "full", bldToday(t)), nil, nil, 200, 201)

	var job bldJob
	emp.must("POST", "/v1/jobs", jobBody(t, "贴砖 e2e "+run, 1), bldKey("inv"), &job, 201)
	raw := emp.bldRaw("GET", "/v1/jobs/"+job.ID+"/matches", nil, nil, 200)
	noPhone(t, "the job's matches", raw, phone)
	var matches struct{ Items []bldWorkerView }
	_ = json.Unmarshal(raw, &matches)
	i := slices.IndexFunc(matches.Items, func(v bldWorkerView) bool { return v.Sub == wSub })
	if i < 0 {
		t.Fatalf("the matches lack %s: %s", wSub, clip(raw))
	}
	if m := matches.Items[i]; m.DisplayName != "王小明" || m.Score == nil || *m.Score <= 0 || *m.Score > 100 {
		t.Errorf("the match = %+v, want the full name (visibility full) and a score in (0, 100]", m)
	}

	var inv bldApplication
	raw = emp.bldRaw("POST", "/v1/jobs/"+job.ID+"/invitations", map[string]any{"sub": wSub, "message": "明天来上班？"}, nil, 201)
	noPhone(t, "the invitation", raw, phone)
	_ = json.Unmarshal(raw, &inv)
	if inv.Kind != "invitation" || inv.Status != "pending" {
		t.Fatalf("invited = %+v", inv)
	}
	var myApps struct{ Items []bldApplication }
	worker.must("GET", "/v1/me/applications", nil, nil, &myApps, 200)
	if !slices.ContainsFunc(myApps.Items, func(a bldApplication) bool {
		return a.JobID == job.ID && a.Kind == "invitation" && a.Status == "pending"
	}) {
		t.Errorf("the worker's invitations lack %s: %+v", job.ID, myApps.Items)
	}
	emp.refused("the employer answers its own invitation", "POST", "/v1/jobs/"+job.ID+"/applications/"+wSub+"/answer",
		map[string]any{"answer": "accept"}, nil, 403, "not_your_answer")
	worker.must("POST", "/v1/me/invitations/"+job.ID+"/answer", map[string]any{"answer": "accept"}, nil, nil, 200, 201)

	if j := jobOf(t, worker, job.ID); j.Hired != 1 || j.Status != "filled" {
		t.Errorf("after the only place's hire the job = %+v, want filled", j)
	}
	if searchHas(t, worker, job.ID) {
		t.Errorf("a filled job is still in search")
	}
	raw = emp.bldRaw("GET", "/v1/jobs/"+job.ID+"/hires", nil, nil, 200)
	if !strings.Contains(string(raw), phone) || !strings.Contains(string(raw), `"invitation"`) {
		t.Errorf("the employer's hires = %s, want the worker's phone, via invitation", clip(raw))
	}

	// The worker calls it off: the place is free and the job back in search. The employer cannot cancel a
	// hire that does not exist.
	emp.refused("cancelling an unknown hire", "POST", "/v1/jobs/"+job.ID+"/hires/e2e-bld-nobody-"+run+"/cancel",
		map[string]any{"reason": "x"}, nil, 404, "hire_not_found")
	var h bldHire
	worker.must("POST", "/v1/me/hires/"+job.ID+"/cancel", map[string]any{"reason": "家里有事"}, nil, &h, 200)
	if h.Status != "cancelled" {
		t.Errorf("cancelled = %+v", h)
	}
	if j := jobOf(t, worker, job.ID); j.Hired != 0 || j.Status != "open" {
		t.Errorf("after the cancellation the job = %+v, want open with 0 hired", j)
	}
	if !searchHas(t, worker, job.ID) {
		t.Errorf("a reopened job is not in search")
	}

	after := bldKPIs(t, admin)
	if after.Invitations-before.Invitations != 1 || after.Hires-before.Hires != 1 || after.HiresCancelled-before.HiresCancelled != 1 {
		t.Errorf("KPIs before %+v, after %+v: want 1 invitation, 1 hire, 1 cancelled hire more", before, after)
	}
}

// TestBuildersBadInputs: a wage below the minimum, an unverified, a rejected or a suspended employer
// posting, applying to a closed job, acting on another employer's job: each a 4xx with its stable code,
// and what it would have written is absent.
func TestBuildersBadInputs(t *testing.T) {
	run := bldRun()
	admin := login(t, "e2e-bld-admin", []string{"admin"}, "")
	before := bldKPIs(t, admin)
	a := verifiedEmployer(t, admin, "e2e-bld-a-"+run, "甲公司 e2e "+run)
	b := verifiedEmployer(t, admin, "e2e-bld-b-"+run, "乙公司 e2e "+run)
	worker := login(t, "e2e-bld-bad-w-"+run, []string{"citizen"}, "")
	worker.must("PUT", "/v1/me/worker", workerBody("赵六", "13500000000", "profile", bldToday(t)), nil, nil, 200, 201)
	jobsOf := func(c *client) int {
		var out struct{ Items []bldJob }
		c.must("GET", "/v1/me/jobs", nil, nil, &out, 200)
		return len(out.Items)
	}

	// Below the minimum: a day wage, a month wage, a piece rate's daily estimate.
	low := []map[string]any{
		{"min": 50, "max": 80, "unit": "day"},
		{"min": 1500, "max": 1800, "unit": "month"},
		{"min": 2, "max": 3, "unit": "piece", "dailyEstimate": 60},
	}
	for _, w := range low {
		body := jobBody(t, "低薪 e2e", 1)
		body["wage"] = w
		a.refused(fmt.Sprintf("a wage of %v", w), "POST", "/v1/jobs", body, bldKey("low"), 400, "wage_below_minimum")
	}
	if n := jobsOf(a); n != 0 {
		t.Errorf("after refused posts the employer has %d jobs, want 0", n)
	}

	// Unverified (pending), rejected, suspended.
	pending := login(t, "e2e-bld-pending-"+run, []string{"citizen"}, "")
	pending.must("PUT", "/v1/me/employer", employerBody("丙公司 e2e "+run), nil, nil, 200, 201)
	pending.refused("a pending employer posts", "POST", "/v1/jobs", jobBody(t, "x", 1), bldKey("pending"), 403, "employer_not_verified")
	worker.refused("a citizen with no employer posts", "POST", "/v1/jobs", jobBody(t, "x", 1), bldKey("none"), 403, "not_an_employer")
	var e bldEmployer
	admin.must("POST", "/v1/admin/employers/e2e-bld-pending-"+run+"/reject", map[string]any{"reason": "执照照片不清楚"}, nil, &e, 200)
	if e.Status != "rejected" || e.StatusReason == "" {
		t.Errorf("rejected = %+v", e)
	}
	pending.refused("a rejected employer posts", "POST", "/v1/jobs", jobBody(t, "x", 1), bldKey("rejected"), 403, "employer_not_verified")
	if n := jobsOf(pending); n != 0 {
		t.Errorf("the refused employer has %d jobs, want 0", n)
	}
	var bJob bldJob
	b.must("POST", "/v1/jobs", jobBody(t, "乙的活 e2e "+run, 3), bldKey("b"), &bJob, 201)
	worker.must("POST", "/v1/employers/e2e-bld-b-"+run+"/reports", map[string]any{"reason": "拖欠工资"}, nil, nil, 200, 201)
	worker.must("POST", "/v1/employers/e2e-bld-b-"+run+"/reports", map[string]any{"reason": "拖欠工资"}, nil, nil, 200, 201) // once each
	var pub bldEmployer
	worker.must("GET", "/v1/employers/e2e-bld-b-"+run, nil, nil, &pub, 200)
	if pub.Reports != 1 {
		t.Errorf("after one citizen's report (sent twice) the employer = %+v, want 1 report", pub)
	}
	admin.must("POST", "/v1/admin/employers/e2e-bld-b-"+run+"/suspend", map[string]any{"reason": "多次被举报"}, nil, &e, 200)
	b.refused("a suspended employer posts", "POST", "/v1/jobs", jobBody(t, "x", 1), bldKey("suspended"), 403, "employer_suspended")
	if searchHas(t, worker, bJob.ID) {
		t.Errorf("a suspended employer's job is in search")
	}
	worker.refused("applying to a suspended employer's job", "POST", "/v1/jobs/"+bJob.ID+"/applications", map[string]any{"message": "x"}, nil, 403, "employer_suspended")
	admin.must("POST", "/v1/admin/employers/e2e-bld-b-"+run+"/reinstate", map[string]any{}, nil, &e, 200)
	if e.Status != "verified" || !searchHas(t, worker, bJob.ID) {
		t.Errorf("reinstated = %+v; its job back in search: %v", e, searchHas(t, worker, bJob.ID))
	}
	if n := jobsOf(b); n != 1 {
		t.Errorf("the suspended-then-reinstated employer has %d jobs, want its 1", n)
	}

	// A closed job takes no applications.
	var job bldJob
	a.must("POST", "/v1/jobs", jobBody(t, "甲的活 e2e "+run, 2), bldKey("a"), &job, 201)
	b.refused("another employer closes the job", "POST", "/v1/jobs/"+job.ID+"/close", map[string]any{}, nil, 403, "not_your_job")
	a.must("POST", "/v1/jobs/"+job.ID+"/close", map[string]any{}, nil, &job, 200)
	if job.Status != "closed" {
		t.Errorf("closed = %+v", job)
	}
	worker.refused("applying to a closed job", "POST", "/v1/jobs/"+job.ID+"/applications", map[string]any{"message": "x"}, nil, 409, "job_closed")
	var apps struct{ Items []bldApplication }
	a.must("GET", "/v1/jobs/"+job.ID+"/applications", nil, nil, &apps, 200)
	if len(apps.Items) != 0 {
		t.Errorf("a closed job's refused application was written: %+v", apps.Items)
	}

	// Another employer's job: its applications, matches, hires and invitations are refused.
	b.refused("another employer's applications", "GET", "/v1/jobs/"+job.ID+"/applications", nil, nil, 403, "not_your_job")
	b.refused("another employer's matches", "GET", "/v1/jobs/"+job.ID+"/matches", nil, nil, 403, "not_your_job")
	b.refused("another employer's hires", "GET", "/v1/jobs/"+job.ID+"/hires", nil, nil, 403, "not_your_job")
	b.must("POST", "/v1/jobs/"+bJob.ID+"/invitations", map[string]any{"sub": "e2e-bld-bad-w-" + run, "message": "来吗"}, nil, nil, 201)
	a.refused("inviting to another employer's job", "POST", "/v1/jobs/"+bJob.ID+"/invitations", map[string]any{"sub": "e2e-bld-bad-w-" + run, "message": "x"}, nil, 403, "not_your_job")
	b.must("GET", "/v1/jobs/"+bJob.ID+"/applications", nil, nil, &apps, 200)
	if len(apps.Items) != 1 || apps.Items[0].Kind != "invitation" {
		t.Errorf("b's job holds %+v, want only b's own invitation", apps.Items)
	}
	worker.refused("an unknown job", "GET", "/v1/jobs/e2e-none-"+run, nil, nil, 404, "job_not_found")

	// Opting out deletes the profile.
	worker.must("DELETE", "/v1/me/worker", nil, nil, nil, 200, 204)
	worker.refused("the profile after opting out", "GET", "/v1/me/worker", nil, nil, 409, "not_a_worker")

	after := bldKPIs(t, admin)
	if after.JobsPosted-before.JobsPosted != 2 || after.PlacesOffered-before.PlacesOffered != 5 || after.Applications != before.Applications {
		t.Errorf("KPIs before %+v, after %+v: want the 2 jobs posted (5 places), no application", before, after)
	}
}

// TestBuildersFairServicesTransfers: a job fair (register, check in with the staff's code, and by the
// staff), a consultation booked and served, a transfer recorded — each in the day's KPIs.
func TestBuildersFairServicesTransfers(t *testing.T) {
	run := bldRun()
	admin := login(t, "e2e-bld-admin", []string{"admin"}, "")
	staffSub, wSub, w2Sub, w3Sub := "e2e-bld-staff-"+run, "e2e-bld-fw-"+run, "e2e-bld-fw2-"+run, "e2e-bld-fw3-"+run
	staff := login(t, staffSub, []string{"citizen"}, "")
	worker, w2, w3 := login(t, wSub, []string{"citizen"}, ""), login(t, w2Sub, []string{"citizen"}, ""), login(t, w3Sub, []string{"citizen"}, "")
	for i, c := range []*client{worker, w2, w3} {
		c.must("PUT", "/v1/me/worker", workerBody("工友", fmt.Sprintf("1360000000%d", i), "hidden", bldToday(t)), nil, nil, 200, 201)
	}
	before := bldKPIs(t, admin)
	verifiedEmployer(t, admin, "e2e-bld-fair-emp-"+run, "招聘会企业 e2e "+run)

	// The fair opens in 30 minutes (check-in from 60 minutes before the start).
	now := stackNow(t)
	start := now.Add(30 * time.Minute).Truncate(time.Second)
	fairBody := map[string]any{"title": "春风行动招聘会 e2e " + run, "start": rfc(start), "end": rfc(start.Add(4 * time.Hour)),
		"place": circle("人力资源市场"), "employers": []string{"e2e-bld-fair-emp-" + run}, "staff": []string{staffSub}, "capacity": 100}
	worker.refused("a citizen publishes a fair", "POST", "/v1/admin/fairs", fairBody, bldKey("fair-cit"), 403, "forbidden")
	var fair struct {
		ID                    string
		Registered, CheckedIn int
	}
	fk := bldKey("fair")
	admin.must("POST", "/v1/admin/fairs", fairBody, fk, &fair, 201)
	admin.must("POST", "/v1/admin/fairs", fairBody, fk, &fair, 200, 201) // re-sent: the same fair
	var fairs struct{ Items []struct{ ID string } }
	worker.must("GET", "/v1/fairs?from="+bldToday(t), nil, nil, &fairs, 200)
	if !slices.ContainsFunc(fairs.Items, func(x struct{ ID string }) bool { return x.ID == fair.ID }) {
		t.Errorf("upcoming fairs lack %s", fair.ID)
	}
	for _, c := range []*client{worker, w2, w3} {
		c.must("POST", "/v1/fairs/"+fair.ID+"/registrations", nil, nil, nil, 201)
	}
	w2.must("DELETE", "/v1/fairs/"+fair.ID+"/registrations/me", nil, nil, nil, 200, 204)
	var myFairs struct{ Items []json.RawMessage }
	worker.must("GET", "/v1/me/fairs", nil, nil, &myFairs, 200)
	if len(myFairs.Items) != 1 || !strings.Contains(string(myFairs.Items[0]), fair.ID) {
		t.Errorf("the worker's fairs = %s", myFairs.Items)
	}
	worker.refused("a worker reads the code", "GET", "/v1/fairs/"+fair.ID+"/code", nil, nil, 403, "not_staff")
	var code struct {
		Code string
		QR   string `json:"qr"`
	}
	staff.must("GET", "/v1/fairs/"+fair.ID+"/code", nil, nil, &code, 200)
	if len(code.Code) != 6 || code.QR != "civicsnap:fair:"+fair.ID+":"+code.Code {
		t.Errorf("code = %+v", code)
	}
	w2.refused("a cancelled registration checks in", "POST", "/v1/fairs/"+fair.ID+"/checkin",
		map[string]any{"code": code.Code, "location": inside}, nil, 409, "not_registered")
	worker.refused("a check-in from outside the place", "POST", "/v1/fairs/"+fair.ID+"/checkin",
		map[string]any{"code": code.Code, "location": outside}, nil, 400, "outside_place")
	worker.must("POST", "/v1/fairs/"+fair.ID+"/checkin", map[string]any{"code": code.Code, "location": inside}, nil, nil, 200)
	staff.must("POST", "/v1/fairs/"+fair.ID+"/registrations/"+w3Sub+"/checkin", map[string]any{}, nil, nil, 200)
	var regs struct {
		Items []struct{ Sub, Status, Method string }
	}
	staff.must("GET", "/v1/fairs/"+fair.ID+"/registrations", nil, nil, &regs, 200)
	methods := map[string]string{}
	for _, r := range regs.Items {
		methods[r.Sub] = r.Method
	}
	if methods[wSub] != "code" || methods[w3Sub] != "staff" {
		t.Errorf("registrations = %+v", regs.Items)
	}
	worker.must("GET", "/v1/fairs/"+fair.ID, nil, nil, &fair, 200)
	if fair.Registered != 2 || fair.CheckedIn != 2 {
		t.Errorf("the fair = %+v, want 2 registered and 2 checked in", fair)
	}

	// A medical desk: its staff publishes a slot, a worker books and is served; another books and cancels.
	deskID := "e2e-clinic-" + run
	admin.must("PUT", "/v1/admin/desks/"+deskID, map[string]any{"name": "工友健康咨询 e2e", "kind": "medical",
		"address": "蒙自市人民医院", "staff": []string{staffSub}}, nil, nil, 200, 201)
	var desks struct{ Items []struct{ ID string } }
	worker.must("GET", "/v1/desks", nil, nil, &desks, 200)
	if !slices.ContainsFunc(desks.Items, func(x struct{ ID string }) bool { return x.ID == deskID }) {
		t.Errorf("desks lack %s", deskID)
	}
	slotStart := now.Add(2 * time.Hour).Truncate(time.Minute)
	slotsBody := map[string]any{"slots": []map[string]any{{"start": rfc(slotStart), "end": rfc(slotStart.Add(30 * time.Minute)), "capacity": 2}}}
	worker.refused("a worker publishes slots", "POST", "/v1/desks/"+deskID+"/slots", slotsBody, nil, 403, "not_staff")
	staff.must("POST", "/v1/desks/"+deskID+"/slots", slotsBody, nil, nil, 201)
	var slots struct{ Items []struct{ ID string } }
	worker.must("GET", "/v1/desks/"+deskID+"/slots?from="+bldToday(t), nil, nil, &slots, 200)
	if len(slots.Items) != 1 {
		t.Fatalf("slots = %+v", slots.Items)
	}
	slot := "/v1/desks/" + deskID + "/slots/" + slots.Items[0].ID
	worker.must("POST", slot+"/bookings", map[string]any{"topic": "腰疼"}, nil, nil, 201)
	w2.must("POST", slot+"/bookings", map[string]any{"topic": "工伤鉴定"}, nil, nil, 201)
	w2.must("DELETE", slot+"/bookings/me", nil, nil, nil, 200, 204)
	var books struct {
		Items []struct{ Sub, Status string }
	}
	worker.must("GET", "/v1/me/bookings", nil, nil, &books, 200)
	if len(books.Items) != 1 || books.Items[0].Status != "booked" {
		t.Errorf("the worker's bookings = %+v", books.Items)
	}
	staff.must("GET", slot+"/bookings", nil, nil, &books, 200)
	if len(books.Items) != 2 {
		t.Errorf("the slot's bookings = %+v, want the booked and the cancelled", books.Items)
	}
	staff.must("POST", slot+"/bookings/"+wSub+"/served", map[string]any{}, nil, nil, 200)
	staff.must("POST", slot+"/bookings/"+wSub+"/served", map[string]any{}, nil, nil, 200) // re-sent: counted once

	// A transfer of 30 workers.
	tr := map[string]any{"employer": "昆明某建工集团", "destination": "昆明市", "trade": "rebar", "headcount": 30, "date": bldToday(t), "note": "e2e " + run}
	worker.refused("a citizen records a transfer", "POST", "/v1/admin/transfers", tr, bldKey("tr-cit"), 403, "forbidden")
	tk := bldKey("transfer")
	var transfer struct{ ID string }
	admin.must("POST", "/v1/admin/transfers", tr, tk, &transfer, 201)
	admin.must("POST", "/v1/admin/transfers", tr, tk, nil, 200, 201)
	var transfers struct{ Items []struct{ ID string } }
	admin.must("GET", "/v1/admin/transfers?from="+bldToday(t)+"&to="+bldToday(t), nil, nil, &transfers, 200)
	if !slices.ContainsFunc(transfers.Items, func(x struct{ ID string }) bool { return x.ID == transfer.ID }) {
		t.Errorf("transfers lack %s", transfer.ID)
	}

	after := bldKPIs(t, admin)
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"fairs", after.Fairs - before.Fairs, 1},
		{"fairEmployers", after.FairEmployers - before.FairEmployers, 1},
		{"fairCheckins", after.FairCheckins - before.FairCheckins, 2},
		{"transfers", after.Transfers - before.Transfers, 1},
		{"transferredWorkers", after.TransferredWorkers - before.TransferredWorkers, 30},
		{"consultations.medical", after.Consultations.Medical - before.Consultations.Medical, 1},
		{"consultations.legal", after.Consultations.Legal - before.Consultations.Legal, 0},
	} {
		if c.got != c.want {
			t.Errorf("KPI %s moved by %d, want %d", c.name, c.got, c.want)
		}
	}
}
