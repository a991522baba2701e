package points

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// VolunteerRules are how confirmed volunteer service earns: points per hour (of the credited minutes,
// rounded down to a whole point), merit per whole hour, and star ratings (星级志愿者) as honors when the
// cumulative hours reach a threshold. The daily and monthly caps are the reports' (Rules).
type VolunteerRules struct {
	PointsPerHour int64   `json:"pointsPerHour"`
	MeritPerHour  int64   `json:"meritPerHour"`
	Stars         []Honor `json:"stars"` // Threshold in hours of cumulative confirmed service
}

// DefaultVolunteerRules are Mengzi's: 5 points and 1 merit an hour; one to five stars at 100, 300, 600,
// 1,000 and 1,500 hours.
func DefaultVolunteerRules() VolunteerRules {
	return VolunteerRules{PointsPerHour: 5, MeritPerHour: 1, Stars: []Honor{
		{Title: "一星志愿者", Threshold: 100}, {Title: "二星志愿者", Threshold: 300}, {Title: "三星志愿者", Threshold: 600},
		{Title: "四星志愿者", Threshold: 1000}, {Title: "五星志愿者", Threshold: 1500},
	}}
}

// VolunteerRules returns the rules' volunteer part, the defaults when none was saved.
func (r Rules) VolunteerRules() VolunteerRules {
	if r.Volunteer == nil {
		return DefaultVolunteerRules()
	}
	return *r.Volunteer
}

// Bounds of the volunteer rules.
const (
	MaxStars              = 10
	MaxVolunteerPerHour   = 1000   // points an hour
	MaxVolunteerMerit     = 100    // merit an hour
	MaxStarHours          = 100000 // an hour threshold
	maxVolunteerHonorsAdd = MaxStars
)

// validate checks the volunteer rules; reportTitles are the report honors' titles, which a star title
// must not repeat (a profile holds each title once, so a shared one would be earned by either path).
func (v VolunteerRules) validate(reportTitles map[string]bool) error {
	if v.PointsPerHour < 0 || v.PointsPerHour > MaxVolunteerPerHour || v.MeritPerHour < 0 || v.MeritPerHour > MaxVolunteerMerit {
		return ErrInvalidRules.With("volunteer points per hour must be 0 to %d and merit per hour 0 to %d", MaxVolunteerPerHour, MaxVolunteerMerit)
	}
	if len(v.Stars) > MaxStars {
		return ErrInvalidRules.With("at most %d volunteer stars", MaxStars)
	}
	seen := map[string]bool{}
	for _, h := range v.Stars {
		if !ValidTitle(h.Title) || h.Threshold < 1 || h.Threshold > MaxStarHours || seen[h.Title] || reportTitles[h.Title] {
			return ErrInvalidRules.With("volunteer stars need distinct titles of 1-%d characters (not a report honor's) and 1 to %d hours", MaxTitle, MaxStarHours)
		}
		seen[h.Title] = true
	}
	return nil
}

// Points is what minutes of confirmed service earn before caps: whole points, rounded down.
func (v VolunteerRules) Points(minutes int64) int64 { return max(0, minutes) * v.PointsPerHour / 60 }

// Merit is what minutes of confirmed service earn in merit: per whole hour.
func (v VolunteerRules) Merit(minutes int64) int64 { return max(0, minutes) / 60 * v.MeritPerHour }

// VolunteerKey locates a volunteer award's ledger entry: (activity, user, revision) and the service
// record's time.
func VolunteerKey(activityID, sub string, revision int64, at time.Time) Award {
	return Award{ActivityID: activityID, Sub: sub, Rule: RuleVolunteer, Revision: revision, At: at.UTC()}
}

// GrantVolunteer applies the award of a confirmed service record — revision of sub's attendance of
// activityID, crediting minutes, at the record's time — to p: points and merit by the volunteer rules,
// capped like a report's award (the same daily and monthly counters), the minutes added to the profile's
// VolunteerMinutes, and every star whose hours the new total reaches. p is not modified.
func GrantVolunteer(p Profile, activityID string, revision, minutes int64, rules Rules, at time.Time, tz *time.Location) (Award, Profile, Entry) {
	v := rules.VolunteerRules()
	local := at.In(tz)
	n := p
	n.Honors = slices.Clone(p.Honors)
	pts, merit := v.Points(minutes), v.Merit(minutes)
	granted, debtPaid, net := credit(&n, pts, rules, local.Format("2006-01-02"), local.Format("2006-01"))
	n.Merit += merit
	n.VolunteerMinutes += max(0, minutes)
	for _, h := range v.Stars {
		if n.VolunteerMinutes >= h.Threshold*60 && !n.HasHonor(h.Title) && len(n.Honors) < len(p.Honors)+maxVolunteerHonorsAdd {
			n.Honors = append(n.Honors, EarnedHonor{Title: h.Title, At: at.UTC()})
		}
	}
	n.Version++
	a := VolunteerKey(activityID, p.Sub, revision, at)
	a.Points, a.Granted, a.DebtPaid, a.Merit, a.Minutes = pts, granted, debtPaid, merit, max(0, minutes)
	note := fmt.Sprintf("%d points for %s h of volunteer service", granted, hours(a.Minutes))
	if granted < pts {
		note += fmt.Sprintf(" (capped from %d)", pts)
	}
	if debtPaid > 0 {
		note += fmt.Sprintf(", %d paid toward debt", debtPaid)
	}
	return a, n, Entry{ID: a.EntryID(), At: a.At, Delta: net, Kind: KindVolunteerAward, ActivityID: activityID, Note: note}
}

// hours renders minutes as hours with up to two decimals (credited minutes are whole quarters).
func hours(minutes int64) string {
	s := fmt.Sprintf("%.2f", float64(minutes)/60)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// ReverseVolunteer takes back what the volunteer award a granted, at time at: from the balance as far as
// it goes (the rest becomes debt, as for a report), its merit and its minutes. Unlike a report's
// reversal it also gives back the cap room the award used when it still counts in the profile's current
// day or month: a revision replaces its predecessor, and the replacement must not be capped by the very
// award it replaces. Stars already earned are kept, as report honors are: a title once shown is not
// taken back, and the star of a revision that replaces it is usually earned again at once.
func ReverseVolunteer(p Profile, a Award, at time.Time, tz *time.Location) (Profile, Entry) {
	n := p
	taken := min(p.Balance, a.Granted)
	n.Balance -= taken
	n.Debt += a.Granted - taken
	n.LifetimeEarned -= a.Granted
	n.Merit = max(0, n.Merit-a.Merit)
	n.VolunteerMinutes = max(0, n.VolunteerMinutes-a.Minutes)
	local := a.At.In(tz)
	if local.Format("2006-01-02") == n.Day {
		n.DayEarned = max(0, n.DayEarned-a.Granted)
	}
	if local.Format("2006-01") == n.Month {
		n.MonthEarned = max(0, n.MonthEarned-a.Granted)
	}
	n.Version++
	note := fmt.Sprintf("service hours of revision %d withdrawn: %d points reversed", a.Revision, a.Granted)
	if a.Granted > taken {
		note += fmt.Sprintf(", %d owed as debt", a.Granted-taken)
	}
	return n, Entry{ID: "reversal-" + a.ID(), At: at.UTC(), Delta: -taken, Kind: KindVolunteerReversal, ActivityID: a.ActivityID, Note: note}
}

// Service record kinds (volunteer.RecordConfirmed, volunteer.RecordRevoked: points does not import the
// volunteer package, which its every user would link).
const (
	RecordConfirmed = "confirmed"
	RecordRevoked   = "revoked"
)

// ServiceRecord is what a volunteer service record tells the accrual: revision Revision of Sub's
// attendance of ActivityID was confirmed with Minutes (Kind RecordConfirmed) or revoked, at At; PrevAt is
// the time of the previous revision's record (zero for revision 1).
type ServiceRecord struct {
	ActivityID string
	Sub        string
	Revision   int64
	Kind       string
	Minutes    int64
	At         time.Time
	PrevAt     time.Time
}

// ServiceOutcome is what OnServiceRecord did.
type ServiceOutcome struct {
	Done     bool   // the record had been fully applied before (a redelivery): nothing was written or exported
	Award    *Award // the revision's award, when this call granted it
	Reversed bool   // the previous revision's award was reversed (or its identity taken by a placeholder) now
}

// OnServiceRecord applies a service record exactly once: a confirmed record of revision r reverses the
// award of revision r−1 (at the record's PrevAt) when r > 1 and grants revision r's (at At); a revoked
// record reverses revision r−1's. Each award's identity is (activity, user, revision), so a redelivery
// writes nothing; a reversal that comes before its award (records delivered out of order) leaves a
// reversed placeholder under the award's identity, so the late award grants nothing — and the revisions
// end with only the last one's points.
//
// export, when not nil, is called before the record's last write (the commit a redelivery recognises: the
// award of revision r for a confirmation, the reversal of r−1 for a revocation), so it is called at least
// once per record and, after the record was fully applied, never again. One BatchGetItem reads both
// awards first.
func (s *Service) OnServiceRecord(ctx context.Context, r ServiceRecord, export func(context.Context) error) (ServiceOutcome, error) {
	var out ServiceOutcome
	if r.Kind != RecordConfirmed && r.Kind != RecordRevoked || r.Revision < 1 || r.At.IsZero() {
		return out, fmt.Errorf("service record %s/%s r%d: kind %q at %v is not a record the accrual knows", r.ActivityID, r.Sub, r.Revision, r.Kind, r.At)
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return out, err
	}
	var keys []Award
	own := VolunteerKey(r.ActivityID, r.Sub, r.Revision, r.At)
	if r.Kind == RecordConfirmed {
		keys = append(keys, own)
	}
	prev := VolunteerKey(r.ActivityID, r.Sub, r.Revision-1, r.PrevAt)
	hasPrev := r.Revision > 1 && !r.PrevAt.IsZero()
	if hasPrev {
		keys = append(keys, prev)
	}
	var found []Award
	if len(keys) > 0 {
		if found, err = s.store.Awards(ctx, keys); err != nil {
			return out, err
		}
	}
	ownAward, prevAward := pick(found, own), pick(found, prev)
	switch {
	case r.Kind == RecordConfirmed:
		// A placeholder (a later revision's record came first) is this record's commit only once settled.
		out.Done = ownAward != nil && (!ownAward.Placeholder || ownAward.Settled)
	case hasPrev:
		out.Done = prevAward != nil && prevAward.Reversed
	}
	if out.Done {
		return out, nil
	}
	if export != nil {
		if err := export(ctx); err != nil {
			return out, err
		}
	}
	if hasPrev {
		if out.Reversed, err = s.reverseVolunteer(ctx, prev, prevAward, r.At); err != nil {
			return out, err
		}
	}
	if r.Kind != RecordConfirmed {
		return out, nil
	}
	if ownAward != nil {
		// A later revision's record came first and its placeholder holds this award's identity: nothing
		// to grant; settling it records that this record was exported.
		return out, s.store.SettlePlaceholder(ctx, own)
	}
	applied := true
	var award Award
	err = s.retry(ctx, func() error {
		p, err := s.store.Profile(ctx, r.Sub)
		if err != nil {
			return err
		}
		a, n, e := GrantVolunteer(p, r.ActivityID, r.Revision, r.Minutes, rules, r.At, s.tz)
		n.TouchedAt = s.now()
		err = s.store.ApplyAward(ctx, a, n, p.Version, e)
		applied = !errors.Is(err, ErrAlreadyApplied)
		award = a
		return err
	})
	if err == nil && applied {
		out.Award = &award
	}
	return out, err
}

// pick finds the award with key's identity in found.
func pick(found []Award, key Award) *Award {
	for i, a := range found {
		if a.Rule == RuleVolunteer && a.ID() == key.ID() {
			return &found[i]
		}
	}
	return nil
}

// reverseVolunteer reverses the award at key (found: as read, nil when absent) once: absent, a reversed
// placeholder takes its identity; a placeholder refused because the award landed meanwhile is read
// again and reversed. It reports whether this call wrote the reversal or the placeholder.
func (s *Service) reverseVolunteer(ctx context.Context, key Award, found *Award, at time.Time) (bool, error) {
	for range 3 {
		if found == nil {
			ph := key
			ph.Reversed, ph.Placeholder = true, true
			err := s.store.PutPlaceholder(ctx, ph)
			if err == nil {
				return true, nil
			}
			if !errors.Is(err, ErrAlreadyApplied) {
				return false, err
			}
			again, err := s.store.Awards(ctx, []Award{key})
			if err != nil {
				return false, err
			}
			found = pick(again, key)
			continue
		}
		if found.Reversed {
			return false, nil
		}
		a := *found
		wrote := true
		err := s.retry(ctx, func() error {
			p, err := s.store.Profile(ctx, a.Sub)
			if err != nil {
				return err
			}
			n, e := ReverseVolunteer(p, a, at, s.tz)
			n.TouchedAt = s.now()
			err = s.store.ApplyReversal(ctx, a, n, p.Version, e)
			wrote = !errors.Is(err, ErrAlreadyApplied)
			return err
		})
		return wrote && err == nil, err
	}
	return false, fmt.Errorf("award %s: its identity is taken but it cannot be read", key.ID())
}

// VolunteerRegistry is the recipient id of the service records' export, a configured department that
// only receives webhooks (no report is routed to it): the national volunteer service system
// (全国志愿服务信息系统).
const VolunteerRegistry = "volunteer_registry"
