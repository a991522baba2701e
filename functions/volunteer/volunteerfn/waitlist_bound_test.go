package volunteerfn_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// TestWaitlistIsBounded: the waitlist holds at most MaxWaitlist waiters, so an activity's sign-ups (the
// organiser's list) stay bounded. A full activity whose waitlist is at the bound answers 409 waitlist_full
// and writes nothing; one waiter fewer and the same sign-up is waitlisted.
func TestWaitlistIsBounded(t *testing.T) {
	h := newHarness(t)
	h.team("t1", "org1")
	h.volunteers("org1", "a", "b")
	act := h.publish(citizen("org1"), "bound", activityBody("t1", 1, lat0, lng0, tomorrow()))[0].ID
	h.must(201, citizen("a"), "POST /v1/activities/{id}/signups", "/v1/activities/"+act+"/signups", nil, nil)

	// The activity as MaxWaitlist waiters would leave it (their items are not needed for the condition).
	setWaitlisted := func(n int) {
		t.Helper()
		if _, err := h.e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: &h.e.Table,
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "ACT#" + act}, "sk": &types.AttributeValueMemberS{Value: "ACT"}},
			UpdateExpression:          aws.String("SET waitlisted = :n"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	setWaitlisted(volunteer.MaxWaitlist)
	before := h.dump()
	r, err := h.signUp("b", act)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 409 || r.code() != "waitlist_full" {
		t.Fatalf("a sign-up with the waitlist at its bound: %s, want 409 waitlist_full", r)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Errorf("the refused sign-up wrote to the table")
	}

	setWaitlisted(volunteer.MaxWaitlist - 1)
	r, err = h.signUp("b", act)
	if err != nil {
		t.Fatal(err)
	}
	var a signupAnswer
	if r.Status != 201 {
		t.Fatalf("a sign-up with one waiter's room: %s, want 201", r)
	}
	r.decode(t, &a)
	if a.Status != volunteer.Waitlisted {
		t.Errorf("status %q, want waitlisted", a.Status)
	}
}
