package notify

import (
	"time"

	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// The business events a citizen hears about, from the images the stream consumers already see. Each
// notice's id comes from the user, the kind, the entity and the event's own time (never the stream
// record's id), so a record delivered twice makes the same notice.

// citizen reports whether sub is a person who has an inbox: an Open311 client application's reports
// belong to the application (points.EarnsPoints says the same of them).
func citizen(sub string) bool { return sub != "" && points.EarnsPoints(sub) }

// ReportChanged maps a report that entered status (from another one) to its reporter's notice:
// dispatched, accepted and reopened. Resolution is Resolved's (accrual knows the points); other
// statuses notify no one.
func ReportChanged(r report.Report, from report.Status) (Notice, bool) {
	var kind Kind
	switch {
	case r.Status == from:
		return Notice{}, false
	case r.Status == report.Dispatched:
		kind = ReportDispatched
	case r.Status == report.Accepted:
		kind = ReportAccepted
	case r.Status == report.Reopened:
		kind = ReportReopened
	default:
		return Notice{}, false
	}
	if !citizen(r.ReporterSub) {
		return Notice{}, false
	}
	at := r.UpdatedAt.UTC()
	return Notice{
		ID: NoticeID(r.ReporterSub, kind, r.ID, at), Sub: r.ReporterSub, Kind: kind, At: at,
		ReportID: r.ID, Category: r.Category, Dept: r.LeadDept,
	}, true
}

// Resolved maps a resolution to its reporter's notice: the first proof photo, and what the award granted
// and which honors it brought (award nil when none was made: caps, a revoked report, no points).
func Resolved(r report.Report, award *points.Award, honors []points.EarnedHonor) (Notice, bool) {
	if r.Status != report.Resolved || !citizen(r.ReporterSub) {
		return Notice{}, false
	}
	at := r.UpdatedAt.UTC()
	if r.ResolvedAt != nil {
		at = r.ResolvedAt.UTC()
	}
	n := Notice{
		ID: NoticeID(r.ReporterSub, ReportResolved, r.ID, at), Sub: r.ReporterSub, Kind: ReportResolved, At: at,
		ReportID: r.ID, Category: r.Category, Dept: r.LeadDept,
	}
	if len(r.ProofPhotos) > 0 {
		n.ProofPhotoKey = r.ProofPhotos[0].Key
	}
	if award != nil && !award.Reversed {
		n.Points = award.Granted
		for _, h := range honors {
			if h.At.Equal(award.At) {
				n.Honors = append(n.Honors, h.Title)
			}
		}
	}
	return n, true
}

// Confirmed maps a confirmation award (a duplicate's reporter, when the original is resolved) to its
// notice; an award that granted nothing tells nothing.
func Confirmed(a points.Award) (Notice, bool) {
	if a.Rule != points.RuleConfirm || a.Granted <= 0 || a.Reversed || !citizen(a.Sub) {
		return Notice{}, false
	}
	at := a.At.UTC()
	return Notice{
		ID: NoticeID(a.Sub, PointsAwarded, a.ReportID, at), Sub: a.Sub, Kind: PointsAwarded, At: at,
		ReportID: a.ReportID, Points: a.Granted,
	}, true
}

// RedemptionMade maps a new redemption to its notice: goods reserved for pickup (where, and until when).
// The pickup code is not in it: a push shows on a locked screen; the app shows the code.
func RedemptionMade(red market.Redemption) (Notice, bool) {
	if red.Kind != market.Goods || red.Status != market.Reserved || !citizen(red.Sub) {
		return Notice{}, false
	}
	at := red.CreatedAt.UTC()
	var exp *time.Time
	if red.ExpiresAt != nil {
		e := red.ExpiresAt.UTC()
		exp = &e
	}
	return Notice{
		ID: NoticeID(red.Sub, PickupReady, red.ID, at), Sub: red.Sub, Kind: PickupReady, At: at,
		RedemptionID: red.ID, ItemID: red.ItemID, PickupLocation: red.PickupAt, ExpiresAt: exp,
	}, true
}

// DefaultExpiryNoticeLead is how long before a reservation's pickup ends its redeemer is told.
const DefaultExpiryNoticeLead = 24 * time.Hour

// RedemptionExpiring maps goods still reserved for pickup, whose pickup ends within lead, to the
// "about to expire" notice: where, and until when. Its time is when it became due (the end less lead),
// so the sweep that finds it — this run or a later one, or again after a failure — makes the same id.
func RedemptionExpiring(red market.Redemption, lead time.Duration) (Notice, bool) {
	if red.Kind != market.Goods || red.Status != market.Reserved || red.ExpiresAt == nil || !citizen(red.Sub) {
		return Notice{}, false
	}
	exp := red.ExpiresAt.UTC()
	at := exp.Add(-lead).Truncate(time.Millisecond)
	return Notice{
		ID: NoticeID(red.Sub, PickupExpiring, red.ID, at), Sub: red.Sub, Kind: PickupExpiring, At: at,
		RedemptionID: red.ID, ItemID: red.ItemID, PickupLocation: red.PickupAt, ExpiresAt: &exp,
	}, true
}
