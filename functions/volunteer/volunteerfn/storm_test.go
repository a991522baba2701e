package volunteerfn_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

type signupAnswer struct {
	Status   string `json:"status"`
	Position int64  `json:"position"`
}

func (h *harness) signUp(sub, act string) (response, error) {
	return h.call(citizen(sub), "POST /v1/activities/{id}/signups", "/v1/activities/"+act+"/signups", nil, nil)
}

func (h *harness) cancelSignup(sub, act string) (response, error) {
	return h.call(citizen(sub), "DELETE /v1/activities/{id}/signups/me", "/v1/activities/"+act+"/signups/me", nil, nil)
}

// state reads the activity's counters, its sign-ups by sub and its waitlist entries' positions, in order.
func (h *harness) state(act string) (volunteer.Activity, map[string]volunteer.Signup, []int64) {
	h.t.Helper()
	ctx := context.Background()
	a, err := h.e.Store.Activity(ctx, act)
	if err != nil {
		h.t.Fatal(err)
	}
	sus, err := h.e.Store.Signups(ctx, act)
	if err != nil {
		h.t.Fatal(err)
	}
	bySub := map[string]volunteer.Signup{}
	for _, s := range sus {
		bySub[s.Sub] = s
	}
	out, err := h.e.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &h.e.Table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :w)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ACT#" + act}, ":w": &types.AttributeValueMemberS{Value: "WAIT#"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.LastEvaluatedKey != nil {
		h.t.Fatalf("read the waitlist: %v (more pages: %v)", err, out != nil && out.LastEvaluatedKey != nil)
	}
	var waits []int64
	for _, it := range out.Items {
		pos, err := strconv.ParseInt(strings.TrimPrefix(it["sk"].(*types.AttributeValueMemberS).Value, "WAIT#"), 10, 64)
		if err != nil {
			h.t.Fatal(err)
		}
		waits = append(waits, pos)
	}
	if !slices.IsSorted(waits) {
		h.t.Fatalf("waitlist out of order: %v", waits)
	}
	return a, bySub, waits
}

// TestSignupStorm: 200 sign-ups at once for 50 places → exactly 50 places, 150 waiters with distinct
// positions; later ones queue behind in the order they came; a re-sent sign-up changes nothing; one
// cancellation moves exactly the first waiter up, 20 at once move exactly the next 20 up, and a waiter's
// cancellation moves nobody.
func TestSignupStorm(t *testing.T) {
	h := newHarness(t)
	h.team("t1", "org1")
	subs := make([]string, 203)
	for i := range subs {
		subs[i] = fmt.Sprintf("v%03d", i)
	}
	h.volunteers(append(subs, "org1")...)
	act := h.publish(citizen("org1"), "storm", activityBody("t1", 50, lat0, lng0, tomorrow()))[0].ID

	answers := storm(t, 200, func(i int) (response, error) { return h.signUp(subs[i], act) })
	var places, waiting int
	positions := map[int64]string{}
	for i, r := range answers {
		if r.Status != 201 {
			t.Fatalf("sign-up %d: %s", i, r)
		}
		var a signupAnswer
		r.decode(t, &a)
		switch a.Status {
		case volunteer.SignedUp:
			places++
		case volunteer.Waitlisted:
			waiting++
			if other, dup := positions[a.Position]; dup || a.Position < 1 {
				t.Errorf("%s: position %d (also %s)", subs[i], a.Position, other)
			}
			positions[a.Position] = subs[i]
		default:
			t.Errorf("%s: status %q", subs[i], a.Status)
		}
	}
	if places != 50 || waiting != 150 {
		t.Fatalf("places %d, waiting %d; want 50 and 150", places, waiting)
	}
	a, bySub, waits := h.state(act)
	if a.SignedUp != 50 || a.Waitlisted != 150 || len(waits) != 150 || len(bySub) != 200 {
		t.Fatalf("stored: signedUp %d waitlisted %d, %d WAIT# entries, %d sign-ups", a.SignedUp, a.Waitlisted, len(waits), len(bySub))
	}
	for _, p := range waits {
		if s := bySub[positions[p]]; s.Status != volunteer.Waitlisted || s.Position != p {
			t.Errorf("WAIT#%d: sign-up %+v", p, s)
		}
	}

	// Later sign-ups queue behind, in the order they came.
	queue := slices.Clone(waits)
	last := waits[len(waits)-1]
	for _, sub := range subs[200:] {
		var ans signupAnswer
		h.must(201, citizen(sub), "POST /v1/activities/{id}/signups", "/v1/activities/"+act+"/signups", nil, nil).decode(t, &ans)
		if ans.Status != volunteer.Waitlisted || ans.Position <= last {
			t.Fatalf("%s: %+v after position %d", sub, ans, last)
		}
		last = ans.Position
		positions[ans.Position] = sub
		queue = append(queue, ans.Position)
	}

	// A re-sent sign-up (a place, a waiter) answers as it is and writes nothing.
	var holder, waiter string
	for _, s := range subs[:200] {
		if bySub[s].Status == volunteer.SignedUp && holder == "" {
			holder = s
		}
	}
	waiter = positions[waits[10]]
	before := h.dump()
	for _, s := range []string{holder, waiter} {
		var ans signupAnswer
		h.must(200, citizen(s), "POST /v1/activities/{id}/signups", "/v1/activities/"+act+"/signups", nil, nil).decode(t, &ans)
		if ans.Status != bySub[s].Status || ans.Position != bySub[s].Position {
			t.Errorf("re-sent sign-up of %s: %+v, stored %+v", s, ans, bySub[s])
		}
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Errorf("a re-sent sign-up wrote to the table")
	}

	// One cancellation moves exactly the first waiter up.
	h.must(200, citizen(holder), "DELETE /v1/activities/{id}/signups/me", "/v1/activities/"+act+"/signups/me", nil, nil)
	a, bySub2, waits2 := h.state(act)
	first := positions[waits[0]]
	if bySub2[first].Status != volunteer.SignedUp || bySub2[holder].Status != volunteer.Cancelled {
		t.Fatalf("after one cancellation: first waiter %+v, canceller %+v", bySub2[first], bySub2[holder])
	}
	if a.SignedUp != 50 || a.Waitlisted != 152 || !slices.Equal(waits2, queue[1:]) {
		t.Fatalf("after one cancellation: signedUp %d waitlisted %d, waitlist %v", a.SignedUp, a.Waitlisted, waits2)
	}
	moved := 0
	for sub, s := range bySub2 {
		if s.Status == volunteer.SignedUp && bySub[sub].Status == volunteer.Waitlisted {
			moved++
		}
	}
	if moved != 1 {
		t.Fatalf("one cancellation moved %d up", moved)
	}

	// 20 cancellations at once move exactly the next 20 up.
	var holders []string
	for _, s := range subs[:200] {
		if bySub2[s].Status == volunteer.SignedUp && len(holders) < 20 {
			holders = append(holders, s)
		}
	}
	for i, r := range storm(t, 20, func(i int) (response, error) { return h.cancelSignup(holders[i], act) }) {
		if r.Status != 200 {
			t.Fatalf("cancellation %d: %s", i, r)
		}
	}
	a, bySub3, waits4 := h.state(act)
	if a.SignedUp != 50 || a.Waitlisted != 132 || len(waits4) != 132 {
		t.Fatalf("after 20 cancellations: signedUp %d waitlisted %d, %d entries", a.SignedUp, a.Waitlisted, len(waits4))
	}
	for _, p := range waits2[:20] {
		if s := bySub3[positions[p]]; s.Status != volunteer.SignedUp {
			t.Errorf("waiter at %d: %+v, want moved up", p, s)
		}
	}
	if !slices.Equal(waits4, waits2[20:]) {
		t.Errorf("waitlist after 20 cancellations: %v, want %v", waits4[:3], waits2[20:23])
	}
	var signed int
	for _, s := range bySub3 {
		if s.Status == volunteer.SignedUp {
			signed++
		}
	}
	if signed != 50 {
		t.Errorf("%d sign-ups hold a place; want 50", signed)
	}

	// A waiter's cancellation moves nobody; cancelling again answers as it is.
	w := positions[waits4[5]]
	h.must(200, citizen(w), "DELETE /v1/activities/{id}/signups/me", "/v1/activities/"+act+"/signups/me", nil, nil)
	before = h.dump()
	h.must(200, citizen(w), "DELETE /v1/activities/{id}/signups/me", "/v1/activities/"+act+"/signups/me", nil, nil)
	if !slices.Equal(before, h.dump()) {
		t.Errorf("a second cancellation wrote to the table")
	}
	a, _, waits5 := h.state(act)
	if a.SignedUp != 50 || a.Waitlisted != 131 || slices.Contains(waits5, waits4[5]) || len(waits5) != 131 {
		t.Errorf("after a waiter's cancellation: signedUp %d waitlisted %d", a.SignedUp, a.Waitlisted)
	}
}
