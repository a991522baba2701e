package open311

import "github.com/civicsnap/civicsnap/shared/report"

// GeoReport's two statuses.
const (
	Open   = "open"
	Closed = "closed"
)

// StatusOf maps a report's status to GeoReport's open or closed: open while a department still has work
// to do (the command center's triage included), closed once resolved, rejected, a duplicate or revoked.
func StatusOf(s report.Status) string {
	if s.Open() {
		return Open
	}
	return Closed
}

// UpdateStatus maps a timeline entry — the status it moved the report to, and who moved it — to
// mySociety's extended statuses (lower case with '_', as FixMyStreet reads them). README's "Open311"
// section has the table.
func UpdateStatus(s report.Status, actor string) string {
	switch s {
	case report.Submitted, report.Dispatched:
		return Open
	case report.Accepted:
		return "action_scheduled"
	case report.InProgress:
		return "in_progress"
	case report.Resolved:
		return "fixed"
	case report.Duplicate:
		return "duplicate"
	case report.Rejected: // rejected as invalid by its lead
		return "no_further_action"
	case report.NeedsTriage:
		if actor == "system" {
			// No rule routed it: the command center looks into it.
			return "investigating"
		}
		// A department rejected it as not theirs: referred back to the command center.
		return "internal_referral"
	case report.Revoked:
		return Closed
	}
	return StatusOf(s)
}
