package points

import (
	"testing"
	"time"
)

// TestBuildersRules: the policy's defaults (off), what each kind earns, and the bounds.
func TestBuildersRules(t *testing.T) {
	if got := DefaultRules().BuildersRules(); got != (BuildersRules{Enabled: false, HireCompleted: 20, Consultation: 0}) {
		t.Errorf("defaults %+v", got)
	}
	on := BuildersRules{Enabled: true, HireCompleted: 20, Consultation: 3}
	for _, tt := range []struct {
		name  string
		rules BuildersRules
		kind  string
		want  int64
	}{
		{"off: a completed hire earns nothing", DefaultBuildersRules(), BuildersHireCompleted, 0},
		{"off: a consultation earns nothing", BuildersRules{HireCompleted: 20, Consultation: 3}, BuildersConsultation, 0},
		{"on: a completed hire", on, BuildersHireCompleted, 20},
		{"on: a consultation", on, BuildersConsultation, 3},
		{"on: another kind earns nothing", on, "hire", 0},
	} {
		if got := tt.rules.Points(tt.kind); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		b  BuildersRules
		ok bool
	}{
		{BuildersRules{Enabled: true, HireCompleted: 0, Consultation: 0}, true},
		{BuildersRules{Enabled: true, HireCompleted: MaxBuildersAward, Consultation: MaxBuildersAward}, true},
		{BuildersRules{HireCompleted: -1}, false},
		{BuildersRules{Consultation: MaxBuildersAward + 1}, false},
	} {
		r := DefaultRules()
		r.Builders = &tt.b
		if err := r.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v, want ok %v", tt.b, err, tt.ok)
		}
	}
}

// TestGrantBuilders: an award under the caps, no merit, its identity the record's key.
func TestGrantBuilders(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 28, 19, 0, 0, 0, tz)
	r := BuildersRecord{RecordID: "BLDREC#hire_completed#job1#wang", Kind: BuildersHireCompleted, Sub: "wang", At: at}
	rules := DefaultRules()
	p := Profile{Sub: "wang", Balance: 7, Merit: 2, Day: "2026-11-28", DayEarned: 40, Month: "2026-11", MonthEarned: 40, Version: 3}
	a, n, e := GrantBuilders(p, r, 20, rules, tz)
	if a.Granted != 10 || a.Points != 20 || a.Merit != 0 || a.ID() != "BLDREC#hire_completed#job1#wang#wang#builders" {
		t.Errorf("award %+v (id %s)", a, a.ID())
	}
	if n.Balance != 17 || n.Merit != 2 || n.DayEarned != 50 || n.Version != 4 || p.Balance != 7 {
		t.Errorf("profile %+v (before %+v)", n, p)
	}
	if e.ID != "award-BLDREC#hire_completed#job1#wang#wang#builders" || e.Delta != 10 || e.Kind != KindBuildersAward || !e.At.Equal(at) {
		t.Errorf("entry %+v", e)
	}
	// The next day: a new day's cap.
	a, _, _ = GrantBuilders(n, BuildersRecord{RecordID: "BLDREC#consultation#d#s#wang", Kind: BuildersConsultation, Sub: "wang", At: at.Add(6 * time.Hour)}, 20, rules, tz)
	if a.Granted != 20 {
		t.Errorf("the next day's award granted %d", a.Granted)
	}
}
