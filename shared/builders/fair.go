package builders

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Job fairs (招聘会): an admin publishes a fair with its verified employers and staff; workers register (at
// most capacity, however many at once); a registered worker checks in at the fair with the code its staff
// show (the volunteer service's rotating TOTP code, volunteer.CurrentCode / CheckCode) from inside its place
// (volunteer.Place.Contains), or the staff check the worker in. Each check-in counts once.

// Fair and registration statuses, check-in methods.
const (
	FairOpen           = "open"
	FairCancelled      = "cancelled"
	RegRegistered      = "registered"
	RegCancelled       = "cancelled"
	CheckinCode        = "code"
	CheckinStaff       = "staff"
	FairCheckinEarly   = 60 * time.Minute // check-in opens this long before a fair starts
	MaxFairHours       = 72               // a fair lasts at most three days
	fairSecretBytes    = volunteer.SecretSize
	fairCheckinRetries = 4
)

// Errors of fairs, transfers and consultations beyond builders.go's (stable codes; the codes of the code
// and geofence checks are the volunteer attendance's).
var (
	ErrFairClosed       = apperr.New(apperr.Conflict, "fair_closed", "the fair is cancelled or over")
	ErrCheckinWindow    = apperr.New(apperr.Conflict, "outside_window", "check-in is open from 60 minutes before the fair until its end")
	ErrOutsideFair      = apperr.New(apperr.Invalid, "outside_place", "your location is not inside the fair's place")
	ErrFairCodeInvalid  = apperr.New(apperr.Invalid, "code_invalid", "the code is not the fair's")
	ErrFairCodeExpired  = apperr.New(apperr.Invalid, "code_expired", "the code has expired: scan the one shown now")
	ErrAlreadyCheckedIn = apperr.New(apperr.Conflict, "already_checked_in", "you checked in already")
	ErrCheckedInNoLeave = apperr.New(apperr.Conflict, "already_checked_in", "a worker who checked in cannot cancel the registration")
	ErrEmployerNotReady = apperr.New(apperr.Invalid, "employer_not_verified", "every employer of a fair must be a verified employer")
	ErrSlotClosed       = apperr.New(apperr.Conflict, "slot_closed", "the slot is cancelled or has started")
	ErrBookingCancelled = apperr.New(apperr.Conflict, "booking_cancelled", "the booking was cancelled")
	ErrBookingServed    = apperr.New(apperr.Conflict, "booking_served", "the booking was served already")
)

// ErrChanged is what the store answers when an item is not as the service read it (a concurrent request
// changed it): nothing was written, and the service reads it again.
var ErrChanged = errors.New("builders: the item changed while the request ran")

// FairStore keeps fairs, registrations, transfers, desks, slots and bookings (shared/dynamostore
// builders_fair.go). Every write is conditional or keyed so that applying it twice changes nothing more.
type FairStore interface {
	Employer(ctx context.Context, sub string) (Employer, error)
	// FairForWorker reads a fair (ErrFairNotFound), sub's registration (nil when none) and whether sub
	// has a worker profile, in one read.
	FairForWorker(ctx context.Context, fairID, sub string) (Fair, *Registration, bool, error)

	// PublishFair writes the fair and its `fair` record in one transaction; a fair of that id written
	// before answers the stored one (created false) when bodyHash is the same, idem.ErrKeyReused otherwise.
	PublishFair(ctx context.Context, f Fair, bodyHash string) (Fair, bool, error)
	// Fair returns a fair with its secret (ErrFairNotFound).
	Fair(ctx context.Context, id string) (Fair, error)
	// Fairs returns up to limit fairs starting at or after from, soonest first.
	Fairs(ctx context.Context, from time.Time, limit int) ([]Fair, error)
	// Register takes a place of f for sub (registered < capacity, the fair open and not over at at, in the
	// transaction); a registration that exists and is not cancelled is answered as it is (created false).
	// ErrFairFull / ErrFairClosed when the fair's condition fails.
	Register(ctx context.Context, f Fair, sub string, at time.Time) (Registration, bool, error)
	// Registration returns sub's registration (ErrNotRegistered when there is none).
	Registration(ctx context.Context, fairID, sub string) (Registration, error)
	// CancelRegistration cancels a registration that is not checked in and frees its place; a cancelled
	// one is answered as it is.
	CancelRegistration(ctx context.Context, fairID, sub string) (Registration, error)
	// CheckInFair writes r's check-in (r.CheckedInAt, r.Method, step in usedSteps when the code's), the fair's
	// checkedIn + 1 and the fair_checkin record in one transaction, if r is registered and not checked in;
	// ErrChanged otherwise (nothing written).
	CheckInFair(ctx context.Context, r Registration, step int64) error
	// Registrations returns a page of a fair's registrations and the next page's cursor.
	Registrations(ctx context.Context, fairID, cursor string, limit int) ([]Registration, string, error)
	// MyFairs returns sub's latest registrations (up to limit), latest fair first.
	MyFairs(ctx context.Context, sub string, limit int) ([]Registration, error)

	TransferStore
	ConsultStore
}

// FairService is job fairs, transfers and consultations.
type FairService struct {
	store FairStore
	tz    *time.Location
	now   func() time.Time
}

// NewFairService builds the FairService. tz is the city's time zone; now is the clock (nil: time.Now).
func NewFairService(store FairStore, tz *time.Location, now func() time.Time) *FairService {
	if tz == nil {
		tz = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &FairService{store: store, tz: tz, now: now}
}

// clock is the service's clock at the store's precision (milliseconds).
func (s *FairService) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// FairInput is what an admin publishes.
type FairInput struct {
	Title     string          `json:"title"`
	Start     time.Time       `json:"start"`
	End       time.Time       `json:"end"`
	Place     volunteer.Place `json:"place"`
	Employers []string        `json:"employers"`
	Staff     []string        `json:"staff"`
	Capacity  int             `json:"capacity"`
}

// fairText trims v and refuses control characters and more than max characters.
func fairText(what, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n > max || (required && n == 0) {
		if required {
			return "", ErrInvalid.With("%s must be 1 to %d characters", what, max)
		}
		return "", ErrInvalid.With("%s must be at most %d characters", what, max)
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return "", ErrInvalid.With("%s has a control character", what)
		}
	}
	return v, nil
}

// fairSubs checks a list of account ids: each well formed, none twice, at most max.
func fairSubs(what string, subs []string, max int) ([]string, error) {
	if len(subs) > max {
		return nil, ErrInvalid.With("%s: at most %d", what, max)
	}
	out := make([]string, 0, len(subs))
	for _, s := range subs {
		if !validSub(s) {
			return nil, ErrInvalid.With("%s: %q is not an account id", what, s)
		}
		if slices.Contains(out, s) {
			return nil, ErrInvalid.With("%s: %s is listed twice", what, s)
		}
		out = append(out, s)
	}
	return out, nil
}

// validLatLng is volunteer's point rule (volunteer.Point.Check): on the globe, and no non-zero coordinate
// below 1e-7°, which DynamoDB cannot store (4.9e-324 passed a range check and made a 500).
func validLatLng(lat, lng float64) bool { return volunteer.Point{Lat: lat, Lng: lng}.Check() == nil }

// checkFairPlace validates a fair's place as volunteer activities' are: a point with a radius
// (volunteer.MinRadiusM..MaxRadiusM), or a GeoJSON Polygon (volunteer.Polygon).
func checkFairPlace(pl volunteer.Place) (volunteer.Place, error) {
	name, err := fairText("place.name", pl.Name, MaxName, false)
	if err != nil {
		return pl, err
	}
	pl.Name = name
	if !validLatLng(pl.Lat, pl.Lng) {
		return pl, ErrInvalid.With("place.lat and place.lng must be a point (-90..90, -180..180)")
	}
	if len(pl.Geometry) == 0 || string(pl.Geometry) == "null" {
		pl.Geometry = nil
		if pl.RadiusM < volunteer.MinRadiusM || pl.RadiusM > volunteer.MaxRadiusM {
			return pl, ErrInvalid.With("place.radiusM must be %d to %d (or give a polygon)", volunteer.MinRadiusM, volunteer.MaxRadiusM)
		}
		return pl, nil
	}
	if pl.RadiusM != 0 {
		return pl, ErrInvalid.With("place has a radius or a polygon, not both")
	}
	poly, err := volunteer.Polygon(pl.Geometry)
	if err != nil {
		return pl, ErrInvalid.With("place.geometry must be a GeoJSON Polygon")
	}
	n := 0
	for _, ring := range poly {
		if len(ring) < 4 || !ring.Closed() {
			return pl, ErrInvalid.With("place.geometry: each ring is closed and has at least 4 positions")
		}
		for _, p := range ring {
			if !validLatLng(p.Lat(), p.Lon()) {
				return pl, ErrInvalid.With("place.geometry: positions are [lng, lat] in range")
			}
		}
		n += len(ring) - 1
	}
	if n > volunteer.MaxVertices {
		return pl, ErrInvalid.With("place.geometry has %d vertices; at most %d", n, volunteer.MaxVertices)
	}
	return pl, nil
}

// Check validates a fair's input against now (a fair is published before it ends).
func (in FairInput) Check(now time.Time) (FairInput, error) {
	var err error
	if in.Title, err = fairText("title", in.Title, MaxName, true); err != nil {
		return in, err
	}
	if in.Start.IsZero() || in.End.IsZero() || !in.End.After(in.Start) {
		return in, ErrInvalid.With("start and end are RFC 3339 times, end after start")
	}
	if in.End.Sub(in.Start) > MaxFairHours*time.Hour {
		return in, ErrInvalid.With("a fair lasts at most %d hours", MaxFairHours)
	}
	if !in.End.After(now) {
		return in, ErrInvalid.With("the fair has ended already")
	}
	if in.Place, err = checkFairPlace(in.Place); err != nil {
		return in, err
	}
	if in.Capacity < 1 || in.Capacity > MaxFairCapacity {
		return in, ErrInvalid.With("capacity must be 1 to %d", MaxFairCapacity)
	}
	if in.Employers, err = fairSubs("employers", in.Employers, MaxFairEmployers); err != nil {
		return in, err
	}
	if in.Staff, err = fairSubs("staff", in.Staff, MaxStaff); err != nil {
		return in, err
	}
	in.Start, in.End = in.Start.UTC().Truncate(time.Millisecond), in.End.UTC().Truncate(time.Millisecond)
	return in, nil
}

// idemID is the id of what (caller, Idempotency-Key) creates: a re-sent request names the same item, whose
// conditional write then finds it.
func idemID(scope, sub, key string) string {
	sum := sha256.Sum256([]byte(scope + "\x00" + sub + "\x00" + key))
	return hex.EncodeToString(sum[:12])
}

// PublishFair publishes a fair (admin; Idempotency-Key). Every employer must be a verified employer. It
// answers the fair and whether this request created it.
func (s *FairService) PublishFair(ctx context.Context, p auth.Principal, key string, body []byte, in FairInput) (Fair, bool, error) {
	if err := p.Require(auth.Admin); err != nil {
		return Fair{}, false, err
	}
	if err := idem.ValidateKey(key); err != nil {
		return Fair{}, false, err
	}
	now := s.clock()
	in, err := in.Check(now)
	if err != nil {
		return Fair{}, false, err
	}
	for _, sub := range in.Employers {
		e, err := s.store.Employer(ctx, sub)
		if errors.Is(err, ErrEmployerNotFound) || err == nil && e.Status != EmployerVerified {
			return Fair{}, false, ErrEmployerNotReady.With("employer %s is not a verified employer", sub)
		}
		if err != nil {
			return Fair{}, false, err
		}
	}
	secret := make([]byte, fairSecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return Fair{}, false, fmt.Errorf("fair secret: %w", err)
	}
	f := Fair{ID: idemID("fair", p.Sub, key), Title: in.Title, Start: in.Start, End: in.End, Place: in.Place,
		Employers: in.Employers, Staff: in.Staff, Capacity: in.Capacity, Status: FairOpen, CreatedAt: now, Secret: secret}
	return s.store.PublishFair(ctx, f, idem.Hash(body))
}

// Fair returns a fair.
func (s *FairService) Fair(ctx context.Context, p auth.Principal, id string) (Fair, error) {
	if p.Sub == "" {
		return Fair{}, auth.ErrUnauthenticated
	}
	return s.store.Fair(ctx, id)
}

// Fairs returns up to MaxPageSize fairs starting at or after from ("YYYY-MM-DD", a local day; default
// today).
func (s *FairService) Fairs(ctx context.Context, p auth.Principal, from string) ([]Fair, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	day, err := s.fromDay(from)
	if err != nil {
		return nil, err
	}
	return s.store.Fairs(ctx, day.UTC(), MaxPageSize)
}

// fromDay is the start of a listing's local day from ("YYYY-MM-DD"; default today).
func (s *FairService) fromDay(from string) (time.Time, error) {
	if from == "" {
		now := s.now().In(s.tz)
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.tz), nil
	}
	d, err := time.ParseInLocation(time.DateOnly, from, s.tz)
	if err != nil {
		return time.Time{}, ErrInvalid.With("from must be a date YYYY-MM-DD")
	}
	return d, nil
}

// Register registers the caller (a worker) for a fair; created says whether this request did. A
// registration that exists is answered as it is, without a write.
func (s *FairService) Register(ctx context.Context, p auth.Principal, fairID string) (Registration, bool, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Registration{}, false, err
	}
	f, reg, worker, err := s.store.FairForWorker(ctx, fairID, p.Sub)
	switch {
	case err != nil:
		return Registration{}, false, err
	case reg != nil && reg.Status == RegRegistered:
		return *reg, false, nil
	case !worker:
		return Registration{}, false, ErrNotWorker
	}
	now := s.clock()
	if f.Status != FairOpen || !f.End.After(now) {
		return Registration{}, false, ErrFairClosed
	}
	if f.Registered >= f.Capacity {
		return Registration{}, false, ErrFairFull
	}
	return s.store.Register(ctx, f, p.Sub, now)
}

// CancelRegistration cancels the caller's registration (not after checking in).
func (s *FairService) CancelRegistration(ctx context.Context, p auth.Principal, fairID string) (Registration, error) {
	if p.Sub == "" {
		return Registration{}, auth.ErrUnauthenticated
	}
	return s.store.CancelRegistration(ctx, fairID, p.Sub)
}

// staffFair reads a fair and refuses a caller who is neither its staff nor an admin.
func (s *FairService) staffFair(ctx context.Context, p auth.Principal, id string) (Fair, error) {
	if p.Sub == "" {
		return Fair{}, auth.ErrUnauthenticated
	}
	f, err := s.store.Fair(ctx, id)
	if err != nil {
		return Fair{}, err
	}
	if !p.Has(auth.Admin) && !slices.Contains(f.Staff, p.Sub) {
		return Fair{}, ErrNotStaff
	}
	return f, nil
}

// FairCode is the check-in code a fair's staff show: volunteer.Code with the fair's QR text.
type FairCode = volunteer.Code

// FairQR is the text of a fair's check-in QR code.
func FairQR(fairID, code string) string { return "civicsnap:fair:" + fairID + ":" + code }

// Code returns the fair's current check-in code (its staff; admins).
func (s *FairService) Code(ctx context.Context, p auth.Principal, fairID string) (FairCode, error) {
	f, err := s.staffFair(ctx, p, fairID)
	if err != nil {
		return FairCode{}, err
	}
	if f.Status != FairOpen {
		return FairCode{}, ErrFairClosed
	}
	c, err := volunteer.CurrentCode(f.ID, f.Secret, s.now())
	if err != nil {
		return FairCode{}, fmt.Errorf("code of fair %s: %w", f.ID, err)
	}
	c.QR = FairQR(f.ID, c.Code)
	return c, nil
}

// checkinOpen reports whether check-in is open at now: from FairCheckinEarly before start until end.
func checkinOpen(f Fair, now time.Time) bool {
	return !now.Before(f.Start.Add(-FairCheckinEarly)) && now.Before(f.End)
}

// FairPunch is a worker's check-in: the code the staff show and the phone's location.
type FairPunch struct {
	Code     string           `json:"code"`
	Location *volunteer.Point `json:"location"`
}

// codeError maps the volunteer code checks' errors to the fair's (same stable codes).
func codeError(err error) error {
	switch {
	case errors.Is(err, volunteer.ErrCodeExpired):
		return ErrFairCodeExpired
	case errors.Is(err, volunteer.ErrCodeInvalid):
		return ErrFairCodeInvalid
	}
	return err
}

// CheckIn checks the caller in with the fair's code from inside its place. The same check-in re-sent
// (the same code's step) is answered with the registration as it is; any number at once count once.
func (s *FairService) CheckIn(ctx context.Context, p auth.Principal, fairID string, in FairPunch) (Registration, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Registration{}, err
	}
	if in.Location == nil {
		return Registration{}, ErrInvalid.With("location {lat, lng} is required")
	}
	if !validLatLng(in.Location.Lat, in.Location.Lng) {
		return Registration{}, ErrInvalid.With("location must be {lat: -90..90, lng: -180..180}")
	}
	if !fairCodeOK(in.Code) {
		return Registration{}, ErrFairCodeInvalid
	}
	now := s.clock()
	f, err := s.store.Fair(ctx, fairID)
	if err != nil {
		return Registration{}, err
	}
	if f.Status != FairOpen {
		return Registration{}, ErrFairClosed
	}
	if !checkinOpen(f, now) {
		return Registration{}, ErrCheckinWindow
	}
	inside, err := f.Place.Contains(*in.Location)
	if err != nil {
		return Registration{}, fmt.Errorf("place of fair %s: %w", f.ID, err)
	}
	if !inside {
		return Registration{}, ErrOutsideFair
	}
	step, err := volunteer.CheckCode(f.Secret, in.Code, now)
	if err != nil {
		return Registration{}, codeError(err)
	}
	return s.checkIn(ctx, f, p.Sub, true, step, now)
}

// lostRace reports whether a write lost to a concurrent one and changed nothing: its condition failed
// (ErrChanged) or DynamoDB cancelled the transaction for a conflicting one (apperr.ErrContention). The
// request reads again: the winner's state answers it, or it tries again.
func lostRace(err error) bool {
	return errors.Is(err, ErrChanged) || apperr.NotApplied(err) && errors.Is(err, apperr.ErrContention)
}

// fairCodeOK reports whether code is six ASCII digits (checked before anything is read).
func fairCodeOK(code string) bool {
	if len(code) != volunteer.CodeDigits {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// checkIn writes a check-in of sub (by code when byCode, with the code's step) unless there is one.
func (s *FairService) checkIn(ctx context.Context, f Fair, sub string, byCode bool, step int64, now time.Time) (Registration, error) {
	for range fairCheckinRetries {
		r, err := s.store.Registration(ctx, f.ID, sub)
		if err != nil {
			return Registration{}, err
		}
		switch {
		case r.Status != RegRegistered:
			return Registration{}, ErrNotRegistered
		case !r.CheckedInAt.IsZero() && (!byCode || slices.Contains(r.UsedSteps, step)):
			return r, nil // this check-in (or the staff's), applied already
		case !r.CheckedInAt.IsZero():
			return Registration{}, ErrAlreadyCheckedIn
		}
		r.CheckedInAt, r.Method = now, CheckinStaff
		if byCode {
			r.Method, r.UsedSteps = CheckinCode, []int64{step}
		}
		err = s.store.CheckInFair(ctx, r, step)
		if !lostRace(err) {
			return r, err
		}
	}
	return Registration{}, apperr.ErrContention
}

// StaffCheckIn checks a registered worker in (the fair's staff; admins), in the check-in window. A worker
// checked in already is answered as is.
func (s *FairService) StaffCheckIn(ctx context.Context, p auth.Principal, fairID, sub string) (Registration, error) {
	f, err := s.staffFair(ctx, p, fairID)
	if err != nil {
		return Registration{}, err
	}
	if f.Status != FairOpen {
		return Registration{}, ErrFairClosed
	}
	now := s.clock()
	if !checkinOpen(f, now) {
		return Registration{}, ErrCheckinWindow
	}
	return s.checkIn(ctx, f, sub, false, 0, now)
}

// Registrations lists a page of a fair's registrations (its staff; admins).
func (s *FairService) Registrations(ctx context.Context, p auth.Principal, fairID, cursor string) ([]Registration, string, error) {
	if _, err := s.staffFair(ctx, p, fairID); err != nil {
		return nil, "", err
	}
	return s.store.Registrations(ctx, fairID, cursor, MaxPageSize)
}

// MyFairs lists the caller's latest registrations.
func (s *FairService) MyFairs(ctx context.Context, p auth.Principal) ([]Registration, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	return s.store.MyFairs(ctx, p.Sub, MaxPageSize)
}
