// Package points is 一拍三记 — one snap, three records: a valid report earns points (记分), merit (记功) and
// progress toward honor titles (记荣誉). Points are the honor supermarket's currency, so every change is
// computed here from the profile as read and written by the store only under a version condition, together
// with an append-only ledger entry whose key is the award's identity (report, user, rule, and the
// resolution's time), which makes a second delivery a no-op.
package points

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Honor is a title earned at a number of valid reports.
type Honor struct {
	Title     string `json:"title"`
	Threshold int64  `json:"threshold"`
}

// Rules are the accrual rules, edited by admins.
type Rules struct {
	CategoryPoints map[string]int64 `json:"categoryPoints,omitempty"` // overrides the category's default points
	DuplicateAward int64            `json:"duplicateAward"`           // to each reporter of a confirmed duplicate
	DailyCap       int64            `json:"dailyCap"`
	MonthlyCap     int64            `json:"monthlyCap"`
	MeritPerReport int64            `json:"meritPerReport"`
	Honors         []Honor          `json:"honors"`
	// Volunteer is how confirmed volunteer service earns (volunteer.go); nil keeps the defaults, so rules
	// saved before issue 15 need no migration.
	Volunteer *VolunteerRules `json:"volunteer,omitempty"`
	// Builders is the points policy of builders' home (builders.go); nil keeps the defaults (off).
	Builders *BuildersRules `json:"builders,omitempty"`
}

// DefaultRules are Mengzi's: caps of 50 a day and 500 a month, one merit per valid report, 文明市民 at 10
// valid reports and 文明之星 at 50.
func DefaultRules() Rules {
	return Rules{DailyCap: 50, MonthlyCap: 500, MeritPerReport: 1,
		Honors: []Honor{{Title: "文明市民", Threshold: 10}, {Title: "文明之星", Threshold: 50}}}
}

// ErrInvalidRules is returned for rules that make no sense.
var ErrInvalidRules = apperr.New(apperr.Invalid, "invalid_point_rules", "the point rules are not valid")

// Bounds of the rules.
const (
	MaxCategoryRules = 100
	MaxHonors        = 20
	MaxTitle         = 32 // characters of an honor title
)

// validCategoryCode reports whether c may be a category code: 1–64 of a–z, 0–9, '_' and '-'. Written by
// hand, not as a regular expression compiled at package init, which every function paid for in its cold
// start (issue 11); ids_test.go holds it equal to that pattern.
func validCategoryCode(c string) bool {
	return len(c) >= 1 && len(c) <= 64 && strings.IndexFunc(c, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-')
	}) < 0
}

// ValidTitle reports whether t may be an honor title: 1 to MaxTitle characters of valid UTF-8, no control
// characters.
func ValidTitle(t string) bool {
	if t == "" || !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxTitle {
		return false
	}
	return !strings.ContainsFunc(t, unicode.IsControl)
}

// Validate checks the rules.
func (r Rules) Validate() error {
	if r.DailyCap < 0 || r.MonthlyCap < 0 || r.DuplicateAward < 0 || r.MeritPerReport < 0 {
		return ErrInvalidRules.With("caps, awards and merit must not be negative")
	}
	if r.MonthlyCap < r.DailyCap {
		return ErrInvalidRules.With("the monthly cap must be at least the daily cap")
	}
	// The rules are one item and every profile holds the titles it earned: both stay small by these bounds.
	if len(r.CategoryPoints) > MaxCategoryRules || len(r.Honors) > MaxHonors {
		return ErrInvalidRules.With("at most %d category points and %d honors", MaxCategoryRules, MaxHonors)
	}
	for c, p := range r.CategoryPoints {
		if !validCategoryCode(c) {
			return ErrInvalidRules.With("a category code is 1-64 characters of a-z, 0-9, _ and -")
		}
		if p < 0 || p > 1000 {
			return ErrInvalidRules.With("points of %s must be 0 to 1000", c)
		}
	}
	seen := map[string]bool{}
	for _, h := range r.Honors {
		if !ValidTitle(h.Title) || h.Threshold < 1 || seen[h.Title] {
			return ErrInvalidRules.With("honors need distinct titles of 1-%d characters and thresholds of at least 1", MaxTitle)
		}
		seen[h.Title] = true
	}
	if err := r.VolunteerRules().validate(seen); err != nil {
		return err
	}
	return r.BuildersRules().validate()
}

// EarnedHonor is a title a citizen holds, with the day it was earned (or bought).
type EarnedHonor struct {
	Title string    `json:"title"`
	At    time.Time `json:"at"`
}

// Profile is a citizen's account. Version increments with every write; writes are conditional on it.
type Profile struct {
	Sub              string        `json:"sub"`
	Balance          int64         `json:"balance"`
	Merit            int64         `json:"merit"`
	ValidReports     int64         `json:"validReports"`
	VolunteerMinutes int64         `json:"volunteerMinutes"` // confirmed volunteer service, all revisions' latest
	Honors           []EarnedHonor `json:"honors"`
	LifetimeEarned   int64         `json:"lifetimeEarned"`
	LifetimeRedeemed int64         `json:"lifetimeRedeemed"`
	Debt             int64         `json:"debt"`
	Version          int64         `json:"-"`
	Day              string        `json:"-"` // the local day DayEarned counts
	DayEarned        int64         `json:"-"`
	Month            string        `json:"-"`
	MonthEarned      int64         `json:"-"`
	CreatedAt        time.Time     `json:"-"` // zero until the profile is first stored
	TouchedAt        time.Time     `json:"-"` // when this write happens (the reconciler's day), set by the service
	// The honor supermarket's per-user limits live on the profile, which every redemption writes anyway
	// (one item less per redemption): the local month LimitCounts counts (only that month's are kept),
	// the units bought per item in it, and the items bought once (honors). Points code only carries them.
	LimitMonth  string           `json:"-"`
	LimitCounts map[string]int64 `json:"-"`
	BoughtOnce  []string         `json:"-"`
}

// HasHonor reports whether the profile holds title.
func (p Profile) HasHonor(title string) bool {
	return slices.ContainsFunc(p.Honors, func(h EarnedHonor) bool { return h.Title == title })
}

// Ledger entry kinds.
const (
	KindAward      = "award"
	KindConfirm    = "duplicate_award"
	KindReversal   = "reversal"
	KindRedemption = "redemption"
	KindRefund     = "refund"
	KindReconcile  = "reconcile"
	// KindVolunteerAward and KindVolunteerReversal are a confirmed service record's award and the
	// reversal of a revision's award (a later revision or a revocation): see volunteer.go.
	KindVolunteerAward    = "volunteer_award"
	KindVolunteerReversal = "volunteer_reversal"
	// KindBuildersAward is a builders' home award (a completed hire, a consultation): builders.go.
	KindBuildersAward = "builders_award"
	RuleReport        = "report"    // the first valid reporter's award
	RuleConfirm       = "duplicate" // a duplicate's confirmation award
	RuleVolunteer     = "volunteer" // a confirmed attendance's award (volunteer.go)
	RuleBuilders      = "builders"  // a builders' record's award (builders.go)
	maxHonorsPerAdd   = 8
)

// Entry is one ledger line. Delta is the change to the balance; the ledger of a user sums to the balance.
type Entry struct {
	ID           string    `json:"id"`
	At           time.Time `json:"at"`
	Delta        int64     `json:"delta"`
	Kind         string    `json:"kind"`
	ReportID     string    `json:"reportId,omitempty"`
	RedemptionID string    `json:"redemptionId,omitempty"`
	ActivityID   string    `json:"activityId,omitempty"` // a volunteer award's or reversal's activity
	Note         string    `json:"note,omitempty"`
}

// Award is an award's identity and what it granted.
type Award struct {
	ReportID string    `json:"reportId"`
	Sub      string    `json:"sub"`
	Rule     string    `json:"rule"`
	Points   int64     `json:"points"`  // before caps
	Granted  int64     `json:"granted"` // after caps: what the citizen earned
	DebtPaid int64     `json:"debtPaid"`
	Merit    int64     `json:"merit"`
	At       time.Time `json:"at"`
	Reversed bool      `json:"reversed"`
	// A volunteer award (Rule RuleVolunteer) is of an attendance's revision instead of a report: its
	// identity is (activity, user, revision), and it carries the minutes it credited.
	ActivityID string `json:"activityId,omitempty"`
	Revision   int64  `json:"revision,omitempty"`
	Minutes    int64  `json:"minutes,omitempty"`
	// A builders' award (Rule RuleBuilders) is of a builders' record: its identity is the record's key.
	RecordID string `json:"recordId,omitempty"`
	// Placeholder: nothing was awarded; a reversal that came first holds the identity (store-set).
	// Settled: the record of a volunteer award found its placeholder and was exported (volunteer.go).
	Placeholder bool `json:"-"`
	Settled     bool `json:"-"`
}

// ID is the award's identity: (report, user, rule), or (activity, user, volunteer, revision).
func (a Award) ID() string {
	if a.Rule == RuleVolunteer {
		return a.ActivityID + "#" + a.Sub + "#" + RuleVolunteer + "#" + strconv.FormatInt(a.Revision, 10)
	}
	if a.Rule == RuleBuilders {
		return a.RecordID + "#" + a.Sub + "#" + RuleBuilders
	}
	return a.ReportID + "#" + a.Sub + "#" + a.Rule
}

// EntryID is the id of the award's ledger entry. The entry is keyed by the award's time (the
// resolution's, or the service record's, the same in every delivery of the record) and this id, so it is
// the award's identity record too: a second delivery finds the key taken.
func (a Award) EntryID() string { return "award-" + a.ID() }

// AwardKey locates an award's ledger entry: (report, user, rule) and the award's time.
func AwardKey(reportID, sub, rule string, at time.Time) Award {
	return Award{ReportID: reportID, Sub: sub, Rule: rule, At: at.UTC()}
}

// Grant applies an award of points (and merit) at time at to p and returns the award, the new profile and
// its ledger entry. Caps count in the city's local days and months; a debt left by a reversal is paid from
// the award first. p is not modified.
func Grant(p Profile, reportID, rule string, pts, merit int64, rules Rules, at time.Time, tz *time.Location) (Award, Profile, Entry) {
	local := at.In(tz)
	day, month := local.Format("2006-01-02"), local.Format("2006-01")
	n := p
	n.Honors = slices.Clone(p.Honors)
	granted, debtPaid, net := credit(&n, pts, rules, day, month)
	n.Merit += merit
	if rule == RuleReport {
		n.ValidReports++
		for _, h := range rules.Honors {
			if n.ValidReports >= h.Threshold && !n.HasHonor(h.Title) && len(n.Honors) < len(p.Honors)+maxHonorsPerAdd {
				n.Honors = append(n.Honors, EarnedHonor{Title: h.Title, At: at.UTC()})
			}
		}
	}
	n.Version++
	a := Award{ReportID: reportID, Sub: p.Sub, Rule: rule, Points: pts, Granted: granted, DebtPaid: debtPaid, Merit: merit, At: at.UTC()}
	kind := KindAward
	if rule == RuleConfirm {
		kind = KindConfirm
	}
	note := fmt.Sprintf("%d points", granted)
	if granted < pts {
		note += fmt.Sprintf(" (capped from %d)", pts)
	}
	if debtPaid > 0 {
		note += fmt.Sprintf(", %d paid toward debt", debtPaid)
	}
	e := Entry{ID: a.EntryID(), At: a.At, Delta: net, Kind: kind, ReportID: reportID, Note: note}
	return a, n, e
}

// credit adds pts, capped by the rules' daily and monthly caps on the local day and month given, to n:
// what is granted pays the debt first, the rest goes to the balance.
func credit(n *Profile, pts int64, rules Rules, day, month string) (granted, debtPaid, net int64) {
	// The counters only move forward: an award of an earlier day delivered late (another shard, a retry)
	// counts against the current ones. Moving them back would zero both days' counts and let an
	// interleaved backlog bypass the caps.
	if day > n.Day {
		n.Day, n.DayEarned = day, 0
	}
	if month > n.Month {
		n.Month, n.MonthEarned = month, 0
	}
	granted = max(0, min(pts, rules.DailyCap-n.DayEarned, rules.MonthlyCap-n.MonthEarned))
	debtPaid = min(granted, n.Debt)
	net = granted - debtPaid
	n.Balance += net
	n.Debt -= debtPaid
	n.LifetimeEarned += granted
	n.DayEarned += granted
	n.MonthEarned += granted
	return granted, debtPaid, net
}

// Reverse takes back what award a granted: from the balance as far as it goes, the rest becomes debt that
// later awards pay first. A balance never goes below zero. Honors already earned are kept.
func Reverse(p Profile, a Award, at time.Time) (Profile, Entry) {
	n := p
	taken := min(p.Balance, a.Granted)
	n.Balance -= taken
	n.Debt += a.Granted - taken
	n.LifetimeEarned -= a.Granted
	n.Merit = max(0, n.Merit-a.Merit)
	if a.Rule == RuleReport {
		n.ValidReports = max(0, n.ValidReports-1)
	}
	n.Version++
	note := fmt.Sprintf("report revoked: %d points reversed", a.Granted)
	if a.Granted > taken {
		note += fmt.Sprintf(", %d owed as debt", a.Granted-taken)
	}
	return n, Entry{ID: "reversal-" + a.ID(), At: at.UTC(), Delta: -taken, Kind: KindReversal, ReportID: a.ReportID, Note: note}
}
