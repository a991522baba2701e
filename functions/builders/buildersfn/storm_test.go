package buildersfn_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// hireState reads a job's applications by status and its hires (the test's own consistent Queries).
func (h *harness) hireState(jobID string) (byStatus map[string]int, hires int) {
	h.t.Helper()
	byStatus = map[string]int{}
	for _, it := range h.items("JOB#"+jobID, "APP#") {
		byStatus[attrS(it, "astatus")]++
	}
	return byStatus, len(h.items("JOB#"+jobID, "HIRE#"))
}

// TestInvitationStorm: 100 workers invited to a job of 10 places accept at once → exactly 10 hires, hired =
// 10, the job filled and out of the listings; the other 90 are answered 409 job_filled and their
// invitations stay pending; 10 hire records.
func TestInvitationStorm(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	subs := make([]string, 100)
	for i := range subs {
		subs[i] = fmt.Sprintf("w%03d", i)
	}
	h.workers(subs...)
	j := h.hireJob("emp", 10, "storm-inv")
	for _, r := range storm(t, len(subs), func(i int) (response, error) {
		return h.call(citizen("emp"), "POST /v1/jobs/{id}/invitations", jobPath(j.ID, "/invitations"), map[string]any{"sub": subs[i]}, nil)
	}) {
		if r.Status != 201 {
			t.Fatalf("invite: %s", r)
		}
	}

	answers := storm(t, len(subs), func(i int) (response, error) {
		return h.call(citizen(subs[i]), "POST /v1/me/invitations/{jobId}/answer", "/v1/me/invitations/"+j.ID+"/answer", map[string]any{"answer": "accept"}, nil)
	})
	got := map[string]int{}
	for _, r := range answers {
		got[fmt.Sprintf("%d %s", r.Status, r.code())]++
	}
	if got["200 "] != 10 || got["409 job_filled"] != 90 || len(got) != 2 {
		t.Errorf("answers: %v, want 10 × 200 and 90 × 409 job_filled", got)
	}
	job, err := h.e.Store.Job(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	it := h.items("JOB#"+j.ID, "JOB")[0]
	if job.Hired != 10 || job.Status != builders.JobFilled || attrS(it, "gsi1pk") != "" || attrS(it, "gsi2pk") != "" {
		t.Errorf("the job = hired %d, %s, gsi1pk %q, gsi2pk %q; want 10, filled, unlisted", job.Hired, job.Status, attrS(it, "gsi1pk"), attrS(it, "gsi2pk"))
	}
	byStatus, hires := h.hireState(j.ID)
	if hires != 10 || byStatus[builders.AppAccepted] != 10 || byStatus[builders.AppPending] != 90 {
		t.Errorf("%d hires, applications %v; want 10 hires, 10 accepted, 90 pending", hires, byStatus)
	}
	if n := h.records("hire", j.ID+"#"); n != 10 {
		t.Errorf("%d hire records, want 10", n)
	}
	e, err := h.e.Store.Employer(context.Background(), "emp")
	if err != nil || e.OpenJobs != 0 {
		t.Errorf("the employer's open jobs = %d (%v), want 0 once its only job is filled", e.OpenJobs, err)
	}
	// A listing search near the job does not find it.
	r := h.must(200, citizen(subs[0]), "GET /v1/jobs", fmt.Sprintf("/v1/jobs?near=%f,%f", lat0, lng0), nil, nil)
	if strings.Contains(string(r.Body), j.ID) {
		t.Errorf("a filled job is in search: %s", r)
	}
}

// TestEmployerAcceptStorm: 30 applications to a job of 5 places accepted by its employer at once →
// exactly 5 hires; the others are answered 409 job_filled and stay pending.
func TestEmployerAcceptStorm(t *testing.T) {
	h := newHarness(t)
	h.verifiedEmployer("emp", 1)
	subs := make([]string, 30)
	for i := range subs {
		subs[i] = fmt.Sprintf("a%02d", i)
	}
	h.workers(subs...)
	j := h.hireJob("emp", 5, "storm-app")
	for _, r := range storm(t, len(subs), func(i int) (response, error) {
		return h.call(citizen(subs[i]), "POST /v1/jobs/{id}/applications", jobPath(j.ID, "/applications"), nil, nil)
	}) {
		if r.Status != 201 {
			t.Fatalf("apply: %s", r)
		}
	}
	answers := storm(t, len(subs), func(i int) (response, error) {
		return h.call(citizen("emp"), "POST /v1/jobs/{id}/applications/{sub}/answer", jobPath(j.ID, "/applications/"+subs[i]+"/answer"), map[string]any{"answer": "accept"}, nil)
	})
	got := map[string]int{}
	for _, r := range answers {
		got[fmt.Sprintf("%d %s", r.Status, r.code())]++
	}
	if got["200 "] != 5 || got["409 job_filled"] != 25 || len(got) != 2 {
		t.Errorf("answers: %v, want 5 × 200 and 25 × 409 job_filled", got)
	}
	job, err := h.e.Store.Job(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	byStatus, hires := h.hireState(j.ID)
	if job.Hired != 5 || job.Status != builders.JobFilled || hires != 5 || byStatus[builders.AppAccepted] != 5 || byStatus[builders.AppPending] != 25 {
		t.Errorf("job hired %d %s, %d hires, applications %v; want 5, filled, 5, 5 accepted and 25 pending", job.Hired, job.Status, hires, byStatus)
	}
}
