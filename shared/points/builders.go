package points

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BuildersRules are the points policy of builders' home (建设者之家, issue 16): whether a worker earns civic
// points for a completed hire (confirmed by both sides) and for a served medical or legal consultation, and
// how many. Off by default: whether the city pays points for these is its policy decision. Awards count
// under the reports' daily and monthly caps (Rules) and earn no merit.
type BuildersRules struct {
	Enabled       bool  `json:"enabled"`
	HireCompleted int64 `json:"hireCompleted"`
	Consultation  int64 `json:"consultation"`
}

// DefaultBuildersRules: off; when an admin turns it on, 20 points a completed hire and none a consultation.
func DefaultBuildersRules() BuildersRules {
	return BuildersRules{Enabled: false, HireCompleted: 20, Consultation: 0}
}

// BuildersRules returns the rules' builders part, the defaults when none was saved.
func (r Rules) BuildersRules() BuildersRules {
	if r.Builders == nil {
		return DefaultBuildersRules()
	}
	return *r.Builders
}

// MaxBuildersAward bounds a builders' award (points an event).
const MaxBuildersAward = 1000

func (b BuildersRules) validate() error {
	if b.HireCompleted < 0 || b.HireCompleted > MaxBuildersAward || b.Consultation < 0 || b.Consultation > MaxBuildersAward {
		return ErrInvalidRules.With("builders' points for a completed hire and a consultation must be 0 to %d", MaxBuildersAward)
	}
	return nil
}

// The builders' record kinds the policy pays (builders.RecHireCompleted, builders.RecConsultation: points
// does not import the builders package, which its every user would link).
const (
	BuildersHireCompleted = "hire_completed"
	BuildersConsultation  = "consultation"
)

// Points is what a record of kind earns before caps (0: nothing, as when the policy is off).
func (b BuildersRules) Points(kind string) int64 {
	if !b.Enabled {
		return 0
	}
	switch kind {
	case BuildersHireCompleted:
		return b.HireCompleted
	case BuildersConsultation:
		return b.Consultation
	}
	return 0
}

// BuildersRecord is what a builders_record tells the accrual: the record's key (BLDREC#<kind>#<event
// id>, unique per event), its kind, the worker and its time.
type BuildersRecord struct {
	RecordID string
	Kind     string
	Sub      string
	At       time.Time
}

// BuildersKey locates a builders' award's ledger entry: the record's key, the worker and the record's time.
func BuildersKey(recordID, sub string, at time.Time) Award {
	return Award{RecordID: recordID, Sub: sub, Rule: RuleBuilders, At: at.UTC()}
}

// GrantBuilders applies the award of a builders' record to p: pts points under the caps, no merit. p is
// not modified.
func GrantBuilders(p Profile, r BuildersRecord, pts int64, rules Rules, tz *time.Location) (Award, Profile, Entry) {
	local := r.At.In(tz)
	n := p
	granted, debtPaid, net := credit(&n, pts, rules, local.Format("2006-01-02"), local.Format("2006-01"))
	n.Version++
	a := BuildersKey(r.RecordID, p.Sub, r.At)
	a.Points, a.Granted, a.DebtPaid = pts, granted, debtPaid
	what := "a completed hire"
	if r.Kind == BuildersConsultation {
		what = "a consultation"
	}
	note := fmt.Sprintf("%d points for %s (builders' home)", granted, what)
	if granted < pts {
		note += fmt.Sprintf(" (capped from %d)", pts)
	}
	if debtPaid > 0 {
		note += fmt.Sprintf(", %d paid toward debt", debtPaid)
	}
	return a, n, Entry{ID: a.EntryID(), At: a.At, Delta: net, Kind: KindBuildersAward, Note: note}
}

// OnBuildersRecord applies a builders' record once: when the policy pays its kind, the worker is awarded
// under the caps, the award's identity being the record's key (its ledger entry's key: a redelivery finds
// it taken and writes nothing). It returns the award when this call granted one. With the policy off (or
// a kind it does not pay) nothing is read but the rules and nothing is written.
func (s *Service) OnBuildersRecord(ctx context.Context, r BuildersRecord) (*Award, error) {
	if r.RecordID == "" || r.Sub == "" || r.At.IsZero() {
		return nil, fmt.Errorf("builders record %q of %q at %v: no record id, worker or time", r.RecordID, r.Sub, r.At)
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	pts := rules.BuildersRules().Points(r.Kind)
	if pts <= 0 {
		return nil, nil
	}
	applied := true
	var award Award
	err = s.retry(ctx, func() error {
		p, err := s.store.Profile(ctx, r.Sub)
		if err != nil {
			return err
		}
		a, n, e := GrantBuilders(p, r, pts, rules, s.tz)
		n.TouchedAt = s.now()
		err = s.store.ApplyAward(ctx, a, n, p.Version, e)
		applied = !errors.Is(err, ErrAlreadyApplied)
		award = a
		return err
	})
	if err != nil || !applied {
		return nil, err
	}
	return &award, nil
}
