package buildersfn_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/infra/cost"
	"github.com/civicsnap/civicsnap/shared/builders"
)

// kmNorth is the latitude of a point km north of Mengzi's centre.
func kmNorth(km float64) float64 { return lat0 + km/111.32 }

// jobBody is a valid job: trade at (lat, lng0), wage min..max a day, 3 places, from today for 30 days.
func jobBody(title, trade string, lat float64, wage map[string]any) map[string]any {
	if wage == nil {
		wage = map[string]any{"min": 200, "max": 300, "unit": builders.UnitDay}
	}
	return map[string]any{
		"title": title, "trade": trade, "place": map[string]any{"lat": lat, "lng": lng0, "address": "蒙自市"},
		"wage": wage, "headcount": 3, "startDate": today(), "endDate": day(30), "requirements": "能吃苦",
	}
}

// post posts body as emp with Idempotency-Key key and wants status.
func (h *harness) post(want int, emp, key string, body any) builders.Job {
	h.t.Helper()
	var j builders.Job
	h.must(want, citizen(emp), "POST /v1/jobs", "/v1/jobs", body, map[string]string{"Idempotency-Key": key}).decode(h.t, &j)
	return j
}

// search runs GET /v1/jobs?query as sub and answers the ids found, in order.
func (h *harness) search(sub, query string) ([]string, []builders.Job) {
	h.t.Helper()
	var out struct {
		Items      []builders.Job `json:"items"`
		NextCursor string         `json:"nextCursor"`
	}
	h.must(200, citizen(sub), "GET /v1/jobs", "/v1/jobs?"+query, nil, nil).decode(h.t, &out)
	ids := make([]string, len(out.Items))
	for i, j := range out.Items {
		ids[i] = j.ID
	}
	return ids, out.Items
}

// searchRecords counts the table's search records (the test's own Scan).
func (h *harness) searchRecords() int {
	n := 0
	for _, line := range h.dump() {
		if strings.Contains(line, `"pk":"BLDREC#search#`) {
			n++
		}
	}
	return n
}

// openJobs is the employer's open-job count as stored.
func (h *harness) openJobs(sub string) int {
	h.t.Helper()
	var e builders.Employer
	h.must(200, citizen(sub), "GET /v1/me/employer", "/v1/me/employer", nil, nil).decode(h.t, &e)
	return e.OpenJobs
}

// TestJobSearch: posted jobs are found newest local day first and nearest first within it, filtered by
// radius, trade and a daily minimum wage (a monthly wage compared as a daily one); a worker's identical
// search counts once a day; without near the worker's area is used, and without either the search is 400.
func TestJobSearch(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.worker("w1")
	far := h.post(201, "emp", "far", jobBody("远的", "bricklayer", kmNorth(6), nil))
	near := h.post(201, "emp", "near", jobBody("近的", "bricklayer", kmNorth(1), nil))
	cleaner := h.post(201, "emp", "cleaner", jobBody("保洁", "cleaner", kmNorth(2), nil))
	monthly := h.post(201, "emp", "monthly", jobBody("月薪", "bricklayer", kmNorth(3),
		map[string]any{"min": 4350, "max": 6525, "unit": builders.UnitMonth})) // 200..300 a day
	outside := h.post(201, "emp", "outside", jobBody("太远", "bricklayer", kmNorth(30), nil))
	if h.openJobs("emp") != 5 {
		t.Fatalf("openJobs %d after 5 posts", h.openJobs("emp"))
	}
	near0 := fmt.Sprintf("near=%f,%f", lat0, lng0)

	// All posted today: nearest first; the 30 km one is outside the default 10 km.
	ids, jobs := h.search("w1", near0)
	if want := []string{near.ID, cleaner.ID, monthly.ID, far.ID}; !slices.Equal(ids, want) {
		t.Fatalf("search: %v, want %v", ids, want)
	}
	for _, j := range jobs {
		if j.DistanceKm == nil || j.Applications != 0 {
			t.Errorf("%s: distance %v applications %d", j.ID, j.DistanceKm, j.Applications)
		}
	}
	if d := *jobs[0].DistanceKm; math.Abs(d-1) > 0.05 {
		t.Errorf("nearest at %.3f km, want 1", d)
	}
	if ids, _ := h.search("w1", near0+"&radiusKm=50"); !slices.Contains(ids, outside.ID) {
		t.Errorf("radius 50: %v lacks the 30 km job", ids)
	}
	if ids, _ := h.search("w1", near0+"&trade=bricklayer"); !slices.Equal(ids, []string{near.ID, monthly.ID, far.ID}) {
		t.Errorf("trade bricklayer: %v", ids)
	}
	// The monthly job pays at most 6525/21.75 = 300 a day: in at 300, out at 301, as the day jobs.
	if ids, _ := h.search("w1", near0+"&minWage=300"); !slices.Contains(ids, monthly.ID) || len(ids) != 4 {
		t.Errorf("minWage 300: %v", ids)
	}
	if ids, _ := h.search("w1", near0+"&minWage=301"); len(ids) != 0 {
		t.Errorf("minWage 301: %v, want none", ids)
	}
	// Without near: the worker's area (Mengzi's centre, 10 km).
	if ids, _ := h.search("w1", "trade=bricklayer"); !slices.Equal(ids, []string{near.ID, monthly.ID, far.ID}) {
		t.Errorf("the worker's area: %v", ids)
	}
	// No near, no worker: refused, and counted as no search.
	h.refused(400, "invalid_builders_request", citizen("nobody"), "GET /v1/jobs", "/v1/jobs", nil, nil)
	// Each distinct search of the worker today counted once: 5, as the search in the worker's area is
	// the one near its centre of the same trade. The same search again is not counted.
	n := h.searchRecords()
	if n != 5 {
		t.Errorf("%d search records after 5 distinct searches", n)
	}
	h.search("w1", near0)
	h.search("w1", near0+"&trade=bricklayer")
	h.search("nobody", near0) // not a worker: not counted
	if got := h.searchRecords(); got != n {
		t.Errorf("repeated searches: %d records, want %d", got, n)
	}
}

// TestJobSearchPages: 60 jobs page 50 + 10 with a cursor, in order, none twice.
func TestJobSearchPages(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	for i := range 60 {
		h.post(201, "emp", fmt.Sprint("k", i), jobBody(fmt.Sprint("job ", i), "porter", kmNorth(float64(i)/10), nil))
	}
	var page struct {
		Items      []builders.Job `json:"items"`
		NextCursor string         `json:"nextCursor"`
	}
	q := fmt.Sprintf("/v1/jobs?near=%f,%f&trade=porter", lat0, lng0)
	h.must(200, citizen("w"), "GET /v1/jobs", q, nil, nil).decode(t, &page)
	if len(page.Items) != builders.MaxPageSize || page.NextCursor == "" {
		t.Fatalf("first page: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	seen := map[string]bool{}
	last := -1.0
	for _, j := range page.Items {
		seen[j.ID] = true
		if *j.DistanceKm < last {
			t.Errorf("not nearest first: %v after %v", *j.DistanceKm, last)
		}
		last = *j.DistanceKm
	}
	h.must(200, citizen("w"), "GET /v1/jobs", q+"&cursor="+page.NextCursor, nil, nil).decode(t, &page)
	if len(page.Items) != 10 || page.NextCursor != "" {
		t.Fatalf("second page: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	for _, j := range page.Items {
		if seen[j.ID] || *j.DistanceKm < last {
			t.Errorf("second page: %s again or out of order (%v after %v)", j.ID, *j.DistanceKm, last)
		}
	}
	h.refused(400, "invalid_builders_request", citizen("w"), "GET /v1/jobs", q+"&cursor=nonsense", nil, nil) // a bad cursor counts no search
}

// TestPostRefusals: a wage below the minimum, an unverified or unknown employer, bad input and a reused key
// with another body are refused with stable codes and write nothing.
func TestPostRefusals(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.employer("pending", 2)
	ok := jobBody("砌墙", "bricklayer", lat0, nil)
	h.post(201, "emp", "k1", ok)
	with := func(k string, v any) map[string]any {
		b := maps.Clone(ok)
		b[k] = v
		return b
	}
	tests := []struct {
		name   string
		sub    string
		key    string
		body   any
		status int
		code   string
	}{
		{"a day wage below the minimum (92)", "emp", "k2", with("wage", map[string]any{"min": 91, "max": 300, "unit": "day"}), 400, "wage_below_minimum"},
		{"a month wage below the minimum (1990)", "emp", "k2", with("wage", map[string]any{"min": 1989, "max": 3000, "unit": "month"}), 400, "wage_below_minimum"},
		{"a piece rate's daily estimate below the minimum", "emp", "k2", with("wage", map[string]any{"min": 5, "max": 6, "unit": "piece", "dailyEstimate": 80}), 400, "wage_below_minimum"},
		{"an unverified employer", "pending", "k1", ok, 403, "employer_not_verified"},
		{"not an employer", "nobody", "k1", ok, 403, "not_an_employer"},
		{"an unknown trade", "emp", "k2", with("trade", "astronaut"), 400, "unknown_trade"},
		{"no headcount", "emp", "k2", with("headcount", 0), 400, "invalid_builders_request"},
		{"ended yesterday", "emp", "k2", with("endDate", day(-1)), 400, "invalid_builders_request"},
		{"no Idempotency-Key", "emp", "", ok, 400, "idempotency_key_required"},
		{"the key again with another body", "emp", "k1", with("title", "别的"), 422, "idempotency_key_reused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.dump()
			hd := map[string]string{"Idempotency-Key": tt.key}
			if tt.key == "" {
				hd = nil
			}
			r := h.must(tt.status, citizen(tt.sub), "POST /v1/jobs", "/v1/jobs", tt.body, hd)
			if r.code() != tt.code {
				t.Errorf("code %q, want %q", r.code(), tt.code)
			}
			if after := h.dump(); !slices.Equal(before, after) {
				t.Errorf("wrote: %d items before, %d after", len(before), len(after))
			}
		})
	}
}

// TestPostResent: the same post re-sent (same key, same body) answers the same job with 200 and writes
// nothing: one job, one job_posted record, openJobs 1.
func TestPostResent(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	body := jobBody("砌墙", "bricklayer", lat0, nil)
	first := h.post(201, "emp", "once", body)
	before := h.dump()
	again := h.post(200, "emp", "once", body)
	if again.ID != first.ID || again.Status != builders.JobOpen {
		t.Fatalf("re-sent post: %+v, want job %s", again, first.ID)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Errorf("the re-sent post wrote: %d items before, %d after", len(before), len(after))
	}
	n := 0
	for _, line := range before {
		if strings.Contains(line, `"pk":"BLDREC#job_posted#`+first.ID+`"`) {
			n++
			if !strings.Contains(line, `"n":"N:3"`) {
				t.Errorf("job_posted record %s: want n 3 (places)", line)
			}
		}
	}
	if n != 1 || h.openJobs("emp") != 1 {
		t.Errorf("%d job_posted records, openJobs %d; want 1, 1", n, h.openJobs("emp"))
	}
	// Another employer's key of the same text is another job.
	h.verifiedEmployer("emp2", 2)
	if other := h.post(201, "emp2", "once", body); other.ID == first.ID {
		t.Errorf("two employers' posts share id %s", other.ID)
	}
}

// TestCloseJob: only the job's employer (or an admin) closes it; a closed job leaves the search, its
// employer's open count drops once, and closing again answers it as it is.
func TestCloseJob(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.verifiedEmployer("rival", 2)
	j := h.post(201, "emp", "k", jobBody("砌墙", "bricklayer", lat0, nil))
	path := "/v1/jobs/" + j.ID + "/close"
	before := h.dump()
	if r := h.must(403, citizen("rival"), "POST /v1/jobs/{id}/close", path, nil, nil); r.code() != "not_your_job" {
		t.Errorf("rival: %s", r)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Errorf("the rival's close wrote")
	}
	h.refused(404, "job_not_found", citizen("emp"), "POST /v1/jobs/{id}/close", "/v1/jobs/nope/close", nil, nil)
	var closed builders.Job
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/close", path, nil, nil).decode(t, &closed)
	if closed.Status != builders.JobClosed || closed.ClosedAt.IsZero() {
		t.Errorf("closed: %+v", closed)
	}
	if n := h.openJobs("emp"); n != 0 {
		t.Errorf("openJobs %d after the close", n)
	}
	before = h.dump()
	var again builders.Job
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/close", path, nil, nil).decode(t, &again)
	if again.Status != builders.JobClosed || !again.ClosedAt.Equal(closed.ClosedAt) {
		t.Errorf("closed again: %+v", again)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Errorf("closing again wrote")
	}
	if ids, _ := h.search("w", fmt.Sprintf("near=%f,%f", lat0, lng0)); len(ids) != 0 {
		t.Errorf("a closed job is found: %v", ids)
	}
	// Anyone signed in reads it; only its employer sees the applications count field.
	var seen builders.Job
	h.must(200, citizen("someone"), "GET /v1/jobs/{id}", "/v1/jobs/"+j.ID, nil, nil).decode(t, &seen)
	if seen.Status != builders.JobClosed {
		t.Errorf("read: %+v", seen)
	}
	// An admin may close another employer's job.
	k := h.post(201, "rival", "k", jobBody("砌墙", "bricklayer", lat0, nil))
	h.must(200, admin, "POST /v1/jobs/{id}/close", "/v1/jobs/"+k.ID+"/close", nil, nil)
}

// TestJobExpiresOnRead: a job whose end date has passed answers expired, leaves the search and its
// employer's open count, once.
func TestJobExpiresOnRead(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	j := h.post(201, "emp", "k", jobBody("砌墙", "bricklayer", lat0, nil))
	other := h.post(201, "emp", "k2", jobBody("砌墙 2", "bricklayer", lat0, nil))
	// The test moves the end dates into the past (the API refuses such a post).
	for _, id := range []string{j.ID, other.ID} {
		if _, err := h.e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: &h.e.Table,
			Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "JOB#" + id}, "sk": &types.AttributeValueMemberS{Value: "JOB"}},
			UpdateExpression:          aws.String("SET startDate = :d, endDate = :d"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: day(-1)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if ids, _ := h.search("w", fmt.Sprintf("near=%f,%f", lat0, lng0)); len(ids) != 0 {
		t.Errorf("expired jobs found: %v", ids)
	}
	var got builders.Job
	h.must(200, citizen("w"), "GET /v1/jobs/{id}", "/v1/jobs/"+j.ID, nil, nil).decode(t, &got)
	if got.Status != builders.JobExpired {
		t.Errorf("status %s, want expired", got.Status)
	}
	before := h.dump()
	h.must(200, citizen("w"), "GET /v1/jobs/{id}", "/v1/jobs/"+j.ID, nil, nil)
	if after := h.dump(); !slices.Equal(before, after) {
		t.Errorf("reading an expired job again wrote")
	}
	if n := h.openJobs("emp"); n != 0 {
		t.Errorf("openJobs %d, want 0 (both expired)", n)
	}
	var mine struct{ Items []builders.Job }
	h.must(200, citizen("emp"), "GET /v1/me/jobs", "/v1/me/jobs", nil, nil).decode(t, &mine)
	if len(mine.Items) != 2 || mine.Items[0].ID != other.ID || mine.Items[0].Status != builders.JobExpired {
		t.Errorf("my jobs: %+v", mine.Items)
	}
}

// TestMyJobs: the employer's jobs, newest first, paged by 50.
func TestMyJobs(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	var posted []string
	for i := range 52 {
		posted = append(posted, h.post(201, "emp", fmt.Sprint("k", i), jobBody(fmt.Sprint("job ", i), "porter", lat0, nil)).ID)
	}
	slices.Reverse(posted)
	var got []string
	cursor := ""
	for range 3 {
		var page struct {
			Items      []builders.Job `json:"items"`
			NextCursor string         `json:"nextCursor"`
		}
		h.must(200, citizen("emp"), "GET /v1/me/jobs", "/v1/me/jobs?cursor="+cursor, nil, nil).decode(t, &page)
		for _, j := range page.Items {
			got = append(got, j.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, posted) {
		t.Errorf("my jobs: %d, want the %d posted newest first", len(got), len(posted))
	}
	if r := h.must(403, citizen("nobody"), "GET /v1/me/jobs", "/v1/me/jobs", nil, nil); r.code() != "not_an_employer" {
		t.Errorf("not an employer: %s", r)
	}
	if r := h.must(400, citizen("emp"), "GET /v1/me/jobs", "/v1/me/jobs?cursor=abc", nil, nil); r.code() != "invalid_cursor" {
		t.Errorf("bad cursor: %s", r)
	}
}

const (
	callTWI   = "DynamoDB.TransactWriteItems"
	callGet   = "DynamoDB.GetItem"
	callQuery = "DynamoDB.Query"
	callBatch = "DynamoDB.BatchGetItem"
	callPut   = "DynamoDB.PutItem"
)

// TestJobCalls counts the DynamoDB calls (exact) and write units (infra/cost's counting) of a post, a search
// and a match, and logs them: README "Builders' home" quotes the log.
func TestJobCalls(t *testing.T) {
	h := newHarness(t)
	rec := cost.NewRecorder(h.e.DB, cost.SchemaOf(h.e.Template.Tables["Table"]))
	cfg := h.e.Counted.Copy()
	cfg.APIOptions = slices.Clone(h.e.Counted.APIOptions)
	rec.Attach("builders", &cfg)
	fn, err := buildersfn.New(h.e.BaseOn(cfg, "BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	h.fn = fn
	h.verifiedEmployer("emp", 1)
	h.workers("w1", "w2", "w3")
	body := jobBody("砌墙", "bricklayer", lat0, nil)
	j := h.post(201, "emp", "seed", jobBody("已有", "bricklayer", kmNorth(1), nil))
	near := fmt.Sprintf("near=%f,%f", lat0, lng0)
	steps := []struct {
		name   string
		c      caller
		route  string
		path   string
		body   any
		status int
		want   map[string]int
	}{
		{"post a job", citizen("emp"), "POST /v1/jobs", "/v1/jobs", body, 201, map[string]int{callGet: 2, callTWI: 1}},
		{"re-sent post", citizen("emp"), "POST /v1/jobs", "/v1/jobs", body, 200, map[string]int{callGet: 3, callTWI: 1}},
		{"search near a point (2 jobs; 10 km: 4 cells)", citizen("w1"), "GET /v1/jobs", "/v1/jobs?" + near, nil, 200, map[string]int{callGet: 1, callQuery: 4, callBatch: 1, callPut: 1}},
		{"the same search again (not counted)", citizen("w1"), "GET /v1/jobs", "/v1/jobs?" + near, nil, 200, map[string]int{callGet: 1, callQuery: 4, callBatch: 1, callPut: 1}},
		{"search of a trade, 50 km (24 cells)", citizen("w1"), "GET /v1/jobs", "/v1/jobs?trade=bricklayer&radiusKm=50&" + near, nil, 200, map[string]int{callGet: 1, callQuery: 24, callBatch: 1, callPut: 1}},
		{"a job", citizen("w1"), "GET /v1/jobs/{id}", "/v1/jobs/" + j.ID, nil, 200, map[string]int{callGet: 1}},
		{"match a job (3 workers, 9 cells)", citizen("emp"), "GET /v1/jobs/{id}/matches", "/v1/jobs/" + j.ID + "/matches", nil, 200, map[string]int{callGet: 2, callQuery: 9}},
		{"my jobs", citizen("emp"), "GET /v1/me/jobs", "/v1/me/jobs", nil, 200, map[string]int{callGet: 1, callQuery: 1, callBatch: 1}},
		{"close a job", citizen("emp"), "POST /v1/jobs/{id}/close", "/v1/jobs/" + j.ID + "/close", nil, 200, map[string]int{callGet: 2, callTWI: 1}},
	}
	var report []string
	for _, s := range steps {
		h.e.Calls.Reset()
		rec.Reset()
		var headers map[string]string
		if s.route == "POST /v1/jobs" {
			headers = map[string]string{"Idempotency-Key": "calls"}
		}
		h.must(s.status, s.c, s.route, s.path, s.body, headers)
		got := h.e.Calls.Snapshot()
		if s.want != nil && !maps.Equal(got, s.want) {
			t.Errorf("%s: calls %v; want %v", s.name, got, s.want)
		}
		var wcu float64
		for _, l := range rec.Lines() {
			wcu += l.WCU()
		}
		report = append(report, fmt.Sprintf("%-45s %v, %.0f write units", s.name, got, wcu))
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + strings.Join(report, "\n"))
}

// TestJobSearchNewestDayFirst: a job posted yesterday comes after today's, however near it is.
func TestJobSearchNewestDayFirst(t *testing.T) {
	h := newHarness(t)
	var offset atomic.Int64 // the function's clock: now + offset
	b := h.e.Base("BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil)))
	b.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	fn, err := buildersfn.New(b)
	if err != nil {
		t.Fatal(err)
	}
	h.fn = fn
	h.verifiedEmployer("emp", 1)
	offset.Store(int64(-24 * time.Hour))
	old := h.post(201, "emp", "old", jobBody("昨天的", "bricklayer", kmNorth(0.5), nil))
	offset.Store(0)
	newFar := h.post(201, "emp", "new-far", jobBody("今天远的", "bricklayer", kmNorth(8), nil))
	newNear := h.post(201, "emp", "new-near", jobBody("今天近的", "bricklayer", kmNorth(2), nil))
	if ids, _ := h.search("w", fmt.Sprintf("near=%f,%f", lat0, lng0)); !slices.Equal(ids, []string{newNear.ID, newFar.ID, old.ID}) {
		t.Errorf("search %v, want today's nearest first, then yesterday's", ids)
	}
}
