package buildersfn_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/infra/cost"
	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/builders"
)

// The worker phone workerBody gives every worker: no answer to an employer may carry it before a hire.
const workerPhone = "13800138000"

// hireJob posts a bricklayer's job of headcount places at Mengzi's centre as employer emp.
func (h *harness) hireJob(emp string, headcount int, key string) builders.Job {
	h.t.Helper()
	var j builders.Job
	h.must(201, citizen(emp), "POST /v1/jobs", "/v1/jobs", map[string]any{
		"title": "砌墙 " + key, "trade": "bricklayer", "place": map[string]any{"lat": lat0, "lng": lng0, "address": "天马路 1 号"},
		"wage": map[string]any{"min": 200, "max": 260, "unit": builders.UnitDay}, "headcount": headcount,
		"startDate": today(), "endDate": day(30), "requirements": "三年以上",
	}, map[string]string{"Idempotency-Key": key}).decode(h.t, &j)
	return j
}

func jobPath(id, rest string) string { return "/v1/jobs/" + id + rest }

// items is the table's items whose pk is pk and sk starts with prefix (the test's own consistent Query).
func (h *harness) items(pk, prefix string) []map[string]types.AttributeValue {
	h.t.Helper()
	out, err := h.e.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: &h.e.Table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":p": &types.AttributeValueMemberS{Value: prefix}}})
	if err != nil || out.LastEvaluatedKey != nil {
		h.t.Fatalf("query %s %s: %v", pk, prefix, err)
	}
	return out.Items
}

func attrS(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// records counts the builders_record items of kind whose id starts with prefix (the test's own Scan).
func (h *harness) records(kind, prefix string) int {
	n := 0
	for _, line := range h.dump() {
		if strings.Contains(line, `"type":"builders_record"`) && strings.Contains(line, `"pk":"BLDREC#`+kind+`#`+prefix) {
			n++
		}
	}
	return n
}

// TestHireByApplication: a worker applies (a re-sent application answers the same one); the employer sees
// it without the phone, accepts (a re-sent accept writes nothing, another answer is refused), the hire list
// carries the phone, both confirm (once), and a completed hire cannot be cancelled.
func TestHireByApplication(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.worker("w1")
	j := h.hireJob("emp", 2, "app-1")
	path := jobPath(j.ID, "/applications")

	var a builders.Application
	h.must(201, citizen("w1"), "POST /v1/jobs/{id}/applications", path, map[string]any{"message": "我做了六年瓦工"}, nil).decode(t, &a)
	if a.Status != builders.AppPending || a.Kind != builders.KindApplication || a.JobTitle != j.Title {
		t.Fatalf("applied = %+v", a)
	}
	before := h.dump()
	h.must(200, citizen("w1"), "POST /v1/jobs/{id}/applications", path, map[string]any{"message": "我做了六年瓦工"}, nil)
	h.unchanged(before, "a re-sent application")
	if n := h.records("application", j.ID+"#w1"); n != 1 {
		t.Errorf("%d application records, want 1", n)
	}

	r := h.must(200, citizen("emp"), "GET /v1/jobs/{id}/applications", path, nil, nil)
	if strings.Contains(string(r.Body), workerPhone) {
		t.Errorf("the employer's applications carry the phone: %s", r)
	}
	var apps struct{ Items []builders.Application }
	r.decode(t, &apps)
	if len(apps.Items) != 1 || apps.Items[0].Worker == nil || apps.Items[0].Worker.DisplayName != "张师傅" {
		t.Errorf("the employer's applications = %s", r)
	}

	answer := "POST /v1/jobs/{id}/applications/{sub}/answer"
	var ans builders.Answered
	h.must(200, citizen("emp"), answer, path+"/w1/answer", map[string]any{"answer": "accept"}, nil).decode(t, &ans)
	if ans.Application.Status != builders.AppAccepted || ans.Hire == nil || ans.Hire.Status != builders.HireHired {
		t.Fatalf("accepted = %+v", ans)
	}
	before = h.dump()
	h.must(200, citizen("emp"), answer, path+"/w1/answer", map[string]any{"answer": "accept"}, nil).decode(t, &ans)
	h.unchanged(before, "a re-sent accept")
	if ans.Hire == nil || ans.Application.Status != builders.AppAccepted {
		t.Errorf("the re-sent accept answered %+v", ans)
	}
	if r := h.must(409, citizen("emp"), answer, path+"/w1/answer", map[string]any{"answer": "decline"}, nil); r.code() != "already_answered" {
		t.Errorf("another answer = %s", r)
	}
	h.unchanged(before, "a refused answer")
	if j2, _ := h.e.Store.Job(context.Background(), j.ID); j2.Hired != 1 || j2.Status != builders.JobOpen {
		t.Errorf("after a hire of two places the job = %+v", j2)
	}

	r = h.must(200, citizen("emp"), "GET /v1/jobs/{id}/hires", jobPath(j.ID, "/hires"), nil, nil)
	if !strings.Contains(string(r.Body), workerPhone) {
		t.Errorf("the employer's hires lack the phone: %s", r)
	}
	var mine struct{ Items []builders.Hire }
	h.must(200, citizen("w1"), "GET /v1/me/hires", "/v1/me/hires", nil, nil).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Employer == nil || mine.Items[0].Employer.Phone == "" || mine.Items[0].JobID != j.ID {
		t.Errorf("the worker's hires = %+v", mine.Items)
	}
	var myApps struct{ Items []builders.Application }
	h.must(200, citizen("w1"), "GET /v1/me/applications", "/v1/me/applications", nil, nil).decode(t, &myApps)
	if len(myApps.Items) != 1 || myApps.Items[0].Status != builders.AppAccepted || myApps.Items[0].JobTitle != j.Title {
		t.Errorf("the worker's applications = %+v", myApps.Items)
	}

	var hire builders.Hire
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/hires/{sub}/confirm", jobPath(j.ID, "/hires/w1/confirm"), map[string]any{}, nil).decode(t, &hire)
	if hire.Status != builders.HireHired || hire.EmployerConfirmedAt.IsZero() {
		t.Errorf("after the employer's confirmation: %+v", hire)
	}
	h.must(200, citizen("w1"), "POST /v1/me/hires/{jobId}/confirm", "/v1/me/hires/"+j.ID+"/confirm", map[string]any{}, nil).decode(t, &hire)
	if hire.Status != builders.HireCompleted || hire.CompletedAt.IsZero() {
		t.Errorf("after both confirmations: %+v", hire)
	}
	before = h.dump()
	h.must(200, citizen("w1"), "POST /v1/me/hires/{jobId}/confirm", "/v1/me/hires/"+j.ID+"/confirm", map[string]any{}, nil)
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/hires/{sub}/confirm", jobPath(j.ID, "/hires/w1/confirm"), map[string]any{}, nil)
	h.unchanged(before, "re-sent confirmations")
	if n := h.records("hire_completed", j.ID+"#w1"); n != 1 {
		t.Errorf("%d hire_completed records, want 1", n)
	}
	if r := h.must(409, citizen("w1"), "POST /v1/me/hires/{jobId}/cancel", "/v1/me/hires/"+j.ID+"/cancel", map[string]any{"reason": "不干了"}, nil); r.code() != "hire_completed" {
		t.Errorf("cancelling a completed hire = %s", r)
	}
	h.unchanged(before, "a refused cancellation")
}

// TestHireByInvitation: the employer invites (no phone in its answer); the employer cannot answer its own
// invitation; the worker accepts the only place (the job is filled and out of the listings); the worker
// cancels (the place is free again, the job open and listed); a withdrawn application stays withdrawn.
func TestHireByInvitation(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.worker("w1")
	h.worker("w2")
	j := h.hireJob("emp", 1, "inv-1")

	r := h.must(201, citizen("emp"), "POST /v1/jobs/{id}/invitations", jobPath(j.ID, "/invitations"), map[string]any{"sub": "w1", "message": "明天来上班？"}, nil)
	if strings.Contains(string(r.Body), workerPhone) {
		t.Errorf("the invitation's answer carries the phone: %s", r)
	}
	before := h.dump()
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/invitations", jobPath(j.ID, "/invitations"), map[string]any{"sub": "w1", "message": "明天来上班？"}, nil)
	h.unchanged(before, "a re-sent invitation")
	h.refused(403, "not_your_answer", citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, nil)

	// w2 applies and withdraws.
	h.must(201, citizen("w2"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, nil)
	var a builders.Application
	h.must(200, citizen("w2"), "DELETE /v1/jobs/{id}/applications/me", jobPath(j.ID, "/applications/me"), nil, nil).decode(t, &a)
	if a.Status != builders.AppWithdrawn {
		t.Errorf("withdrawn = %+v", a)
	}

	h.must(200, citizen("w1"), "POST /v1/me/invitations/{jobId}/answer", "/v1/me/invitations/"+j.ID+"/answer", map[string]any{"answer": "accept"}, nil)
	it := h.items("JOB#"+j.ID, "JOB")[0]
	if got, _ := h.e.Store.Job(context.Background(), j.ID); got.Status != builders.JobFilled || got.Hired != 1 || attrS(it, "gsi1pk") != "" || attrS(it, "gsi2pk") != "" {
		t.Errorf("after the only place's hire the job = %+v (gsi1pk %q)", got, attrS(it, "gsi1pk"))
	}
	before = h.dump()
	h.must(200, citizen("w2"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, nil).decode(t, &a)
	if a.Status != builders.AppWithdrawn {
		t.Errorf("applying again after a withdrawal answers %+v, want the withdrawn application (one per pair)", a)
	}
	h.unchanged(before, "applying again after a withdrawal")

	var hire builders.Hire
	h.must(200, citizen("w1"), "POST /v1/me/hires/{jobId}/cancel", "/v1/me/hires/"+j.ID+"/cancel", map[string]any{"reason": "家里有事"}, nil).decode(t, &hire)
	if hire.Status != builders.HireCancelled {
		t.Errorf("cancelled = %+v", hire)
	}
	before = h.dump()
	h.must(200, citizen("w1"), "POST /v1/me/hires/{jobId}/cancel", "/v1/me/hires/"+j.ID+"/cancel", map[string]any{"reason": "家里有事"}, nil)
	h.unchanged(before, "a re-sent cancellation")
	it = h.items("JOB#"+j.ID, "JOB")[0]
	if got, _ := h.e.Store.Job(context.Background(), j.ID); got.Status != builders.JobOpen || got.Hired != 0 || attrS(it, "gsi1pk") == "" || attrS(it, "gsi2pk") == "" {
		t.Errorf("after the cancellation the job = %+v (gsi1pk %q)", got, attrS(it, "gsi1pk"))
	}
	if n := h.records("hire_cancelled", j.ID+"#w1"); n != 1 {
		t.Errorf("%d hire_cancelled records, want 1", n)
	}
}

// TestHireRefusals: another employer's job, a closed job, an unknown hire, bad answers: each a 4xx with its
// code, writing nothing.
func TestHireRefusals(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.verifiedEmployer("emp2", 2)
	h.worker("w1")
	h.worker("w2")
	j := h.hireJob("emp", 2, "ref-1")
	closed := h.hireJob("emp", 2, "ref-2")
	h.must(201, citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, nil)
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/close", jobPath(closed.ID, "/close"), map[string]any{}, nil)

	before := h.dump()
	cases := []struct {
		name   string
		c      caller
		route  string
		path   string
		body   any
		status int
		code   string
	}{
		{"another employer's applications", citizen("emp2"), "GET /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, 403, "not_your_job"},
		{"another employer answers", citizen("emp2"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, 403, "not_your_job"},
		{"another employer invites", citizen("emp2"), "POST /v1/jobs/{id}/invitations", jobPath(j.ID, "/invitations"), map[string]any{"sub": "w2"}, 403, "not_your_job"},
		{"another employer's hires", citizen("emp2"), "GET /v1/jobs/{id}/hires", jobPath(j.ID, "/hires"), nil, 403, "not_your_job"},
		{"a closed job", citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(closed.ID, "/applications"), nil, 409, "job_closed"},
		{"an invitation to a closed job", citizen("emp"), "POST /v1/jobs/{id}/invitations", jobPath(closed.ID, "/invitations"), map[string]any{"sub": "w2"}, 409, "job_closed"},
		{"an unknown job", citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath("nope", "/applications"), nil, 404, "job_not_found"},
		{"one's own job", citizen("emp"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, 400, "invalid_builders_request"},
		{"no worker profile", citizen("nobody"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, 409, "not_a_worker"},
		{"a bad answer", citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "maybe"}, 400, "invalid_builders_request"},
		{"an unknown application", citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w2/answer"), map[string]any{"answer": "accept"}, 404, "application_not_found"},
		{"an unknown hire", citizen("emp"), "POST /v1/jobs/{id}/hires/{sub}/cancel", jobPath(j.ID, "/hires/w1/cancel"), map[string]any{"reason": "x"}, 404, "hire_not_found"},
		{"a cancellation without a reason", citizen("w1"), "POST /v1/me/hires/{jobId}/cancel", "/v1/me/hires/" + j.ID + "/cancel", map[string]any{}, 400, "invalid_builders_request"},
		{"a hidden or unknown worker invited", citizen("emp"), "POST /v1/jobs/{id}/invitations", jobPath(j.ID, "/invitations"), map[string]any{"sub": "nobody"}, 404, "worker_not_found"},
		{"a message too long", citizen("w2"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), map[string]any{"message": strings.Repeat("长", builders.MaxText+1)}, 400, "invalid_builders_request"},
	}
	for _, c := range cases {
		r, err := h.call(c.c, c.route, c.path, c.body, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != c.status || r.code() != c.code {
			t.Errorf("%s: %s, want %d %s", c.name, r, c.status, c.code)
		}
	}
	h.unchanged(before, "refused requests")
}

// Call names as infra/cost counts them.
const (
	hcTWI    = "DynamoDB.TransactWriteItems"
	hcGet    = "DynamoDB.GetItem"
	hcQuery  = "DynamoDB.Query"
	hcBatch  = "DynamoDB.BatchGetItem"
	hcUpdate = "DynamoDB.UpdateItem"
)

// TestHireCalls counts the calls and write units (infra/cost's counting: the table's and each index's,
// transactions doubled) of an application, an accept (a hire) and the two confirmations, and logs them:
// README "Builders' home" quotes the log.
func TestHireCalls(t *testing.T) {
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
	h.worker("w1")
	h.worker("w2")
	j := h.hireJob("emp", 2, "calls-1")
	steps := []struct {
		name  string
		c     caller
		route string
		path  string
		body  any
		want  map[string]int
	}{
		// Job, the pair's application, the worker, the employer; the transaction.
		{"apply", citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), map[string]any{"message": "hi"}, map[string]int{hcGet: 4, hcTWI: 1}},
		{"re-sent apply", citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), map[string]any{"message": "hi"}, map[string]int{hcGet: 2}},
		{"invite", citizen("emp"), "POST /v1/jobs/{id}/invitations", jobPath(j.ID, "/invitations"), map[string]any{"sub": "w2"}, map[string]int{hcGet: 4, hcTWI: 1}},
		// Job, application, employer, the worker's profile; the hire's transaction; the job read after it.
		{"accept (a hire)", citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, map[string]int{hcGet: 5, hcTWI: 1}},
		{"re-sent accept", citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, map[string]int{hcGet: 3}},
		// Invitation, job, employer, the worker's profile; the hire; the job read after it, then FillRepair (its read and transaction).
		{"accept the last place (fills the job)", citizen("w2"), "POST /v1/me/invitations/{jobId}/answer", "/v1/me/invitations/" + j.ID + "/answer", map[string]any{"answer": "accept"}, map[string]int{hcGet: 6, hcTWI: 2}},
		{"employer confirms", citizen("emp"), "POST /v1/jobs/{id}/hires/{sub}/confirm", jobPath(j.ID, "/hires/w1/confirm"), map[string]any{}, map[string]int{hcGet: 2, hcUpdate: 1}},
		{"worker confirms (completes)", citizen("w1"), "POST /v1/me/hires/{jobId}/confirm", "/v1/me/hires/" + j.ID + "/confirm", map[string]any{}, map[string]int{hcGet: 1, hcTWI: 1}},
		{"the employer's applications", citizen("emp"), "GET /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, map[string]int{hcGet: 1, hcQuery: 1, hcBatch: 1}},
		{"my applications", citizen("w1"), "GET /v1/me/applications", "/v1/me/applications", nil, map[string]int{hcQuery: 1, hcBatch: 1}},
		{"the job's hires", citizen("emp"), "GET /v1/jobs/{id}/hires", jobPath(j.ID, "/hires"), nil, map[string]int{hcGet: 1, hcQuery: 1, hcBatch: 1}},
		{"my hires", citizen("w1"), "GET /v1/me/hires", "/v1/me/hires", nil, map[string]int{hcQuery: 1, hcBatch: 2}},
	}
	var report []string
	for _, s := range steps {
		h.e.Calls.Reset()
		rec.Reset()
		h.must(map[bool]int{true: 201, false: 200}[s.name == "apply" || s.name == "invite"], s.c, s.route, s.path, s.body, nil)
		got := h.e.Calls.Snapshot()
		if !maps.Equal(got, s.want) {
			t.Errorf("%s: calls %v; want %v", s.name, got, s.want)
		}
		var wcu float64
		for _, l := range rec.Lines() {
			wcu += l.WCU()
		}
		report = append(report, fmt.Sprintf("%s: %v, %.0f write units", s.name, got, wcu))
	}
	t.Log("calls and write units:\n" + strings.Join(report, "\n"))
}

// newLossHarness is a harness whose function's TransactWriteItems calls pass through a fault injector that
// loses the answer of the first one made while it is enabled (applied, the answer discarded: the SDK sends
// the request again). It starts disabled, for the test's setup.
func newLossHarness(t *testing.T) (*harness, *faults.Injector) {
	t.Helper()
	inj, err := faults.New(faults.Options{Seed: 1, PerTen: 10, Max: 1, Kinds: []faults.Kind{faults.LostResponse},
		Operations: []string{"TransactWriteItems"}, Log: slog.New(slog.NewJSONHandler(testLog{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	inj.SetEnabled(false)
	e := moto.New(t, testenv.Options{CategoriesOnly: true, WrapHTTP: inj.Wrap})
	fn, err := buildersfn.New(e.Base("BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{e: e, t: t, fn: fn}, inj
}

// TestHireAnswerLost: the hire transaction that takes a job's only place is applied but its answer lost;
// the SDK's re-send finds its own write (the application accepted): the accept is answered 200 with the
// hire, one place is taken once (hired 1, one hire record), and the job is filled all the same. Then the
// worker's cancellation loses its answer the same way: answered 200 cancelled, hired 0, one
// hire_cancelled record, and the job open and listed again.
func TestHireAnswerLost(t *testing.T) {
	h, inj := newLossHarness(t)
	h.verifiedEmployer("emp", 1)
	h.worker("w1")
	j := h.hireJob("emp", 1, "lost-1")
	h.must(201, citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, nil)

	inj.SetEnabled(true)
	var ans builders.Answered
	h.must(200, citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, nil).decode(t, &ans)
	if st := inj.Stats(); st.Injected[faults.LostResponse] != 1 {
		t.Fatalf("faults: %v, want one lost answer", st)
	}
	if ans.Hire == nil || ans.Application.Status != builders.AppAccepted {
		t.Errorf("the accept whose answer was lost answered %+v", ans)
	}
	it := h.items("JOB#"+j.ID, "JOB")[0]
	if got, _ := h.e.Store.Job(context.Background(), j.ID); got.Hired != 1 || got.Status != builders.JobFilled || attrS(it, "gsi1pk") != "" {
		t.Errorf("the job = hired %d, %s, gsi1pk %q; want 1, filled, unlisted", got.Hired, got.Status, attrS(it, "gsi1pk"))
	}
	if n := h.records("hire", j.ID+"#w1"); n != 1 {
		t.Errorf("%d hire records, want 1", n)
	}

	// The cancellation, on a harness of its own (the first injector has spent its one fault).
	h2, inj2 := newLossHarness(t)
	h2.verifiedEmployer("emp", 1)
	h2.worker("w1")
	j2 := h2.hireJob("emp", 1, "lost-2")
	h2.must(201, citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(j2.ID, "/applications"), nil, nil)
	h2.must(200, citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j2.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, nil)
	inj2.SetEnabled(true)
	var hire builders.Hire
	h2.must(200, citizen("w1"), "POST /v1/me/hires/{jobId}/cancel", "/v1/me/hires/"+j2.ID+"/cancel", map[string]any{"reason": "家里有事"}, nil).decode(t, &hire)
	if st := inj2.Stats(); st.Injected[faults.LostResponse] != 1 {
		t.Fatalf("faults: %v, want one lost answer", st)
	}
	it = h2.items("JOB#"+j2.ID, "JOB")[0]
	if got, _ := h2.e.Store.Job(context.Background(), j2.ID); hire.Status != builders.HireCancelled || got.Hired != 0 || got.Status != builders.JobOpen || attrS(it, "gsi1pk") == "" {
		t.Errorf("after a cancellation whose answer was lost: hire %s, job hired %d %s gsi1pk %q; want cancelled, 0, open, listed", hire.Status, got.Hired, got.Status, attrS(it, "gsi1pk"))
	}
	if n := h2.records("hire_cancelled", j2.ID+"#w1"); n != 1 {
		t.Errorf("%d hire_cancelled records, want 1", n)
	}
}

// TestNoHireOfAWorkerWhoOptedOut: a worker who applied, then opted out of the worker profile, is hired by
// nobody: the employer's accept answers 409 not_a_worker and writes nothing (the hire list would otherwise
// show a worker with no contact).
func TestNoHireOfAWorkerWhoOptedOut(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	h.worker("w1")
	j := h.hireJob("emp", 1, "optout-1")
	h.must(201, citizen("w1"), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, nil)
	h.must(204, citizen("w1"), "DELETE /v1/me/worker", "/v1/me/worker", nil, nil)
	before := h.dump()
	if r := h.must(409, citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/w1/answer"), map[string]any{"answer": "accept"}, nil); r.code() != "not_a_worker" {
		t.Errorf("accepting an opted-out worker = %s", r)
	}
	h.unchanged(before, "an accept of an opted-out worker")
}
