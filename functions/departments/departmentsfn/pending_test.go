package departmentsfn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// TestLeadActsBeforeItsAssignmentIsWritten: dispatch's commit is the report's conditional update, which
// carries the lead's assignment (dispatchedLead); it writes the assistants' assignment items and then the
// lead's. In between (or after a dispatch that stopped there, until its stream record comes again) the
// report reads as dispatched to its lead. The lead's staff or system acting then get 409
// assignment_pending with Retry-After: 1 and nothing is written — not the 404 of a department the report
// is not assigned to, which any other department still gets. Once dispatch's redelivery has written the
// item, the same requests apply: the signed event under its first webhook-id, which the refusal did not
// record as seen.
func TestLeadActsBeforeItsAssignmentIsWritten(t *testing.T) {
	cases := []struct {
		name      string
		category  string
		at        report.Location
		status    report.Status // what dispatch commits
		lead      string
		assist    string // an assistant whose item dispatch has written ("" = none)
		unwritten string // an assistant whose item dispatch has not written either ("" = none)
		staff     string // the lead's staff request
		event     []byte // the lead's signed event (nil: none)
		after     report.Status
	}{
		{name: "dispatched to municipal, traffic_police assisting", category: "damaged_road", at: outskirts,
			status: report.Dispatched, lead: "municipal", assist: "traffic_police",
			staff: `{"to":"accepted"}`, event: []byte(`{"type":"report.accepted","reportId":"%s"}`), after: report.Accepted},
		{name: "no rule: the command center triages", category: "other", at: report.Location{Lat: 23.3720, Lng: 103.3760},
			status: report.NeedsTriage, lead: dispatch.CommandCenter,
			staff: `{"to":"dispatched","toDept":"municipal"}`, after: report.Dispatched},
		{name: "dispatched to sanitation, city_mgmt assisting, neither item written", category: "rubbish", at: report.Location{Lat: 23.3700, Lng: 103.3750},
			status: report.Dispatched, lead: "sanitation", unwritten: "city_mgmt",
			staff: `{"to":"accepted"}`, after: report.Accepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.CreateReport(report.Report{Category: tc.category, Location: tc.at})
			rec := f.ReportRecord(r.ID) // the submitted image, as the stream carries it
			f.deliver(rec)
			// The window: the lead's assignment item, which dispatch writes last, not there yet.
			for _, dept := range []string{tc.lead, tc.unwritten} {
				if dept == "" {
					continue
				}
				if _, err := f.DB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &f.Table, Key: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: "REPORT#" + r.ID}, "sk": &types.AttributeValueMemberS{Value: "ASSIGN#" + dept}}}); err != nil {
					t.Fatal(err)
				}
			}
			mid := f.get(r.ID)
			if lead, ok := mid.Assignment(tc.lead); mid.Status != tc.status || !ok || !lead.Pending || lead.Role != report.Lead {
				t.Fatalf("setup: %s, lead %+v (%v); want %s with %s's pending lead assignment", mid.Status, lead, ok, tc.status, tc.lead)
			}
			// The commit names its assistants too: a reader in the window sees every department the
			// dispatch summoned, at the lead's status and deadline, not the lead alone.
			if tc.unwritten != "" {
				lead, _ := mid.Assignment(tc.lead)
				if a, ok := mid.Assignment(tc.unwritten); !ok || !a.Pending || a.Role != report.Assist || a.Status != tc.status || !a.SLADeadline.Equal(lead.SLADeadline) {
					t.Fatalf("setup: the unwritten assistant's assignment %+v (%v), want it pending at the lead's status and deadline", a, ok)
				}
			}
			if tc.assist != "" {
				if a, ok := mid.Assignment(tc.assist); !ok || a.Pending {
					t.Fatalf("setup: the assistant's assignment %+v (%v), want it written", a, ok)
				}
			}

			transition := func(dept, body string) func() response {
				return func() response {
					return f.do("POST", "POST /v1/dept/reports/{id}/transitions", "/v1/dept/reports/"+r.ID+"/transitions", []byte(body), nil, staff("s-"+dept, dept))
				}
			}
			var signed signedRequest
			other := "sanitation" // a department the report is not assigned to
			if tc.lead == other {
				other = "housing"
			}
			refusals := []refusal{
				{name: "the lead's staff", status: 409, code: "assignment_pending", req: transition(tc.lead, tc.staff)},
				{name: "the lead's staff, a progress note", status: 409, code: "assignment_pending", req: transition(tc.lead, `{"to":"in_progress","note":"on our way"}`)},
				{name: "a department it is not assigned to", status: 404, code: "report_not_found", req: transition(other, tc.staff)},
			}
			if tc.unwritten != "" {
				refusals = append(refusals, refusal{name: "an assistant whose item is not written", status: 409, code: "assignment_pending",
					req: transition(tc.unwritten, `{"to":"in_progress","note":"on our way"}`)})
			}
			if tc.event != nil {
				signed = f.sign(signedRequest{dept: tc.lead, body: []byte(strings.Replace(string(tc.event), "%s", r.ID, 1))})
				refusals = append(refusals,
					refusal{name: "the lead's signed event", status: 409, code: "assignment_pending", req: func() response { return f.send(signed) }},
					refusal{name: "a signed event of a department it is not assigned to", status: 404, code: "report_not_found", req: func() response {
						return f.send(f.sign(signedRequest{dept: other, body: signed.body}))
					}})
			}
			f.refuse(t, r.ID, refusals)

			// The answer says when to send it again; the refusal costs the read every request makes, no more.
			f.Calls.Reset()
			resp := transition(tc.lead, tc.staff)()
			if resp.Status != 409 || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("the lead's request: %d Retry-After %q, want 409 with Retry-After 1", resp.Status, resp.Header.Get("Retry-After"))
			}
			if db := f.Calls.Service("DynamoDB"); db != 1 {
				t.Errorf("a refusal in the window made %d DynamoDB calls (%v), want 1 (the report's Query)", db, f.Calls.Snapshot())
			}
			if resp := transition(other, tc.staff)(); resp.Header.Get("Retry-After") != "" {
				t.Errorf("a department not assigned gets Retry-After %q, want none", resp.Header.Get("Retry-After"))
			}

			// Dispatch's record delivered again completes the dispatch; then the lead's requests apply.
			f.deliver(rec)
			if lead, ok := f.get(r.ID).Assignment(tc.lead); !ok || lead.Pending {
				t.Fatalf("after the redelivery the lead's assignment is %+v (%v), want it written", lead, ok)
			}
			if tc.unwritten != "" {
				if a, ok := f.get(r.ID).Assignment(tc.unwritten); !ok || a.Pending {
					t.Fatalf("after the redelivery the assistant's assignment is %+v (%v), want it written", a, ok)
				}
			}
			if tc.event != nil {
				resp = f.send(signed)
				if resp.Status != 200 || !strings.Contains(string(resp.Body), `"status":"applied"`) {
					t.Fatalf("the same signed event after the dispatch completed: %d %s, want applied", resp.Status, resp.Body)
				}
			} else if resp = transition(tc.lead, tc.staff)(); resp.Status != 200 {
				t.Fatalf("the lead's staff after the dispatch completed: %d %s", resp.Status, resp.Body)
			}
			got := f.get(r.ID)
			if got.Status != tc.after || len(got.Timeline) != len(mid.Timeline)+1 {
				t.Errorf("after the lead's request: %s with %d timeline entries, want %s with %d", got.Status, len(got.Timeline), tc.after, len(mid.Timeline)+1)
			}
			if tc.event != nil {
				if resp = f.send(signed); resp.Status != 200 || !strings.Contains(string(resp.Body), `"status":"duplicate"`) {
					t.Errorf("the signed event once more: %d %s, want 200 duplicate", resp.Status, resp.Body)
				}
			}
		})
	}
}

// deliver hands the dispatch function a report's stream record, as the stream does (again, after a
// failure), and empties the outbox.
func (f *fixture) deliver(rec events.DynamoDBEventRecord) {
	f.T.Helper()
	resp, err := f.dispatch.Handle(context.Background(), testenv.Event(rec))
	if err != nil || len(resp.BatchItemFailures) > 0 {
		f.T.Fatalf("dispatch: %v %v", err, resp.BatchItemFailures)
	}
	f.Drain(f.OutboxURL)
}
