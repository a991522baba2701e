// Package volunteer is 志愿圈, the city's volunteer service: volunteer profiles (a citizen opts in; an
// organiser or admin verifies), teams with organisers, activities an organiser publishes (a time window, a
// place, a capacity with a waitlist), sign-ups, attendance checked in and out on the spot (the phone inside
// the place and the rotating code the organiser shows) and hours the organiser confirms, which earn points,
// merit and star ratings through the accrual path like a report does (shared/points).
//
// The types here are the contract between the domain (this package), its store (shared/dynamostore
// volunteer*.go), its HTTP edge (shared/httpapi volunteer*.go), the accrual of confirmed hours
// (functions/accrual) and the KPI roll-up (shared/kpi): README "Volunteers" holds the items and keys.
package volunteer

import (
	"encoding/json"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Bounds of what the service stores: every item has a size bound whatever the input.
const (
	MaxName        = 40   // characters of a volunteer's display name or a team's name
	MaxTitle       = 80   // characters of an activity's title
	MaxText        = 1000 // characters of a description, a place's name, a dispute's reason
	MaxSkills      = 10   // skills on a profile or wanted by an activity
	MaxSkill       = 32   // characters of one skill
	MaxTeams       = 20   // teams one volunteer may join
	MaxOrganisers  = 20   // organisers of one team
	MaxCapacity    = 1000 // places of one activity
	MaxWaitlist    = 1000 // waiters of one activity: its sign-ups stay within MaxCapacity + MaxWaitlist live ones
	MaxVertices    = 100  // of a polygon place
	MinRadiusM     = 20   // of a circular place
	MaxRadiusM     = 3000 // of a circular place
	MaxWindow      = 12 * time.Hour
	MaxOccurrences = 52 // shifts one recurring publication creates
)

// Team kinds: a registered volunteer group, a service team, or the team of a service kiosk or post (whose
// recurring shifts are its activities).
const (
	KindGroup       = "group"
	KindServiceTeam = "service_team"
	KindKiosk       = "kiosk"
	KindPost        = "post"
)

// Activity types: Mengzi's recurring drives, and a kiosk or post shift.
const (
	TypeCleanup         = "cleanup"          // 全民清扫日 city-wide clean-up day
	TypeWeekendCare     = "weekend_care"     // 爱在周末 weekend care
	TypeCleanHome       = "clean_home"       // 巾帼英雄·清洁家园 women's clean-home teams
	TypeTrafficCivility = "traffic_civility" // 文明交通劝导 traffic-civility wardens
	TypeShift           = "shift"            // a shift at a service kiosk or post
	TypeOther           = "other"
)

// Types lists the activity types, in display order.
func Types() []string {
	return []string{TypeCleanup, TypeWeekendCare, TypeCleanHome, TypeTrafficCivility, TypeShift, TypeOther}
}

// Volunteer is a citizen's volunteer profile.
type Volunteer struct {
	Sub        string    `json:"sub"`
	Name       string    `json:"name"`
	Skills     []string  `json:"skills"`
	Area       string    `json:"area,omitempty"` // an area id of the city's configuration (dispatch.Area)
	Teams      []string  `json:"teams"`
	Verified   bool      `json:"verified"`
	VerifiedBy string    `json:"verifiedBy,omitempty"`
	VerifiedAt time.Time `json:"verifiedAt,omitzero"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Team is a volunteer group, service team, kiosk or post, with its organisers (citizens an admin names).
type Team struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Organisers []string  `json:"organisers"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Place is where an activity happens: a point and a radius, or a GeoJSON Polygon (WGS-84, lng/lat).
type Place struct {
	Name     string          `json:"name"`
	Lat      float64         `json:"lat"` // the point (for a polygon: where the map shows it)
	Lng      float64         `json:"lng"`
	RadiusM  int             `json:"radiusM,omitempty"`
	Geometry json.RawMessage `json:"geometry,omitempty"`
}

// Activity statuses.
const (
	ActivityOpen      = "open"
	ActivityCancelled = "cancelled"
)

// Activity is one occurrence of volunteer service: a drive or one shift of a recurring series.
type Activity struct {
	ID          string    `json:"id"`
	TeamID      string    `json:"teamId"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Place       Place     `json:"place"`
	Capacity    int       `json:"capacity"`
	Skills      []string  `json:"skills,omitempty"`
	SeriesID    string    `json:"seriesId,omitempty"` // the publication a recurring shift came from
	Status      string    `json:"status"`
	SignedUp    int       `json:"signedUp"` // holders of a place
	Waitlisted  int       `json:"waitlisted"`
	Organiser   string    `json:"organiser"` // who published it
	CreatedAt   time.Time `json:"createdAt"`
	// Secret keys the activity's rotating check-in codes (code.go). Never leaves the service.
	Secret []byte `json:"-"`
}

// Sign-up statuses. A cancelled sign-up keeps its item (a second sign-up after a cancellation is a new
// one at the end of the queue).
const (
	SignedUp   = "signed_up"
	Waitlisted = "waitlisted"
	Cancelled  = "cancelled"
)

// Signup is a volunteer's place, or place in the waitlist, in an activity.
type Signup struct {
	ActivityID string    `json:"activityId"`
	Sub        string    `json:"sub"`
	Status     string    `json:"status"`
	Position   int64     `json:"position,omitempty"` // the waitlist's order: smaller moves up first
	At         time.Time `json:"at"`
}

// Attendance statuses.
const (
	CheckedIn = "checked_in" // in, not out yet
	Pending   = "pending"    // out: hours computed, awaiting the organiser
	Confirmed = "confirmed"  // the organiser confirmed the hours (points awarded)
	Disputed  = "disputed"   // the volunteer disputed the confirmed hours (once); the organiser answers
	Revoked   = "revoked"    // the organiser or an admin revoked it (points reversed)
)

// Attendance is one volunteer's attendance of one activity. Revision counts confirmations: each confirmed
// revision is an award of its own (points.VolunteerAward), and a later one replaces the earlier.
type Attendance struct {
	ActivityID   string    `json:"activityId"`
	Sub          string    `json:"sub"`
	TeamID       string    `json:"teamId"`
	Type         string    `json:"type"`  // the activity's, for the KPIs by type
	Title        string    `json:"title"` // the activity's, for the service record
	Status       string    `json:"status"`
	Method       string    `json:"method"` // "code" (checked in and out on the spot) or "organiser"
	CheckInAt    time.Time `json:"checkInAt,omitzero"`
	CheckOutAt   time.Time `json:"checkOutAt,omitzero"`
	Minutes      int64     `json:"minutes"`          // computed from check-in and check-out (Hours)
	Confirmed    int64     `json:"confirmedMinutes"` // what the organiser confirmed
	ConfirmedBy  string    `json:"confirmedBy,omitempty"`
	ConfirmedAt  time.Time `json:"confirmedAt,omitzero"`
	Revision     int64     `json:"revision"`
	PrevAt       time.Time `json:"-"` // the previous revision's ConfirmedAt (its award's time)
	PrevMinutes  int64     `json:"-"` // the previous revision's confirmed minutes
	Dispute      *Dispute  `json:"dispute,omitempty"`
	UsedSteps    []int64   `json:"-"` // the code steps this volunteer used (one use each)
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
	RevokeReason string    `json:"revokeReason,omitempty"`
}

// Dispute is a volunteer's one dispute of confirmed hours.
type Dispute struct {
	Reason  string    `json:"reason"`
	Minutes int64     `json:"minutes"` // what the volunteer claims
	At      time.Time `json:"at"`
	Answer  string    `json:"answer,omitempty"` // "upheld" (hours changed) or "rejected" (kept)
}

// Errors, each with a stable code (README "Volunteers" lists them).
var (
	ErrInvalid          = apperr.New(apperr.Invalid, "invalid_volunteer_request", "the request is not valid")
	ErrNotVolunteer     = apperr.New(apperr.Conflict, "not_a_volunteer", "opt in to a volunteer profile first")
	ErrNotOrganiser     = apperr.New(apperr.Forbidden, "not_organiser", "only an organiser of the team (or an admin) may do this")
	ErrTeamNotFound     = apperr.New(apperr.NotFound, "team_not_found", "no such team")
	ErrActivityNotFound = apperr.New(apperr.NotFound, "activity_not_found", "no such activity")
	ErrActivityClosed   = apperr.New(apperr.Conflict, "activity_closed", "the activity is cancelled or over")
	ErrWaitlistFull     = apperr.New(apperr.Conflict, "waitlist_full", "the activity and its waitlist are full")
	ErrTooManyTeams     = apperr.New(apperr.Conflict, "too_many_teams", "a volunteer may join at most 20 teams")
	ErrNotSignedUp      = apperr.New(apperr.Conflict, "not_signed_up", "you hold no place in this activity")
	ErrOutsideWindow    = apperr.New(apperr.Conflict, "outside_window", "check-in and check-out are open from 30 minutes before the activity until its end")
	ErrOutsidePlace     = apperr.New(apperr.Invalid, "outside_place", "your location is not inside the activity's place")
	ErrCodeInvalid      = apperr.New(apperr.Invalid, "code_invalid", "the code is not the activity's")
	ErrCodeExpired      = apperr.New(apperr.Invalid, "code_expired", "the code has expired: scan the one shown now")
	ErrCodeUsed         = apperr.New(apperr.Conflict, "code_used", "you used this code already: scan the next one")
	ErrNotCheckedIn     = apperr.New(apperr.Conflict, "not_checked_in", "check in before checking out")
	ErrCheckedOut       = apperr.New(apperr.Conflict, "already_checked_out", "you checked out already")
	ErrAttendanceState  = apperr.New(apperr.Conflict, "attendance_state", "the attendance is not in a state that allows this")
	ErrDisputeUsed      = apperr.New(apperr.Conflict, "dispute_used", "hours may be disputed once")
	ErrNotFound         = apperr.New(apperr.NotFound, "attendance_not_found", "no such attendance")
)
