package dynamostore_test

import (
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/report"
)

// A reporter's answer is one conditional item per report: a confirmation, a contest (with the report's
// reopening in one transaction) and the window's end race for it, and a write sent twice finds itself.
// A contested report is back in its lead's queue with a new deadline; resolved again it keeps its first
// resolvedAt (the award's identity), and the due-answer job sees only resolved, unanswered reports.
func TestAnswersConfirmContestAndTheWindowsEnd(t *testing.T) {
	e := newResendEnv(t, "PutItem") // the first PutItem's answer is lost: the SDK sends it again
	ctx := t.Context()
	st := e.plain
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

	resolved := func(id string) report.Report {
		t.Helper()
		r := report.Report{ID: id, Status: report.Submitted, Category: "rubbish", Description: "d", ReporterSub: "u1",
			Location: report.Location{Lat: 23.37, Lng: 103.39}, CreatedAt: now, UpdatedAt: now}
		if existing, err := st.InsertReport(ctx, r, idem.Hash([]byte(id))); err != nil || existing != nil {
			t.Fatalf("insert %s: %v %v", id, existing, err)
		}
		at := now.Add(time.Minute)
		lead := report.Assignment{Dept: "municipal", Role: report.Lead, Status: report.Dispatched, AssignedAt: at,
			SLADeadline: at.Add(24 * time.Hour), DispatchedAt: at, DispatchedAs: report.Dispatched}
		if err := st.Dispatch(ctx, r, report.Dispatched, "municipal", []report.Assignment{lead}, report.DispatchEntry(at, report.Dispatched, "municipal")); err != nil {
			t.Fatalf("dispatch %s: %v", id, err)
		}
		for i, to := range []report.Status{report.Accepted, report.Resolved} {
			got, _, err := st.ReportForDept(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			at := now.Add(time.Duration(i+2) * time.Minute)
			as := []report.Assignment{got.Assignments[0]}
			as[0].Status = to
			cs := casework.ChangeSet{Report: got, To: to, LeadDept: "municipal", Assignments: as, Attempt: id + string(to),
				Entry: report.TimelineEntry{At: at, Status: to, Actor: "municipal"}}
			if err := st.Apply(ctx, cs); err != nil {
				t.Fatalf("%s %s: %v", to, id, err)
			}
		}
		got, err := st.GetReport(ctx, id)
		if err != nil || got.Status != report.Resolved || got.ResolvedAt == nil {
			t.Fatalf("resolved %s: %+v %v", id, got, err)
		}
		return got
	}
	a, b := resolved("a"), resolved("b")
	resolved("c")
	resolvedAt := *a.ResolvedAt

	// All three are due once their windows end, and not before.
	due := func(from, to time.Time) map[string]bool {
		t.Helper()
		rs, err := st.DueForAutoConfirm(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, r := range rs {
			if r.LeadDept != "municipal" || r.Category != "rubbish" {
				t.Errorf("due %s: lead %q category %q", r.ID, r.LeadDept, r.Category)
			}
			out[r.ID] = true
		}
		return out
	}
	if got := due(resolvedAt.Add(-time.Hour), resolvedAt.Add(-time.Second)); len(got) != 0 {
		t.Errorf("due before the resolutions: %v", got)
	}
	if got := due(resolvedAt.Add(-time.Hour), resolvedAt.Add(time.Hour)); len(got) != 3 {
		t.Errorf("due = %v, want a, b and c", got)
	}

	// Confirm a through the store whose PutItem answer is lost: the re-send meets its own write and
	// returns it as the existing answer, which is this request's (same key and hash).
	at := resolvedAt.Add(time.Hour)
	conf := report.Feedback{Answer: report.Confirmed, Rating: 5, Comment: "thanks", At: at, LeadDept: "municipal", Key: "k1", BodyHash: "h1"}
	existing, err := e.store.AddFeedback(ctx, a, conf)
	if err != nil {
		t.Fatalf("confirm a: %v", err)
	}
	if existing != nil && (existing.Key != "k1" || existing.BodyHash != "h1") {
		t.Fatalf("confirm a met another answer: %+v", existing)
	}
	other := conf
	other.Key, other.Rating = "k2", 1
	if existing, err := st.AddFeedback(ctx, a, other); err != nil || existing == nil || existing.Rating != 5 || existing.Key != "k1" {
		t.Fatalf("second confirmation of a: %+v %v, want the first one back", existing, err)
	}
	got, err := st.GetReport(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Feedback == nil || got.Feedback.Rating != 5 || got.Feedback.Comment != "thanks" || got.Status != report.Resolved {
		t.Fatalf("a after confirming: status %s feedback %+v", got.Status, got.Feedback)
	}
	if last := got.Timeline[len(got.Timeline)-1]; last.Actor != "citizen" || last.Status != report.Resolved || !last.At.Equal(at) {
		t.Errorf("a's last timeline entry = %+v, want the confirmation", last)
	}

	// Contest b: reopened, its lead's assignment reopened with a new deadline, in the reopened queue.
	lead := b.Assignments[0]
	lead.Status, lead.SLADeadline = report.Reopened, at.Add(72*time.Hour)
	contest := report.Feedback{Answer: report.Contested, Comment: "still there", At: at, LeadDept: "municipal", Key: "k3", BodyHash: "h3",
		Photos: []report.Photo{{Key: "photos/2026-11-30/x.jpg", ContentType: "image/jpeg", Size: 10, VersionID: "v1"}}}
	if existing, err := st.Reopen(ctx, report.Reopening{Report: b, Feedback: contest, Lead: lead}); err != nil || existing != nil {
		t.Fatalf("contest b: %+v %v", existing, err)
	}
	if existing, err := st.Reopen(ctx, report.Reopening{Report: b, Feedback: contest, Lead: lead}); err != nil || existing == nil || existing.Key != "k3" {
		t.Fatalf("contest b again: %+v %v, want its own answer back", existing, err)
	}
	if existing, err := st.AddFeedback(ctx, b, conf); err != nil || existing == nil || existing.Answer != report.Contested {
		t.Fatalf("confirm contested b: %+v %v", existing, err)
	}
	got, err = st.GetReport(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != report.Reopened || got.Assignments[0].Status != report.Reopened || !got.Assignments[0].SLADeadline.Equal(lead.SLADeadline) ||
		got.Feedback == nil || len(got.Feedback.Photos) != 1 {
		t.Fatalf("b after contesting: %+v", got)
	}
	q, _, err := st.Queue(ctx, "municipal", report.Reopened, 10, "")
	if err != nil || len(q) != 1 || q[0].ReportID != "b" {
		t.Fatalf("reopened queue = %+v %v, want b", q, err)
	}
	// The contest's photo is attached on its day: the photo sweeper keeps it.
	photos, err := st.PhotosOfDays(ctx, []string{"2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, p := range photos {
		kept = kept || (p.Key == "photos/2026-11-30/x.jpg" && p.VersionID == "v1")
	}
	if !kept {
		t.Errorf("PhotosOfDays misses the contest's photo: %+v", photos)
	}

	// A reopened report resolved again keeps its first resolvedAt (the award's identity).
	as := []report.Assignment{got.Assignments[0]}
	as[0].Status = report.Accepted
	if err := st.Apply(ctx, casework.ChangeSet{Report: got, To: report.Accepted, LeadDept: "municipal", Assignments: as, Attempt: "b-acc2",
		Entry: report.TimelineEntry{At: at.Add(time.Hour), Status: report.Accepted, Actor: "municipal"}}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.ReportForDept(ctx, "b")
	as[0].Status = report.Resolved
	if err := st.Apply(ctx, casework.ChangeSet{Report: got, To: report.Resolved, LeadDept: "municipal", Assignments: as, Attempt: "b-res2",
		Entry: report.TimelineEntry{At: at.Add(2 * time.Hour), Status: report.Resolved, Actor: "municipal"}}); err != nil {
		t.Fatal(err)
	}
	if got, err = st.GetReport(ctx, "b"); err != nil || got.ResolvedAt == nil || !got.ResolvedAt.Equal(*b.ResolvedAt) {
		t.Fatalf("b resolved again: resolvedAt %v, want the first %v (%v)", got.ResolvedAt, b.ResolvedAt, err)
	}

	// Only c is still due; once the window's answer is written, nothing is.
	if got := due(resolvedAt.Add(-time.Hour), resolvedAt.Add(time.Hour)); len(got) != 1 || !got["c"] {
		t.Errorf("due after answers = %v, want only c", got)
	}
	if n, err := report.AutoConfirmDue(ctx, st, report.DefaultAnswerWindow, resolvedAt.Add(report.DefaultAnswerWindow+time.Minute)); err != nil || n != 1 {
		t.Fatalf("auto-confirm = %d %v, want 1", n, err)
	}
	if n, err := report.AutoConfirmDue(ctx, st, report.DefaultAnswerWindow, resolvedAt.Add(report.DefaultAnswerWindow+2*time.Minute)); err != nil || n != 0 {
		t.Fatalf("auto-confirm again = %d %v, want 0", n, err)
	}
	if got, err := st.GetReport(ctx, "c"); err != nil || got.Feedback == nil || got.Feedback.Answer != report.AutoConfirmed {
		t.Fatalf("c after its window: %+v %v", got.Feedback, err)
	}

	// The KPI roll-up reads each day's answers: a and b on the 30th (Asia/Shanghai), c a week on.
	in, _, err := st.DayInputs(ctx, "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	want := map[kpi.AnswerLine]bool{{Answer: "confirmed", Rating: 5, LeadDept: "municipal"}: true, {Answer: "contested", LeadDept: "municipal"}: true}
	if len(in.Answers) != 2 || !want[in.Answers[0]] || !want[in.Answers[1]] {
		t.Errorf("answers of the day = %+v, want %v", in.Answers, want)
	}
	if in, _, err := st.DayInputs(ctx, "2026-12-07"); err != nil || len(in.Answers) != 1 || in.Answers[0] != (kpi.AnswerLine{Answer: "auto_confirmed", LeadDept: "municipal"}) {
		t.Errorf("answers a week on = %+v %v, want c's", in.Answers, err)
	}
}
