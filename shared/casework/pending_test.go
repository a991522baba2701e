package casework

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

type threeDepts struct{}

func (threeDepts) Departments(context.Context) ([]dispatch.Department, error) {
	return []dispatch.Department{{ID: "municipal"}, {ID: "traffic_police"}, {ID: "sanitation"}}, nil
}
func (threeDepts) Areas(context.Context) ([]dispatch.Area, error)        { return nil, nil }
func (threeDepts) Rules(context.Context) ([]dispatch.Rule, error)        { return nil, nil }
func (threeDepts) Categories(context.Context) ([]report.Category, error) { return nil, nil }

// oneReport holds one report as ReportForDept reads it and records what Apply is asked to write.
type oneReport struct {
	r       report.Report
	applied []ChangeSet
}

func (s *oneReport) ReportForDept(context.Context, string) (report.Report, map[string]bool, error) {
	return s.r, map[string]bool{}, nil
}
func (s *oneReport) Apply(_ context.Context, c ChangeSet) error {
	s.applied = append(s.applied, c)
	return nil
}
func (s *oneReport) Queue(context.Context, string, report.Status, int, string) ([]QueueItem, string, error) {
	return nil, "", nil
}

// Between dispatch's commit and the write of the lead's assignment the store shows the lead's assignment
// as Pending (the assistants' are written first). The lead is answered assignment_pending (409, retry in
// a second) and nothing is written — whatever it asks, since the change would rewrite an assignment that
// does not exist yet; an assistant's note applies; a department with no assignment is not told the report
// exists. Once the lead's assignment is written, the lead's change applies.
func TestLeadsAssignmentPending(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	lead := report.Assignment{Dept: "municipal", Role: report.Lead, Status: report.Dispatched, AssignedAt: at,
		SLADeadline: at.Add(120 * time.Hour), DispatchedAt: at, DispatchedAs: report.Dispatched}
	assist := report.Assignment{Dept: "traffic_police", Role: report.Assist, Status: report.Dispatched, AssignedAt: at, SLADeadline: lead.SLADeadline}
	pending := lead
	pending.Pending = true
	cases := []struct {
		name   string
		lead   report.Assignment
		dept   string
		change report.Change
		want   error // nil: applied
	}{
		{"the lead accepts", pending, "municipal", report.Change{Action: report.Accept}, ErrAssignmentPending},
		{"the lead notes progress", pending, "municipal", report.Change{Action: report.Progress, Note: "on our way"}, ErrAssignmentPending},
		{"the lead rejects as not ours", pending, "municipal", report.Change{Action: report.Reject, Reason: report.ReasonNotOurs}, ErrAssignmentPending},
		{"the lead resolves", pending, "municipal", report.Change{Action: report.Resolve, ProofPhotoKeys: []string{"photos/x.jpg"}}, ErrAssignmentPending},
		{"the assistant notes progress", pending, "traffic_police", report.Change{Action: report.Progress, Note: "cones placed"}, nil},
		{"a department with no assignment", pending, "sanitation", report.Change{Action: report.Accept}, report.ErrNotAssigned},
		{"the lead accepts once its assignment is written", lead, "municipal", report.Change{Action: report.Accept}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := &oneReport{r: report.Report{ID: "r1", Status: report.Dispatched, LeadDept: "municipal", Category: "damaged_road",
				CreatedAt: at, UpdatedAt: at, Assignments: []report.Assignment{assist, tc.lead}}}
			dir := dispatch.NewDirectory(threeDepts{}, time.Minute, time.UTC, time.Now)
			s := NewService(store, nil, dir, nil, nil, func() time.Time { return at.Add(time.Minute) })
			_, err := s.Apply(context.Background(), Request{Dept: tc.dept, ReportID: "r1", Change: tc.change, ActorIsUser: true})
			if tc.want == nil {
				if err != nil || len(store.applied) != 1 {
					t.Fatalf("Apply = %v with %d writes, want it applied once", err, len(store.applied))
				}
				for _, a := range store.applied[0].Assignments {
					if a.Pending {
						t.Errorf("the change rewrites the pending assignment %+v", a)
					}
				}
				return
			}
			if !errors.Is(err, tc.want) || len(store.applied) != 0 {
				t.Fatalf("Apply = %v with %d writes, want %v and none", err, len(store.applied), tc.want)
			}
			if e := apperr.As(err); errors.Is(tc.want, ErrAssignmentPending) && (e.Kind != apperr.Conflict || e.RetryAfter != time.Second) {
				t.Errorf("kind %v, Retry-After %v: want a conflict (409) to send again after 1 s", e.Kind, e.RetryAfter)
			}
		})
	}
}
