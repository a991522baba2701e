package accrualfn_test

import (
	"context"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

// notices returns sub's inbox, newest first (uncounted), as of the tests' dates.
func (h *harness) notices(sub string) []notify.Notice {
	h.t.Helper()
	ns, _, err := h.store.Notices(context.Background(), sub, 100, "", local(2026, 5, 15, 0, 0))
	if err != nil {
		h.t.Fatal(err)
	}
	return ns
}

// A resolution tells its reporter once, with the proof photo, the points and the honor they brought,
// however often the record is delivered; a revocation tells nothing; an Open311 application's report has
// no inbox.
func TestResolutionNoticeOnce(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	at := local(2026, 5, 14, 10, 0)
	// alice is one report short of 文明市民 (10 merit).
	var last report.Report
	for i := range 10 {
		r, rec := h.resolved("alice", "rubbish", at.Add(time.Duration(i)*time.Minute))
		h.handleOK(rec, rec) // the second delivery of each writes nothing more
		last = r
	}
	got := h.notices("alice")
	if len(got) != 10 {
		t.Fatalf("%d notices, want 10 (one per resolution): %+v", len(got), got)
	}
	n := got[0]
	if n.Kind != notify.ReportResolved || n.ReportID != last.ID || n.Points <= 0 || n.Read {
		t.Fatalf("newest notice %+v", n)
	}
	if len(n.Honors) != 1 || n.Honors[0] != "文明市民" {
		t.Fatalf("the tenth valid report's notice names %v, want 文明市民", n.Honors)
	}
	for _, older := range got[1:] {
		if len(older.Honors) != 0 {
			t.Fatalf("an earlier notice names honors: %+v", older)
		}
	}
	if s, err := h.store.Settings(ctx, "alice", true); err != nil || len(s.Devices) != 0 {
		t.Fatalf("settings %+v %v", s, err)
	}
	_, rev := h.revoke(last, at.Add(time.Hour))
	h.handleOK(rev)
	if n := len(h.notices("alice")); n != 10 {
		t.Fatalf("the revocation posted a notice: %d", n)
	}
	_, o311 := h.resolved("open311-c1", "rubbish", at)
	h.handleOK(o311)
	if n := len(h.notices("open311-c1")); n != 0 {
		t.Fatalf("an application has %d notices", n)
	}
}
