// Package report is the heart of civicsnap: a citizen's report of a problem in the street, its categories,
// the rules a new report must satisfy, and the service that files reports and shows them to the people
// allowed to see them.
package report

import (
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// Status is where a report stands in its lifecycle.
type Status string

// Lifecycle: submitted → dispatched → accepted → in_progress → resolved, with side exits.
const (
	Submitted   Status = "submitted"
	Dispatched  Status = "dispatched"
	Accepted    Status = "accepted"
	InProgress  Status = "in_progress"
	Resolved    Status = "resolved"
	Duplicate   Status = "duplicate"
	NeedsTriage Status = "needs_triage"
	Rejected    Status = "rejected"
	Revoked     Status = "revoked"
)

// Location is a WGS-84 point.
type Location struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Photo is a photo stored under a report.
type Photo struct {
	Key         string `json:"key"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	// MetadataStripped is false only for a content type the stripper does not know (none of the accepted
	// four); a photo whose metadata cannot be removed is refused (photo_metadata_unremovable).
	MetadataStripped bool `json:"metadataStripped"`
	// VersionID is the stored version that was checked (and stripped): every reader asks for it, so a later
	// upload to the same key changes nothing a report shows. "" for photos stored before issue 11
	// (reports/<id>/…), which are read as they are.
	VersionID string `json:"versionId,omitempty" dynamodbav:"VersionID,omitempty"`

	written bool // this request wrote the version (a stripped photo): DeletePhotos undoes it
}

// TimelineEntry is one change in a report's life, as the public may see it.
type TimelineEntry struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Actor  string    `json:"actor"` // "citizen", "system", or a department id
	Note   string    `json:"note,omitempty"`
	// Inbound is "<dept>#<webhook-id>" of the signed event that made the change (stored with it, so a
	// replay is recognised); not shown.
	Inbound string `json:"-"`
}

// Report is a citizen's report. ReporterSub is private: it is shown only to the reporter and admins.
type Report struct {
	ID          string          `json:"id"`
	Status      Status          `json:"status"`
	Category    string          `json:"category"`
	Description string          `json:"description"`
	Location    Location        `json:"location"`
	Address     string          `json:"address,omitempty"`
	Photos      []Photo         `json:"photos"`
	Anonymous   bool            `json:"anonymous"`
	Public      *bool           `json:"public,omitempty"` // false: filed as not public (Private); nil: public
	ReporterSub string          `json:"reporter,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	Timeline    []TimelineEntry `json:"timeline,omitempty"`

	// Set by dispatch and departments.
	LeadDept     string       `json:"leadDept,omitempty"`
	DuplicateOf  string       `json:"duplicateOf,omitempty"`
	RejectReason string       `json:"rejectReason,omitempty"`
	ProofPhotos  []Photo      `json:"proofPhotos,omitempty"`
	ResolvedAt   *time.Time   `json:"resolvedAt,omitempty"`
	Assignments  []Assignment `json:"assignments,omitempty"`

	// Feedback is the reporter's answer to the resolution (confirm.go), once there is one.
	Feedback *Feedback `json:"feedback,omitempty"`
}

// Private reports whether r's reporter filed it as not public: such a report is never on the public map
// (it has no map index entry), in Open311's keyless answers, or open to "me too".
func (r Report) Private() bool { return r.Public != nil && !*r.Public }

// PublicFlag is how a report records the public choice of its filing: nil for public (the default, stored
// as nothing), false for not public.
func PublicFlag(public *bool) *bool {
	if public == nil || *public {
		return nil
	}
	f := false
	return &f
}

// Assignment returns dept's assignment, if it has an open one.
func (r Report) Assignment(dept string) (Assignment, bool) {
	for _, a := range r.Assignments {
		if a.Dept == dept && !a.Closed {
			return a, true
		}
	}
	return Assignment{}, false
}

// CanView reports whether p may see r at all: the reporter, staff and admins may; any other citizen may not
// (and is told the report does not exist, so ids cannot be probed).
func (r Report) CanView(p auth.Principal) bool {
	return p.Sub != "" && (p.Sub == r.ReporterSub || p.Any(auth.Staff, auth.Admin))
}

// For returns the report as p may see it: the reporter's identity is removed for everyone but the reporter
// and admins.
func (r Report) For(p auth.Principal) Report {
	if p.Sub != r.ReporterSub && !p.Has(auth.Admin) {
		r.ReporterSub = ""
	}
	return r
}

// Category is a kind of problem, with the points a valid report earns and the hours departments have.
type Category struct {
	Code     string `json:"code"`
	NameZH   string `json:"nameZh"`
	NameEN   string `json:"nameEn"`
	Points   int    `json:"points"`
	SLAHours int    `json:"slaHours"`
	Active   bool   `json:"active"`
	// Open311 (open311.go): Group names the department family that handles the category (a department
	// id), Keywords help clients find it, Attributes are what a report of it asks for beyond the usual.
	Group      string      `json:"group,omitempty"`
	Keywords   []string    `json:"keywords,omitempty"`
	Attributes []Attribute `json:"attributes,omitempty"`
}
