package volunteer

import (
	"errors"
	"testing"
	"time"
)

// What a confirmation or an answer does to each state of an attendance: a change (with or without a
// record), nothing (the request was applied before), or a refusal.
func TestConfirmationDecisions(t *testing.T) {
	start := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	act := Activity{ID: "a1", TeamID: "t1", Type: TypeCleanup, Title: "全民清扫日", Start: start, End: start.Add(2 * time.Hour)}
	now := start.Add(5 * time.Hour)
	first := start.Add(3 * time.Hour)
	m := func(n int64) *int64 { return &n }
	pending := Attendance{ActivityID: "a1", Sub: "v1", Status: Pending, Minutes: 90}
	confirmed := Attendance{ActivityID: "a1", Sub: "v1", Status: Confirmed, Minutes: 90, Confirmed: 90, ConfirmedAt: first, Revision: 1}
	disputed := confirmed
	disputed.Status, disputed.Dispute = Disputed, &Dispute{Reason: "r", Minutes: 120}
	upheld := confirmed
	upheld.Confirmed, upheld.Revision, upheld.Dispute = 120, 2, &Dispute{Reason: "r", Minutes: 120, Answer: Upheld}
	rejected := confirmed
	rejected.Dispute = &Dispute{Reason: "r", Minutes: 120, Answer: Rejected}

	tests := []struct {
		name       string
		cur        Attendance
		c          Confirmation
		done       bool
		err        error
		status     string
		confirmed  int64
		revision   int64
		recordKind string // "" when no record
		delta      int64
		prevAt     time.Time
	}{
		{"pending, computed minutes", pending, Confirmation{}, false, nil, Confirmed, 90, 1, RecordConfirmed, 90, time.Time{}},
		{"pending, fewer minutes", pending, Confirmation{Minutes: m(60)}, false, nil, Confirmed, 60, 1, RecordConfirmed, 60, time.Time{}},
		{"confirmed, sent again", confirmed, Confirmation{}, true, nil, "", 0, 0, "", 0, time.Time{}},
		{"confirmed, sent again with its minutes", confirmed, Confirmation{Minutes: m(90)}, true, nil, "", 0, 0, "", 0, time.Time{}},
		{"confirmed, other minutes", confirmed, Confirmation{Minutes: m(60)}, false, ErrAttendanceState, "", 0, 0, "", 0, time.Time{}},
		{"checked in", Attendance{Status: CheckedIn}, Confirmation{}, false, ErrAttendanceState, "", 0, 0, "", 0, time.Time{}},
		{"revoked", Attendance{Status: Revoked}, Confirmation{}, false, ErrAttendanceState, "", 0, 0, "", 0, time.Time{}},
		{"disputed, no answer", disputed, Confirmation{}, false, ErrAttendanceState, "", 0, 0, "", 0, time.Time{}},
		{"disputed, upheld", disputed, Confirmation{Answer: Upheld, Minutes: m(120)}, false, nil, Confirmed, 120, 2, RecordConfirmed, 30, first},
		{"disputed, rejected", disputed, Confirmation{Answer: Rejected}, false, nil, Confirmed, 90, 1, "", 0, time.Time{}},
		{"upheld, sent again", upheld, Confirmation{Answer: Upheld, Minutes: m(120)}, true, nil, "", 0, 0, "", 0, time.Time{}},
		{"rejected, sent again", rejected, Confirmation{Answer: Rejected}, true, nil, "", 0, 0, "", 0, time.Time{}},
		{"rejected, then upheld", rejected, Confirmation{Answer: Upheld, Minutes: m(120)}, false, ErrAttendanceState, "", 0, 0, "", 0, time.Time{}},
		{"an answer without a dispute", confirmed, Confirmation{Answer: Upheld, Minutes: m(120)}, false, ErrAttendanceState, "", 0, 0, "", 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, done, err := confirmation(tt.cur, act, tt.c, "org1", now)
			if done != tt.done || !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) {
				t.Fatalf("done %v err %v; want %v %v", done, err, tt.done, tt.err)
			}
			if done || err != nil {
				return
			}
			a := ch.Attendance
			if a.Status != tt.status || a.Confirmed != tt.confirmed || a.Revision != tt.revision || ch.Seen != tt.cur.Revision ||
				len(ch.From) != 1 || ch.From[0] != tt.cur.Status {
				t.Errorf("change %+v", ch)
			}
			if tt.recordKind == "" {
				if ch.Record != nil {
					t.Errorf("a record: %+v", ch.Record)
				}
				return
			}
			r := ch.Record
			if r == nil || r.Kind != tt.recordKind || r.Revision != tt.revision || r.Minutes != tt.confirmed || r.Delta != tt.delta ||
				!r.PrevAt.Equal(tt.prevAt) || !r.At.Equal(now) || r.By != "org1" || r.Title != act.Title || !r.End.Equal(act.End) {
				t.Errorf("record %+v", r)
			}
			if !a.ConfirmedAt.Equal(now) || a.ConfirmedBy != "org1" {
				t.Errorf("confirmed at %v by %q", a.ConfirmedAt, a.ConfirmedBy)
			}
		})
	}
}

func TestOneText(t *testing.T) {
	long := make([]rune, MaxText+1)
	for i := range long {
		long[i] = '字'
	}
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"  少算了半小时 \n", "少算了半小时", true},
		{"第一行\n第二行", "第一行\n第二行", true},
		{"", "", false},
		{"   ", "", false},
		{"a\x00b", "", false},
		{"a\x1bb", "", false},
		{string(long), "", false},
		{string(long[:MaxText]), string(long[:MaxText]), true},
	} {
		got, err := oneText("reason", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("oneText(%q) = %q, %v", tt.in, got, err)
		}
	}
}
