package dynamostore_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// The job writes of builders' home against moto, each with its answer lost once (the SDK re-sends it):
// every one takes effect once and reports success.

// jobEnv seeds a verified employer "emp" on e's table.
func jobEnv(t *testing.T, op string) *resendEnv {
	t.Helper()
	e := newResendEnv(t, op)
	e.put(t, map[string]types.AttributeValue{"pk": s("EMPLOYER#emp"), "sk": s("PROFILE"), "type": s("employer"), "sub": s("emp"),
		"name": s("蒙自建筑"), "estatus": s(builders.EmployerVerified), "openJobs": n(0), "reports": n(0), "createdAt": s("2026-11-01T00:00:00.000Z")})
	return e
}

func testJob(id string, headcount int) builders.Job {
	return builders.Job{ID: id, EmployerSub: "emp", EmployerName: "蒙自建筑", Title: "砌墙", Trade: "bricklayer",
		Place: builders.JobPlace{Lat: 23.3962, Lng: 103.3756}, Wage: builders.Wage{Min: 200, Max: 300, Unit: builders.UnitDay},
		Headcount: headcount, StartDate: "2026-12-01", EndDate: "2026-12-31", Status: builders.JobOpen,
		CreatedAt: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)}
}

// raw reads an item as stored.
func (e *resendEnv) raw(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func (e *resendEnv) openJobs(t *testing.T) string {
	t.Helper()
	v, _ := e.raw(t, "EMPLOYER#emp", "PROFILE")["openJobs"].(*types.AttributeValueMemberN)
	if v == nil {
		t.Fatal("no openJobs")
	}
	return v.Value
}

func listed(it map[string]types.AttributeValue) bool {
	_, g1 := it["gsi1pk"]
	_, g2 := it["gsi2pk"]
	return g1 && g2
}

func TestPostJobOnceWhenResent(t *testing.T) {
	e := jobEnv(t, "TransactWriteItems")
	ctx := t.Context()
	j, _, err := e.store.PostJob(ctx, testJob("j1", 3), "hash")
	if err != nil || j.ID != "j1" || j.Status != builders.JobOpen {
		t.Fatalf("PostJob: %+v, %v", j, err)
	}
	e.lost(t)
	if got := e.openJobs(t); got != "1" {
		t.Errorf("openJobs %s after one post, want 1", got)
	}
	it := e.raw(t, "JOB#j1", "JOB")
	if !listed(it) || e.raw(t, "BLDREC#job_posted#j1", "BLDREC") == nil {
		t.Errorf("job %v, or its record missing", it)
	}
	// The key again with another body.
	if _, _, err := e.plain.PostJob(ctx, testJob("j1", 3), "other"); err == nil {
		t.Error("the same id with another body answered no error")
	} else if !errors.Is(err, idem.ErrKeyReused) {
		t.Errorf("the same id with another body: %v, want %v", err, idem.ErrKeyReused)
	}
	if got := e.openJobs(t); got != "1" || !maps.EqualFunc(e.raw(t, "JOB#j1", "JOB"), it, func(a, b types.AttributeValue) bool {
		return reflect.DeepEqual(a, b)
	}) {
		t.Errorf("the refused post wrote: openJobs %s, job %v", got, e.raw(t, "JOB#j1", "JOB"))
	}
}

func TestFillRepairOnceWhenResent(t *testing.T) {
	e := jobEnv(t, "TransactWriteItems")
	ctx := t.Context()
	e.inj.SetEnabled(false)
	if _, _, err := e.plain.PostJob(ctx, testJob("j2", 2), "h"); err != nil {
		t.Fatal(err)
	}
	// Not full: nothing to repair.
	if err := e.store.FillRepair(ctx, "j2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.plain.Job(ctx, "j2"); got.Status != builders.JobOpen || e.openJobs(t) != "1" {
		t.Fatalf("a job with free places was repaired: %s, openJobs %s", got.Status, e.openJobs(t))
	}
	if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table,
		Key: map[string]types.AttributeValue{"pk": s("JOB#j2"), "sk": s("JOB")}, UpdateExpression: aws.String("SET hired = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": n(2)}}); err != nil {
		t.Fatal(err)
	}
	e.inj.SetEnabled(true)
	if err := e.store.FillRepair(ctx, "j2"); err != nil {
		t.Fatalf("FillRepair: %v", err)
	}
	e.lost(t)
	if err := e.plain.FillRepair(ctx, "j2"); err != nil { // again: nothing
		t.Fatal(err)
	}
	got, _ := e.plain.Job(ctx, "j2")
	if got.Status != builders.JobFilled || listed(e.raw(t, "JOB#j2", "JOB")) || e.openJobs(t) != "0" {
		t.Errorf("after the repair: %s, listed %v, openJobs %s; want filled, unlisted, 0", got.Status, listed(e.raw(t, "JOB#j2", "JOB")), e.openJobs(t))
	}
}

func TestCloseJobOnceWhenResent(t *testing.T) {
	e := jobEnv(t, "TransactWriteItems")
	ctx := t.Context()
	e.inj.SetEnabled(false)
	j, _, err := e.plain.PostJob(ctx, testJob("j3", 2), "h")
	if err != nil {
		t.Fatal(err)
	}
	e.inj.SetEnabled(true)
	got, err := e.store.CloseJob(ctx, j, time.Now())
	if err != nil || got.Status != builders.JobClosed {
		t.Fatalf("CloseJob: %+v, %v", got, err)
	}
	e.lost(t)
	if again, err := e.plain.CloseJob(ctx, got, time.Now()); err != nil || !again.ClosedAt.Equal(got.ClosedAt) {
		t.Errorf("closed again: %+v, %v", again, err)
	}
	if listed(e.raw(t, "JOB#j3", "JOB")) || e.openJobs(t) != "0" {
		t.Errorf("closed job listed %v, openJobs %s", listed(e.raw(t, "JOB#j3", "JOB")), e.openJobs(t))
	}
	// An expired job: once.
	e.inj.SetEnabled(false)
	k, _, err := e.plain.PostJob(ctx, testJob("j4", 2), "h")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.plain.ExpireJob(ctx, k, "2027-01-01"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.plain.Job(ctx, "j4"); got.Status != builders.JobExpired || e.openJobs(t) != "0" {
		t.Errorf("expired: %s, openJobs %s", got.Status, e.openJobs(t))
	}
}

func TestSetJobListed(t *testing.T) {
	e := jobEnv(t, "UpdateItem")
	ctx := t.Context()
	e.inj.SetEnabled(false)
	if _, _, err := e.plain.PostJob(ctx, testJob("j5", 2), "h"); err != nil {
		t.Fatal(err)
	}
	before := e.raw(t, "JOB#j5", "JOB")
	e.inj.SetEnabled(true)
	if err := e.store.SetJobListed(ctx, "j5", false); err != nil {
		t.Fatal(err)
	}
	e.lost(t)
	if listed(e.raw(t, "JOB#j5", "JOB")) {
		t.Error("still listed after SetJobListed(false)")
	}
	if err := e.plain.SetJobListed(ctx, "j5", true); err != nil {
		t.Fatal(err)
	}
	after := e.raw(t, "JOB#j5", "JOB")
	for _, k := range []string{"gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"} {
		if before[k].(*types.AttributeValueMemberS).Value != after[k].(*types.AttributeValueMemberS).Value {
			t.Errorf("%s restored as %v, was %v", k, after[k], before[k])
		}
	}
	if got, _ := e.plain.Job(ctx, "j5"); got.Status != builders.JobOpen {
		t.Errorf("status %s after unlisting and listing", got.Status)
	}
	if err := e.plain.SetJobListed(ctx, "nope", false); err != builders.ErrJobNotFound {
		t.Errorf("an unknown job: %v", err)
	}
}
