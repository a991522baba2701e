// Package builders is 建设者之家 (builders' home), the city's service for its migrant workers: employers an
// admin verifies post jobs; workers opt in to a profile they control; workers find jobs near them and
// employers find matching workers; applications and invitations are answered once, and a hire fills one
// place of a job's headcount; job fairs with registration and check-in (the volunteer service's rotating
// codes and geofence, shared/volunteer); organised transfers; medical and legal consultation slots.
//
// The types here are the contract between the domain (this package), its store (shared/dynamostore
// builders*.go), its HTTP edge (shared/httpapi builders*.go), the accrual (functions/accrual, the points
// policy) and the KPI roll-up (shared/kpi): README "Builders' home" holds the items and keys.
package builders

import (
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Bounds of what the service stores: every item has a size bound whatever the input.
const (
	MaxName          = 80   // characters of an employer's, a desk's, a fair's or a worker's name; a job's title
	MaxText          = 1000 // characters of requirements, a description, a message, a reason
	MaxLicence       = 18   // the unified social credit code (统一社会信用代码) is 18 characters
	MaxPhone         = 20   // characters of a phone number (digits, +, -, spaces)
	MaxTrades        = 5    // trades on one worker profile
	MaxHeadcount     = 500  // places of one job
	MaxJobDays       = 366  // a job's dates span at most a year
	MaxOpenJobs      = 100  // open jobs of one employer
	MaxApplications  = 2000 // applications and invitations of one job
	MaxPending       = 50   // pending applications and invitations of one worker
	MaxFairEmployers = 500  // employers taking part in one fair
	MaxStaff         = 20   // staff of one fair or desk
	MaxFairCapacity  = 20000
	MaxSlotCapacity  = 20 // bookings of one consultation slot
	MaxSlotsPerCall  = 100
	MaxTransfer      = 5000 // workers of one organised transfer
	MaxPageSize      = 50
	MaxRadiusKm      = 50
)

// Trade is one of the fixed list of trades (工种) a job and a worker profile name.
type Trade struct {
	ID   string `json:"id"`
	Name string `json:"name"` // its Chinese name
}

// Trades is the fixed list of trades, in display order.
func Trades() []Trade {
	return []Trade{
		{"bricklayer", "瓦工"}, {"carpenter", "木工"}, {"rebar", "钢筋工"}, {"concrete", "混凝土工"},
		{"scaffolder", "架子工"}, {"plumber", "水暖工"}, {"electrician", "电工"}, {"welder", "焊工"},
		{"painter", "油漆工"}, {"tiler", "贴砖工"}, {"machinery", "机械操作手"}, {"driver", "司机"},
		{"cleaner", "保洁"}, {"security", "保安"}, {"cook", "厨师"}, {"porter", "搬运工"},
		{"farmhand", "农业工"}, {"factory", "普工"}, {"caregiver", "护工·家政"}, {"other", "其他"},
	}
}

// IsTrade reports whether id is a trade of the list.
func IsTrade(id string) bool {
	for _, t := range Trades() {
		if t.ID == id {
			return true
		}
	}
	return false
}

// Wage units. A piece-rate job states the daily wage a worker may expect (DailyEstimate).
const (
	UnitDay   = "day"
	UnitMonth = "month"
	UnitPiece = "piece"
)

// DaysPerMonth is the statutory monthly pay days (月计薪天数, 21.75) by which a monthly wage is compared with
// a daily one: the daily equivalent of a monthly wage w is w / 21.75.
const DaysPerMonth = 21.75

// Wage is a job's wage range or a worker's expectation, in whole yuan per Unit.
type Wage struct {
	Min  int    `json:"min"`
	Max  int    `json:"max"`
	Unit string `json:"unit"`
	// DailyEstimate is what a piece-rate job pays a day, in yuan (required for UnitPiece).
	DailyEstimate int `json:"dailyEstimate,omitempty"`
}

// Settings are the city's rules for the service (an admin edits them).
type Settings struct {
	// MinimumWage is the city's minimum wage (最低工资标准) in whole yuan per unit; a job whose lowest wage
	// is below it (for a piece-rate job: its daily estimate below the daily minimum) is refused.
	MinimumWage MinimumWage `json:"minimumWage"`
	UpdatedAt   time.Time   `json:"updatedAt,omitzero"`
	UpdatedBy   string      `json:"updatedBy,omitempty"`
}

// MinimumWage per unit. Yunnan's class-one rates (2025): 1,990 yuan a month; the day is the month over
// DaysPerMonth rounded up.
type MinimumWage struct {
	Month int `json:"month"`
	Day   int `json:"day"`
}

// DefaultSettings are used until an admin saves settings.
func DefaultSettings() Settings {
	return Settings{MinimumWage: MinimumWage{Month: 1990, Day: 92}}
}

// Employer statuses.
const (
	EmployerPending   = "pending"   // registered, awaiting an admin
	EmployerVerified  = "verified"  // may post jobs, invite and hire
	EmployerRejected  = "rejected"  // the admin refused the registration (it may be corrected and re-sent)
	EmployerSuspended = "suspended" // an admin suspended it: its jobs leave the listings; no new posts or hires
)

// Contact is a person to call.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Employer is a business account (one per citizen account that registers it).
type Employer struct {
	Sub          string    `json:"sub"` // the account that registered and acts for it
	Name         string    `json:"name"`
	Licence      string    `json:"licence"` // unified social credit code (营业执照 统一社会信用代码)
	Contact      Contact   `json:"contact"`
	Address      string    `json:"address,omitempty"`
	Status       string    `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	VerifiedBy   string    `json:"verifiedBy,omitempty"`
	VerifiedAt   time.Time `json:"verifiedAt,omitzero"`
	Reports      int       `json:"reports"` // citizens' reports against it (one per citizen)
	OpenJobs     int       `json:"openJobs"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt,omitzero"`
}

// Point is a place on the map (WGS-84).
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// JobPlace is where a job is.
type JobPlace struct {
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
	Address string  `json:"address,omitempty"`
}

// Job statuses. A job is open until its places are filled, its end date passes, or its employer closes it
// (or is suspended).
const (
	JobOpen    = "open"
	JobFilled  = "filled"
	JobClosed  = "closed"
	JobExpired = "expired"
)

// Job is a posting.
type Job struct {
	ID           string    `json:"id"`
	EmployerSub  string    `json:"employerSub"`
	EmployerName string    `json:"employerName"`
	Title        string    `json:"title"`
	Trade        string    `json:"trade"`
	Place        JobPlace  `json:"place"`
	Wage         Wage      `json:"wage"`
	Headcount    int       `json:"headcount"`
	Hired        int       `json:"hired"`
	StartDate    string    `json:"startDate"` // YYYY-MM-DD, the city's local days
	EndDate      string    `json:"endDate"`
	Requirements string    `json:"requirements,omitempty"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"createdAt"`
	ClosedAt     time.Time `json:"closedAt,omitzero"`
	// DistanceKm is set on a search's answer: from the searcher's point.
	DistanceKm *float64 `json:"distanceKm,omitempty"`
	// Applications counts the job's applications and invitations (shown to its employer only).
	Applications int `json:"applications,omitempty"`
}

// Worker profile visibility to employers.
const (
	VisibilityHidden  = "hidden"  // in no employer's matches; only employers the worker applies to see the profile
	VisibilityProfile = "profile" // trades, experience, area, wage and availability; the name as a surname + 师傅
	VisibilityFull    = "full"    // and the full name
)

// Area is where a worker wants to work: a point and how far they will travel.
type Area struct {
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
	RadiusKm int     `json:"radiusKm"`
	Name     string  `json:"name,omitempty"`
}

// Worker is a citizen's worker profile. Phone is the worker's contact: it reaches an employer only through
// a hire (the worker applied or accepted, and the employer accepted or invited).
type Worker struct {
	Sub           string    `json:"sub"`
	Name          string    `json:"name"`
	Phone         string    `json:"phone,omitempty"`
	Trades        []string  `json:"trades"`
	Years         int       `json:"years"`
	Area          Area      `json:"area"`
	Expected      Wage      `json:"expectedWage"`  // Min is what the worker expects; Max unused
	AvailableFrom string    `json:"availableFrom"` // YYYY-MM-DD
	Visibility    string    `json:"visibility"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt,omitzero"`
}

// WorkerView is what an employer sees of a worker: never the phone before a hire, the name only as the
// worker's visibility allows.
type WorkerView struct {
	Sub           string   `json:"sub"`
	DisplayName   string   `json:"displayName"`
	Trades        []string `json:"trades"`
	Years         int      `json:"years"`
	Area          Area     `json:"area"`
	Expected      Wage     `json:"expectedWage"`
	AvailableFrom string   `json:"availableFrom"`
	DistanceKm    *float64 `json:"distanceKm,omitempty"`
	Score         *float64 `json:"score,omitempty"` // a match's score (match.go states it)
	Phone         string   `json:"phone,omitempty"` // only on a hire's answer to its employer
}

// Application kinds and statuses: an application (the worker asks; the employer answers) or an invitation
// (the employer asks; the worker answers). Each is answered once.
const (
	KindApplication = "application"
	KindInvitation  = "invitation"

	AppPending   = "pending"
	AppAccepted  = "accepted"  // answered yes: a hire
	AppDeclined  = "declined"  // answered no
	AppWithdrawn = "withdrawn" // the asking side took it back before an answer
)

// Application is an application or invitation between a job and a worker (one per pair).
type Application struct {
	JobID       string      `json:"jobId"`
	Sub         string      `json:"sub"`
	Kind        string      `json:"kind"`
	Status      string      `json:"status"`
	Message     string      `json:"message,omitempty"`
	CreatedAt   time.Time   `json:"createdAt"`
	AnsweredAt  time.Time   `json:"answeredAt,omitzero"`
	JobTitle    string      `json:"jobTitle"`
	EmployerSub string      `json:"employerSub"`
	Worker      *WorkerView `json:"worker,omitempty"` // on the employer's answers
}

// Hire statuses: hired when the second side says yes (a place is filled); completed when both sides have
// confirmed the worker started (到岗); cancelled when either side calls it off before completion (the
// place is freed).
const (
	HireHired     = "hired"
	HireCompleted = "completed"
	HireCancelled = "cancelled"
)

// Hire is a filled place.
type Hire struct {
	JobID               string      `json:"jobId"`
	Sub                 string      `json:"sub"`
	EmployerSub         string      `json:"employerSub"`
	JobTitle            string      `json:"jobTitle"`
	Via                 string      `json:"via"` // KindApplication or KindInvitation
	Status              string      `json:"status"`
	HiredAt             time.Time   `json:"hiredAt"`
	EmployerConfirmedAt time.Time   `json:"employerConfirmedAt,omitzero"`
	WorkerConfirmedAt   time.Time   `json:"workerConfirmedAt,omitzero"`
	CompletedAt         time.Time   `json:"completedAt,omitzero"`
	Worker              *WorkerView `json:"worker,omitempty"`   // to the employer: with the phone
	Employer            *Contact    `json:"employer,omitempty"` // to the worker: the employer's contact
	// Version moves with every change of the hire (its store conditions confirmations and cancellation on it).
	Version int64 `json:"-"`
}

// Fair is a job fair (招聘会) an admin publishes.
type Fair struct {
	ID         string          `json:"id"`
	Title      string          `json:"title"`
	Start      time.Time       `json:"start"`
	End        time.Time       `json:"end"`
	Place      volunteer.Place `json:"place"`
	Employers  []string        `json:"employers"` // verified employers' subs taking part
	Staff      []string        `json:"staff"`     // who shows the check-in code or checks workers in
	Capacity   int             `json:"capacity"`
	Registered int             `json:"registered"`
	CheckedIn  int             `json:"checkedIn"`
	Status     string          `json:"status"` // open | cancelled
	CreatedAt  time.Time       `json:"createdAt"`
	Secret     []byte          `json:"-"` // keys the fair's rotating check-in codes; never leaves the service
}

// Registration is a worker's registration for a fair.
type Registration struct {
	FairID      string    `json:"fairId"`
	Sub         string    `json:"sub"`
	Status      string    `json:"status"` // registered | cancelled
	At          time.Time `json:"at"`
	CheckedInAt time.Time `json:"checkedInAt,omitzero"`
	Method      string    `json:"method,omitempty"` // code | staff
	UsedSteps   []int64   `json:"-"`                // the code steps of the check-in (a re-sent one is recognised)
	Start       time.Time `json:"start,omitzero"`   // the fair's start (the worker's list is ordered by it)
}

// Transfer is an organised transfer (劳务输出): a batch of workers to an employer elsewhere.
type Transfer struct {
	ID          string    `json:"id"`
	Employer    string    `json:"employer"`    // the receiving employer's name
	Destination string    `json:"destination"` // city/province
	Trade       string    `json:"trade,omitempty"`
	Headcount   int       `json:"headcount"`
	Date        string    `json:"date"` // YYYY-MM-DD of departure
	Note        string    `json:"note,omitempty"`
	By          string    `json:"by"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Desk kinds: a public medical or legal service desk.
const (
	DeskMedical = "medical"
	DeskLegal   = "legal"
)

// Desk is a service desk that publishes consultation slots.
type Desk struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Address   string    `json:"address,omitempty"`
	Staff     []string  `json:"staff"`
	CreatedAt time.Time `json:"createdAt"`
}

// Slot is a consultation time a desk offers.
type Slot struct {
	DeskID   string    `json:"deskId"`
	ID       string    `json:"id"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Capacity int       `json:"capacity"`
	Booked   int       `json:"booked"`
	Status   string    `json:"status"` // open | cancelled
}

// Booking statuses.
const (
	BookingBooked    = "booked"
	BookingCancelled = "cancelled"
	BookingServed    = "served"
	BookingNoShow    = "no_show"
)

// Booking is a worker's booking of a slot.
type Booking struct {
	DeskID   string    `json:"deskId"`
	SlotID   string    `json:"slotId"`
	Sub      string    `json:"sub"`
	Kind     string    `json:"kind"` // the desk's kind
	Status   string    `json:"status"`
	Topic    string    `json:"topic,omitempty"`
	Start    time.Time `json:"start"`
	At       time.Time `json:"at"`
	ServedAt time.Time `json:"servedAt,omitzero"`
	ServedBy string    `json:"servedBy,omitempty"`
}

// Record kinds: one immutable record (item type builders_record) per event the KPIs count, written in the
// same transaction (or conditional put) as the change, with a key that makes it once per event.
const (
	RecEmployerVerified = "employer_verified" // N = 1
	RecJobPosted        = "job_posted"        // N = the job's headcount (places offered)
	RecSearch           = "search"            // a distinct (worker, day, query); N = 1
	RecApplication      = "application"       // N = 1
	RecInvitation       = "invitation"        // N = 1
	RecHire             = "hire"              // N = 1
	RecHireCompleted    = "hire_completed"    // both sides confirmed; N = 1 (the points policy's event)
	RecHireCancelled    = "hire_cancelled"    // N = 1
	RecFair             = "fair"              // a published fair; N = its employers
	RecFairCheckin      = "fair_checkin"      // N = 1
	RecTransfer         = "transfer"          // N = the workers transferred
	RecConsultation     = "consultation"      // a served booking; N = 1; Detail = medical | legal (points policy)
)

// Record is a KPI event.
type Record struct {
	ID     string    `json:"id"` // unique per event: the record's sort key
	Kind   string    `json:"kind"`
	N      int       `json:"n"`
	Sub    string    `json:"sub,omitempty"` // the worker, for worker events (the points policy awards them)
	Ref    string    `json:"ref,omitempty"` // the job, fair, transfer or booking
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Errors with stable codes (the API's error codes).
var (
	ErrInvalid             = apperr.New(apperr.Invalid, "invalid_builders_request", "the request is not valid")
	ErrWageBelowMinimum    = apperr.New(apperr.Invalid, "wage_below_minimum", "the wage is below the city's minimum wage")
	ErrUnknownTrade        = apperr.New(apperr.Invalid, "unknown_trade", "not a trade of the list")
	ErrNotEmployer         = apperr.New(apperr.Forbidden, "not_an_employer", "register as an employer first")
	ErrEmployerUnverified  = apperr.New(apperr.Forbidden, "employer_not_verified", "an admin has not verified this employer")
	ErrEmployerSuspended   = apperr.New(apperr.Forbidden, "employer_suspended", "this employer is suspended")
	ErrEmployerNotFound    = apperr.New(apperr.NotFound, "employer_not_found", "no such employer")
	ErrLicenceTaken        = apperr.New(apperr.Conflict, "licence_taken", "another account registered this business licence")
	ErrJobNotFound         = apperr.New(apperr.NotFound, "job_not_found", "no such job")
	ErrNotYourJob          = apperr.New(apperr.Forbidden, "not_your_job", "the job is another employer's")
	ErrJobClosed           = apperr.New(apperr.Conflict, "job_closed", "the job is not open")
	ErrJobFilled           = apperr.New(apperr.Conflict, "job_filled", "every place of the job is filled")
	ErrTooManyOpenJobs     = apperr.New(apperr.Conflict, "too_many_open_jobs", "close a job before posting another")
	ErrNotWorker           = apperr.New(apperr.Conflict, "not_a_worker", "opt in to a worker profile first")
	ErrWorkerNotFound      = apperr.New(apperr.NotFound, "worker_not_found", "no such worker")
	ErrApplicationNotFound = apperr.New(apperr.NotFound, "application_not_found", "no such application or invitation")
	ErrAlreadyAnswered     = apperr.New(apperr.Conflict, "already_answered", "it has been answered already")
	ErrNotYourTurn         = apperr.New(apperr.Forbidden, "not_your_answer", "the other side answers this")
	ErrTooManyApplications = apperr.New(apperr.Conflict, "too_many_applications", "the job has as many applications as it takes")
	ErrTooManyPending      = apperr.New(apperr.Conflict, "too_many_pending", "answer or withdraw some before asking again")
	ErrHireNotFound        = apperr.New(apperr.NotFound, "hire_not_found", "no such hire")
	ErrHireCancelled       = apperr.New(apperr.Conflict, "hire_cancelled", "the hire was cancelled")
	ErrHireCompleted       = apperr.New(apperr.Conflict, "hire_completed", "both sides confirmed the hire: it cannot be cancelled")
	ErrFairNotFound        = apperr.New(apperr.NotFound, "fair_not_found", "no such job fair")
	ErrFairFull            = apperr.New(apperr.Conflict, "fair_full", "the fair's registrations are full")
	ErrNotRegistered       = apperr.New(apperr.Conflict, "not_registered", "register for the fair first")
	ErrNotStaff            = apperr.New(apperr.Forbidden, "not_staff", "only the fair's or desk's staff (or an admin) may do this")
	ErrDeskNotFound        = apperr.New(apperr.NotFound, "desk_not_found", "no such service desk")
	ErrSlotNotFound        = apperr.New(apperr.NotFound, "slot_not_found", "no such consultation slot")
	ErrSlotFull            = apperr.New(apperr.Conflict, "slot_full", "the slot is fully booked")
	ErrBookingNotFound     = apperr.New(apperr.NotFound, "booking_not_found", "no such booking")
)
