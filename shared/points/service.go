package points

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/ttl"
)

// Store errors the service reacts to.
var (
	// ErrAlreadyApplied: the award (or reversal) with this identity was written before — a redelivery.
	ErrAlreadyApplied = apperr.New(apperr.Conflict, "already_applied", "this award was already applied")
	// ErrVersionConflict: the profile changed since it was read; read again and retry.
	ErrVersionConflict = apperr.New(apperr.Conflict, "version_conflict", "the profile changed meanwhile")
)

// Store keeps profiles, awards and ledgers.
type Store interface {
	PointRules(ctx context.Context) (Rules, bool, error)
	PutPointRules(ctx context.Context, r Rules) error
	// Profile returns the profile, or a zero profile (Version 0) for a user without one.
	Profile(ctx context.Context, sub string) (Profile, error)
	// CreateProfile creates an empty profile unless one exists, and returns the stored profile.
	CreateProfile(ctx context.Context, sub string, at time.Time) (Profile, error)
	// ApplyAward writes the profile (if its version is still prev) and the ledger entry e, which records
	// the award and whose key is its identity, in one transaction: ErrAlreadyApplied if that entry exists,
	// ErrVersionConflict if the profile changed.
	ApplyAward(ctx context.Context, a Award, p Profile, prev int64, e Entry) error
	// ApplyReversal marks the award's entry reversed (once: ErrAlreadyApplied), writes the profile and the
	// reversal's ledger entry e.
	ApplyReversal(ctx context.Context, a Award, p Profile, prev int64, e Entry) error
	// PutPlaceholder records a reversed, empty award under a's identity (a's ledger entry key) unless one
	// exists (ErrAlreadyApplied). It changes no balance and is not listed in the ledger.
	PutPlaceholder(ctx context.Context, a Award) error
	// SettlePlaceholder marks the placeholder at a's identity settled: the record whose award it stands
	// for came and was handled (a volunteer record's export). Settling twice is settling once.
	SettlePlaceholder(ctx context.Context, a Award) error
	// Awards returns the awards (or placeholders) found at the given keys (AwardKey); missing ones are left
	// out.
	Awards(ctx context.Context, keys []Award) ([]Award, error)
	// DuplicateReporters returns the reporters of reports linked as duplicates of reportID.
	DuplicateReporters(ctx context.Context, reportID string) ([]DuplicateRef, error)
	Ledger(ctx context.Context, sub string, limit int, cursor string) ([]Entry, string, error)
	// TouchedUsers lists users with ledger entries timed on a local day (reconciler input; a user may be
	// listed more than once).
	TouchedUsers(ctx context.Context, day string, limit int, cursor string) ([]string, string, error)
	// LedgerSum adds up a user's ledger.
	LedgerSum(ctx context.Context, sub string) (int64, error)
	// CheckpointedSum adds up a user's ledger from the reconciler's checkpoint, reading only the entries
	// after it, and moves the checkpoint over the entries timed before settled; rebuild reads the whole
	// ledger and replaces the checkpoint.
	CheckpointedSum(ctx context.Context, sub string, settled time.Time, rebuild bool) (int64, error)
	// Repair sets the profile's balance (version-checked) and appends the reconcile entry.
	Repair(ctx context.Context, p Profile, prev int64, e Entry) error
}

// DuplicateRef is a duplicate report and its reporter.
type DuplicateRef struct {
	ReportID    string
	ReporterSub string
}

// Resolved is a report that reached resolved.
type Resolved struct {
	ID          string
	ReporterSub string
	Category    string
	At          time.Time
}

// Service awards and reverses points.
type Service struct {
	store    Store
	catPts   func(ctx context.Context, category string) (int64, error)
	tz       *time.Location
	now      func() time.Time
	rulesTTL time.Duration

	mu       sync.Mutex
	rules    Rules
	rulesAt  time.Time
	rulesSet bool
}

// NewService returns a Service. catPts gives a category's default points.
func NewService(store Store, catPts func(context.Context, string) (int64, error), tz *time.Location, now func() time.Time) *Service {
	return &Service{store: store, catPts: catPts, tz: tz, now: now, rulesTTL: time.Minute}
}

// WithRulesTTL sets how long the rules are cached per container.
func (s *Service) WithRulesTTL(ttl time.Duration) *Service {
	s.rulesTTL = ttl
	return s
}

// Rules returns the point rules (defaults until an admin saves some), cached for a minute.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rulesSet && ttl.Fresh(s.rulesAt, s.now(), s.rulesTTL) {
		return s.rules, nil
	}
	r, ok, err := s.store.PointRules(ctx)
	if err != nil {
		return Rules{}, err
	}
	if !ok {
		r = DefaultRules()
	}
	s.rules, s.rulesAt, s.rulesSet = r, s.now(), true
	return r, nil
}

// PutRules validates and saves rules.
func (s *Service) PutRules(ctx context.Context, r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := s.store.PutPointRules(ctx, r); err != nil {
		return err
	}
	s.mu.Lock()
	s.rulesSet = false
	s.mu.Unlock()
	return nil
}

// maxTries bounds the tries of one write: version conflicts on one profile are rare (each retry re-reads
// it), and transient store failures are retried with backoff only while the invocation has time.
const maxTries = 25

// Backoff of transient store failures (contention, throttling, an unknown outcome): full jitter, doubling
// from retryBase up to retryCap. reserve is the time kept back from the invocation's deadline to report a
// failure, so the stream record is retried by Lambda rather than lost to a timeout.
const (
	retryBase = 20 * time.Millisecond
	retryCap  = time.Second
	reserve   = 300 * time.Millisecond
)

// OnResolved awards the reporter of a resolved report, and (if the rules say so) the reporters of its
// duplicates. Exactly once per (report, user, rule): a redelivery finds the award record and does nothing.
func (s *Service) OnResolved(ctx context.Context, r Resolved) error {
	_, err := s.Resolve(ctx, r)
	return err
}

// Granted is what a resolution's awards wrote in one call of Resolve. Complete says it is the whole
// answer: every award was applied by this call (or its citizen earns no points), so Own, Honors and
// Confirmations are what a read would find. It is false when some award had been applied before (a
// redelivery, a revocation's placeholder) and the readers must read the awards.
type Granted struct {
	Complete      bool
	Own           *Award        // the reporter's award; nil when the reporter earns no points
	Honors        []EarnedHonor // the reporter's honors after the award (with Own)
	Confirmations []Award       // the duplicates' reporters' awards (when confirmation awards are on)
}

// Resolve is OnResolved, returning what it granted, so that the resolution's notices need no reads when
// it is Complete.
func (s *Service) Resolve(ctx context.Context, r Resolved) (Granted, error) {
	var g Granted
	rules, err := s.Rules(ctx)
	if err != nil {
		return g, err
	}
	pts, ok := rules.CategoryPoints[r.Category]
	if !ok {
		if pts, err = s.catPts(ctx, r.Category); err != nil {
			return g, err
		}
	}
	applied, own, p, err := s.grant(ctx, r.ReporterSub, r.ID, RuleReport, pts, rules.MeritPerReport, rules, r.At)
	if err != nil {
		return g, err
	}
	g.Complete = applied || !EarnsPoints(r.ReporterSub)
	if applied {
		g.Own, g.Honors = &own, p.Honors
	}
	if rules.DuplicateAward <= 0 {
		return g, nil // no confirmation awards: not even the query
	}
	if !applied {
		// A redelivery, or the revocation was delivered first and its placeholder holds the award's
		// identity: a revoked report confirms nothing, so its duplicates' reporters earn nothing either.
		awards, err := s.store.Awards(ctx, []Award{AwardKey(r.ID, r.ReporterSub, RuleReport, r.At)})
		if err != nil {
			return g, err
		}
		if slices.ContainsFunc(awards, func(a Award) bool { return a.Sub == r.ReporterSub && a.Rule == RuleReport && a.Reversed }) {
			return g, nil
		}
	}
	dups, err := s.store.DuplicateReporters(ctx, r.ID)
	if err != nil {
		return g, err
	}
	for _, d := range dups {
		applied, a, _, err := s.grant(ctx, d.ReporterSub, r.ID, RuleConfirm, rules.DuplicateAward, 0, rules, r.At)
		if err != nil {
			return g, err
		}
		if applied {
			g.Confirmations = append(g.Confirmations, a)
		} else if EarnsPoints(d.ReporterSub) {
			g.Complete = false
		}
	}
	return g, nil
}

// grant applies one award; applied is false when its identity was already taken (nothing was written).
// When applied, award and profile are what it wrote.
func (s *Service) grant(ctx context.Context, sub, reportID, rule string, pts, merit int64, rules Rules, at time.Time) (applied bool, award Award, profile Profile, err error) {
	if !EarnsPoints(sub) {
		return false, Award{}, Profile{}, nil // nothing written: as for an award already applied, a revocation's placeholder still counts
	}
	applied = true
	err = s.retry(ctx, func() error {
		p, err := s.store.Profile(ctx, sub)
		if err != nil {
			return err
		}
		a, n, e := Grant(p, reportID, rule, pts, merit, rules, at, s.tz)
		err = s.store.ApplyAward(ctx, a, n, p.Version, e)
		if errors.Is(err, ErrAlreadyApplied) {
			applied = false
		}
		award, profile = a, n
		return err
	})
	return applied, award, profile, err
}

// Revoked is a resolved report that an admin revoked.
type Revoked struct {
	ID          string
	ReporterSub string
	ResolvedAt  time.Time // the resolution's time: its awards' time, which places their ledger entries
	At          time.Time // the revocation's
}

// OnRevoked reverses every award of a revoked report, exactly once each: the reporter's and those of the
// reporters of its duplicates (confirmation awards), found at their keys. If the reporter's award does
// not exist yet (the revocation was delivered before the resolution, e.g. after a retry), a reversed
// placeholder takes the award's identity, so the late resolution finds it taken and awards nothing.
func (s *Service) OnRevoked(ctx context.Context, r Revoked) error {
	if r.ResolvedAt.IsZero() {
		return fmt.Errorf("revoked report %s has no resolution time: its awards cannot be located", r.ID)
	}
	dups, err := s.store.DuplicateReporters(ctx, r.ID)
	if err != nil {
		return err
	}
	keys := []Award{AwardKey(r.ID, r.ReporterSub, RuleReport, r.ResolvedAt)}
	for _, d := range dups {
		keys = append(keys, AwardKey(r.ID, d.ReporterSub, RuleConfirm, r.ResolvedAt))
	}
	return s.reverseAll(ctx, r, keys)
}

func (s *Service) reverseAll(ctx context.Context, r Revoked, keys []Award) error {
	awards, err := s.store.Awards(ctx, keys)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(awards, func(a Award) bool { return a.Sub == r.ReporterSub && a.Rule == RuleReport }) {
		placeholder := keys[0]
		placeholder.Reversed = true
		err := s.store.PutPlaceholder(ctx, placeholder)
		if errors.Is(err, ErrAlreadyApplied) { // the award landed meanwhile: read again and reverse it
			return s.reverseAll(ctx, r, keys)
		}
		if err != nil {
			return err
		}
	}
	for _, a := range awards {
		if a.Reversed {
			continue
		}
		err := s.retry(ctx, func() error {
			p, err := s.store.Profile(ctx, a.Sub)
			if err != nil {
				return err
			}
			n, e := Reverse(p, a, r.At)
			n.TouchedAt = s.now()
			return s.store.ApplyReversal(ctx, a, n, p.Version, e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// retry runs fn until it succeeds, finds its work already done, or fails otherwise. What it retries, per
// cause:
//   - a version conflict (the profile changed since it was read): at once, after a pause of 1–20 ms;
//   - a transient store failure — a transaction conflict (apperr.ErrContention), throttling
//     (apperr.ErrThrottled), a call whose outcome is unknown (apperr.ErrOutcomeUnknown: fn re-reads and
//     the award's identity makes a second apply a no-op) or DynamoDB unavailable: with exponential backoff
//     and full jitter, while the context's deadline leaves time for the pause and the reserve.
//
// When the time or the tries run out the error is returned: the stream consumer reports the record as a
// batch item failure and Lambda delivers it again, which is safe for the same reason.
func (s *Service) retry(ctx context.Context, fn func() error) error {
	var err error
	for try := range maxTries {
		err = fn()
		var pause time.Duration
		switch {
		case err == nil, errors.Is(err, ErrAlreadyApplied):
			return nil
		case errors.Is(err, ErrVersionConflict):
			pause = time.Duration(rand.IntN(20)+1) * time.Millisecond
		case apperr.KindOf(err) == apperr.Unavailable:
			pause = time.Duration(rand.Int64N(int64(min(retryCap, retryBase<<min(try, 10))))) + time.Millisecond
		default:
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pause+reserve {
			return fmt.Errorf("no time left to retry: %w", err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
	}
	if errors.Is(err, ErrVersionConflict) {
		return fmt.Errorf("profile kept changing: %w", err)
	}
	return fmt.Errorf("gave up after %d tries: %w", maxTries, err)
}

// Me returns the caller's profile, creating it on first use.
func (s *Service) Me(ctx context.Context, sub string) (Profile, error) {
	p, err := s.store.Profile(ctx, sub)
	if err != nil {
		return Profile{}, err
	}
	if p.Version > 0 {
		return p, nil
	}
	return s.store.CreateProfile(ctx, sub, s.now())
}

// Ledger returns the caller's ledger, newest first.
func (s *Service) Ledger(ctx context.Context, sub string, limit int, cursor string) ([]Entry, string, error) {
	return s.store.Ledger(ctx, sub, limit, cursor)
}

// Reconciliation counts what a run did.
type Reconciliation struct {
	Checked  int `json:"checked"`
	Repaired int `json:"repaired"`
}

// Reconcile recomputes the balance of every user with ledger entries on the given days (local,
// YYYY-MM-DD) from their ledger, each user once. The
// ledger is the record of truth: a balance that differs is set to the ledger's sum, with a reconcile entry
// (delta 0, the correction in its note) so the repair is visible in the user's history. Memory is bounded:
// users are read a page at a time.
func (s *Service) Reconcile(ctx context.Context, days ...string) (Reconciliation, error) {
	var res Reconciliation
	seen := map[string]bool{}
	for _, day := range days {
		if err := s.reconcileDay(ctx, day, seen, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Service) reconcileDay(ctx context.Context, day string, seen map[string]bool, res *Reconciliation) error {
	cursor := ""
	for {
		subs, next, err := s.store.TouchedUsers(ctx, day, 100, cursor)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if seen[sub] {
				continue
			}
			seen[sub] = true
			repaired, err := s.reconcileOne(ctx, sub)
			if err != nil {
				return fmt.Errorf("reconcile %s: %w", sub, err)
			}
			res.Checked++
			if repaired {
				res.Repaired++
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// ledgerSettle bounds how long after its own time a ledger entry can be written: an award carries its
// resolution's time and accrual drops stream records older than a day (MaximumRecordAgeInSeconds 86400),
// so two days leave a margin. The reconciler's checkpoint covers only entries older than that.
const ledgerSettle = 48 * time.Hour

func (s *Service) reconcileOne(ctx context.Context, sub string) (bool, error) {
	repaired := false
	err := s.retry(ctx, func() error {
		p, err := s.store.Profile(ctx, sub)
		if err != nil {
			return err
		}
		settled := s.now().Add(-ledgerSettle)
		sum, err := s.store.CheckpointedSum(ctx, sub, settled, false)
		if err != nil {
			return err
		}
		if sum != p.Balance {
			// Before repairing, the whole ledger: an entry written later than ledgerSettle after its own
			// time would be missing from the checkpoint (this also rebuilds it).
			if sum, err = s.store.CheckpointedSum(ctx, sub, settled, true); err != nil {
				return err
			}
		}
		if sum == p.Balance {
			return nil
		}
		now := s.now().UTC()
		n := p
		n.Balance = sum
		n.Version++
		n.TouchedAt = now
		e := Entry{ID: fmt.Sprintf("reconcile-%d", now.UnixNano()), At: now, Delta: 0, Kind: KindReconcile,
			Note: fmt.Sprintf("balance corrected from %d to the ledger's %d", p.Balance, sum)}
		if err := s.store.Repair(ctx, n, p.Version, e); err != nil {
			return err
		}
		repaired = true
		return nil
	})
	return repaired, err
}

// ApplicationOwnerPrefix begins the reporter of a report that an Open311 client application filed on its
// own account (report.ApplicationOwnerPrefix): such a report earns no one points, nor do its duplicates
// earn its reporter a confirmation award.
const ApplicationOwnerPrefix = "open311-"

// EarnsPoints reports whether sub is a person who can earn points.
func EarnsPoints(sub string) bool { return !strings.HasPrefix(sub, ApplicationOwnerPrefix) }
