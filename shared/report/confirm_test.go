package report_test

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
)

// memAnswers keeps reports and their answers in memory, as the store's conditions would.
type memAnswers struct {
	mu      sync.Mutex
	reports map[string]report.Report
	writes  int
	// rival, when set, is the answer another request writes just before this one's write lands.
	rival *report.Feedback
}

func (m *memAnswers) GetReport(_ context.Context, id string) (report.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reports[id]
	if !ok {
		return report.Report{}, report.ErrNotFound
	}
	return r, nil
}

func (m *memAnswers) write(r report.Report, f report.Feedback, to report.Status, lead *report.Assignment) (*report.Feedback, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.reports[r.ID]
	if m.rival != nil {
		cur.Feedback, m.rival = m.rival, nil
		m.reports[r.ID] = cur
	}
	if cur.Feedback != nil {
		return cur.Feedback, nil
	}
	if cur.Status != report.Resolved {
		return nil, report.ErrNotResolved
	}
	m.writes++
	cur.Feedback, cur.Status = &f, to
	if lead != nil {
		cur.Assignments = []report.Assignment{*lead}
	}
	m.reports[r.ID] = cur
	return nil, nil
}

func (m *memAnswers) AddFeedback(_ context.Context, r report.Report, f report.Feedback) (*report.Feedback, error) {
	return m.write(r, f, report.Resolved, nil)
}

func (m *memAnswers) Reopen(_ context.Context, ro report.Reopening) (*report.Feedback, error) {
	return m.write(ro.Report, ro.Feedback, report.Reopened, &ro.Lead)
}

func (m *memAnswers) DueForAutoConfirm(_ context.Context, from, to time.Time) ([]report.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []report.Report
	for _, r := range m.reports {
		if r.Status == report.Resolved && r.Feedback == nil && r.ResolvedAt.After(from) && !r.ResolvedAt.After(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

type notices struct{ got []string }

func (n *notices) Reopened(_ context.Context, r report.Report, lead report.Assignment) error {
	n.got = append(n.got, r.ID+"→"+lead.Dept+"@"+lead.SLADeadline.Format(time.RFC3339))
	return nil
}

type answersFixture struct {
	*fixture
	answers *memAnswers
	notices *notices
	a       *report.Answers
	photo   string // u1's upload for a contest
}

func newAnswersFixture(t *testing.T) *answersFixture {
	t.Helper()
	f := newFixture(t)
	resolvedAt := f.clock.Add(-time.Hour)
	assign := report.Assignment{Dept: "municipal", Role: report.Lead, Status: report.Resolved, SLADeadline: resolvedAt}
	base := report.Report{Status: report.Resolved, Category: "rubbish", ReporterSub: "u1", LeadDept: "municipal",
		ResolvedAt: &resolvedAt, Assignments: []report.Assignment{assign}}
	old := f.clock.Add(-report.DefaultAnswerWindow - time.Minute)
	m := &memAnswers{reports: map[string]report.Report{}}
	for id, mod := range map[string]func(*report.Report){
		"r1":       func(*report.Report) {},
		"theirs":   func(r *report.Report) { r.ReporterSub = "u2" },
		"progress": func(r *report.Report) { r.Status, r.ResolvedAt = report.InProgress, nil },
		"revoked":  func(r *report.Report) { r.Status = report.Revoked },
		"old":      func(r *report.Report) { r.ResolvedAt = &old },
	} {
		r := base
		r.ID = id
		mod(&r)
		m.reports[id] = r
	}
	jpeg, err := base64.StdEncoding.DecodeString(tinyJPEG)
	if err != nil {
		t.Fatal(err)
	}
	af := &answersFixture{fixture: f, answers: m, notices: &notices{}, photo: "photos/2026-11-02/00000000-0000-4000-8000-000000000009.jpg"}
	f.bucket.upload(af.photo, "image/jpeg", withEXIF(jpeg))
	af.a = report.NewAnswers(m, f.svc, af.notices, 0, func() time.Time { return f.clock })
	return af
}

func TestAnswersRefuseBadInputAndWriteNothing(t *testing.T) {
	staff := auth.Principal{Sub: "s1", Groups: []auth.Role{auth.Staff}}
	tests := []struct {
		name    string
		who     *auth.Principal
		id, key string
		confirm *report.Confirmation
		contest *report.Contest
		want    error
	}{
		{"rating 0", nil, "r1", "k", &report.Confirmation{Rating: 0}, nil, report.ErrRating},
		{"rating 6", nil, "r1", "k", &report.Confirmation{Rating: 6}, nil, report.ErrRating},
		{"control characters", nil, "r1", "k", &report.Confirmation{Rating: 4, Comment: "a\x00b"}, nil, report.ErrComment},
		{"long comment", nil, "r1", "k", &report.Confirmation{Rating: 4, Comment: string(make([]rune, 501))}, nil, report.ErrComment},
		{"no key", nil, "r1", "", &report.Confirmation{Rating: 4}, nil, idem.ErrKeyRequired},
		{"staff", &staff, "r1", "k", &report.Confirmation{Rating: 4}, nil, auth.ErrForbidden},
		{"someone else's", nil, "theirs", "k", &report.Confirmation{Rating: 4}, nil, report.ErrNotFound},
		{"no such report", nil, "nope", "k", &report.Confirmation{Rating: 4}, nil, report.ErrNotFound},
		{"not resolved", nil, "progress", "k", &report.Confirmation{Rating: 4}, nil, report.ErrNotResolved},
		{"revoked", nil, "revoked", "k", &report.Confirmation{Rating: 4}, nil, report.ErrNotResolved},
		{"window ended", nil, "old", "k", &report.Confirmation{Rating: 4}, nil, report.ErrWindowClosed},
		{"contest without photos", nil, "r1", "k", nil, &report.Contest{}, report.ErrContestPhotoList},
		{"contest with 4 photos", nil, "r1", "k", nil, &report.Contest{PhotoKeys: []string{"a", "b", "c", "d"}}, report.ErrContestPhotoList},
		{"contest with a photo twice", nil, "r1", "k", nil, &report.Contest{PhotoKeys: []string{"a", "a"}}, report.ErrContestPhotoList},
		{"contest with a bad key", nil, "r1", "k", nil, &report.Contest{PhotoKeys: []string{"reports/x.jpg"}}, report.ErrPhotoKey},
		{"contest with a missing photo", nil, "r1", "k", nil, &report.Contest{PhotoKeys: []string{"photos/2026-11-02/00000000-0000-4000-8000-000000000077.jpg"}}, report.ErrPhotoNotFound},
		{"contest after the window", nil, "old", "k", nil, &report.Contest{PhotoKeys: []string{"photos/2026-11-02/00000000-0000-4000-8000-000000000009.jpg"}}, report.ErrWindowClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAnswersFixture(t)
			who := f.who
			if tt.who != nil {
				who = *tt.who
			}
			before := f.bucket.versions()
			var err error
			if tt.confirm != nil {
				_, err = f.a.Confirm(t.Context(), who, tt.id, tt.key, []byte("body"), *tt.confirm)
			} else {
				_, err = f.a.Contest(t.Context(), who, tt.id, tt.key, []byte("body"), *tt.contest)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if f.answers.writes != 0 || len(f.notices.got) != 0 {
				t.Errorf("a refused answer wrote %d items and sent %v", f.answers.writes, f.notices.got)
			}
			if after := f.bucket.versions(); len(after) != len(before) || len(after[f.photo]) != len(before[f.photo]) {
				t.Errorf("photo versions changed: %v → %v", before, after)
			}
		})
	}
}

func TestConfirmOnceAndReplay(t *testing.T) {
	f := newAnswersFixture(t)
	ctx := t.Context()
	body := []byte(`{"rating":5}`)
	r, err := f.a.Confirm(ctx, f.who, "r1", "k1", body, report.Confirmation{Rating: 5, Comment: "好 fixed"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != report.Resolved || r.Feedback == nil || r.Feedback.Rating != 5 || r.Feedback.Answer != report.Confirmed {
		t.Fatalf("confirmed: %+v", r)
	}
	if last := r.Timeline[len(r.Timeline)-1]; last.Actor != "citizen" || last.Note != "confirmed, rated 5 of 5" {
		t.Errorf("timeline entry = %+v", last)
	}
	again, err := f.a.Confirm(ctx, f.who, "r1", "k1", body, report.Confirmation{Rating: 5, Comment: "好 fixed"})
	if err != nil || again.Feedback == nil || again.Feedback.Rating != 5 {
		t.Fatalf("the same request again = %+v %v, want its answer", again.Feedback, err)
	}
	if _, err := f.a.Confirm(ctx, f.who, "r1", "k1", []byte(`{"rating":1}`), report.Confirmation{Rating: 1}); !errors.Is(err, idem.ErrKeyReused) {
		t.Errorf("the key with another body: %v, want idempotency_key_reused", err)
	}
	if _, err := f.a.Confirm(ctx, f.who, "r1", "k2", body, report.Confirmation{Rating: 5}); !errors.Is(err, report.ErrAlreadyAnswered) {
		t.Errorf("a second confirmation: %v, want already_answered", err)
	}
	if _, err := f.a.Contest(ctx, f.who, "r1", "k3", body, report.Contest{PhotoKeys: []string{f.photo}}); !errors.Is(err, report.ErrAlreadyAnswered) {
		t.Errorf("a contest after confirming: %v, want already_answered", err)
	}
	if f.answers.writes != 1 {
		t.Errorf("writes = %d, want 1", f.answers.writes)
	}
	if k := apperr.KindOf(report.ErrAlreadyAnswered); k != apperr.Conflict {
		t.Errorf("already_answered is of kind %v, want Conflict (409)", k)
	}
}

func TestContestReopensToTheLead(t *testing.T) {
	f := newAnswersFixture(t)
	ctx := t.Context()
	r, err := f.a.Contest(ctx, f.who, "r1", "k1", []byte(`{}`), report.Contest{Comment: "still there", PhotoKeys: []string{f.photo}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := f.clock.Add(24 * time.Hour) // rubbish: 24 h
	lead, ok := r.Assignment("municipal")
	if r.Status != report.Reopened || !ok || lead.Status != report.Reopened || !lead.SLADeadline.Equal(deadline) || lead.Overdue {
		t.Fatalf("contested: status %s lead %+v", r.Status, lead)
	}
	if len(r.Feedback.Photos) != 1 || r.Feedback.Photos[0].Key != f.photo {
		t.Errorf("the contest's photos = %+v", r.Feedback.Photos)
	}
	if last := r.Timeline[len(r.Timeline)-1]; last.Status != report.Reopened || last.Note != "not fixed: reopened to municipal: still there" {
		t.Errorf("timeline entry = %+v", last)
	}
	if want := "r1→municipal@" + deadline.Format(time.RFC3339); len(f.notices.got) != 1 || f.notices.got[0] != want {
		t.Errorf("notices = %v, want [%s]", f.notices.got, want)
	}
	f.photosExist(t, report.Report{ID: r.ID, Photos: r.Feedback.Photos})
}

// A contest that loses to another answer written meanwhile deletes the photo versions its checks wrote
// and answers already_answered.
func TestContestLosingToARivalLeavesNothing(t *testing.T) {
	f := newAnswersFixture(t)
	f.answers.rival = &report.Feedback{Answer: report.Confirmed, Rating: 4, Key: "other", At: f.clock}
	before := len(f.bucket.versions()[f.photo])
	_, err := f.a.Contest(t.Context(), f.who, "r1", "k1", []byte(`{}`), report.Contest{PhotoKeys: []string{f.photo}})
	if !errors.Is(err, report.ErrAlreadyAnswered) {
		t.Fatalf("err = %v, want already_answered", err)
	}
	if after := len(f.bucket.versions()[f.photo]); after != before {
		t.Errorf("versions of the photo: %d before, %d after", before, after)
	}
	if len(f.notices.got) != 0 {
		t.Errorf("notices = %v", f.notices.got)
	}
}

func TestAutoConfirmDue(t *testing.T) {
	f := newAnswersFixture(t)
	ctx := t.Context()
	// "old"'s window ended a minute ago; r1 was resolved an hour ago: not due until its window ends.
	if n, err := report.AutoConfirmDue(ctx, f.answers, 0, f.clock); err != nil || n != 1 {
		t.Fatalf("now: %d %v, want 1 (old)", n, err)
	}
	later := f.clock.Add(report.DefaultAnswerWindow)
	if n, err := report.AutoConfirmDue(ctx, f.answers, 0, later); err != nil || n != 2 {
		t.Fatalf("at the window's end: %d %v, want 2 (r1, theirs)", n, err)
	}
	if n, err := report.AutoConfirmDue(ctx, f.answers, 0, later.Add(15*time.Minute)); err != nil || n != 0 {
		t.Fatalf("again: %d %v, want 0", n, err)
	}
	r, _ := f.answers.GetReport(ctx, "r1")
	if r.Feedback == nil || r.Feedback.Answer != report.AutoConfirmed || r.Status != report.Resolved {
		t.Errorf("r1 after its window: %s %+v", r.Status, r.Feedback)
	}
	if _, err := f.a.Contest(ctx, f.who, "r1", "k", []byte(`{}`), report.Contest{PhotoKeys: []string{f.photo}}); !errors.Is(err, report.ErrAlreadyAnswered) {
		t.Errorf("contest after the window's answer: %v", err)
	}
}
