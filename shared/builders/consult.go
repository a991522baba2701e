package builders

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// Consultations: a medical or legal service desk (an admin sets it up) publishes slots; a worker books one
// (at most the slot's capacity, however many at once; one booking per worker per slot; a cancellation frees
// the place); the desk's staff mark a booking served, which writes the `consultation` record once.

// Bounds of slots.
const (
	MaxSlotMinutes  = 240                 // a slot lasts at most four hours
	MaxSlotAhead    = 90 * 24 * time.Hour // slots are published at most 90 days ahead
	SlotListDays    = 14                  // a slots listing covers at most 14 days
	MaxSlotListSize = 200                 // slots of one listing
	slotIDLayout    = "20060102T150405Z"
)

// ConsultStore keeps desks, slots and bookings.
type ConsultStore interface {
	// PutDesk creates or updates a desk (its createdAt kept).
	PutDesk(ctx context.Context, d Desk) (Desk, error)
	// Desk returns a desk (ErrDeskNotFound).
	Desk(ctx context.Context, id string) (Desk, error)
	// Desks returns up to limit desks, by kind.
	Desks(ctx context.Context, limit int) ([]Desk, error)
	// PutSlots writes the slots of d that do not exist yet (conditional puts) and answers every slot as
	// stored (a re-sent batch writes nothing).
	PutSlots(ctx context.Context, d Desk, slots []Slot) ([]Slot, error)
	// SlotForWorker reads a desk (ErrDeskNotFound), its slot and sub's booking of it (nil when none) and
	// whether sub has a worker profile, in one read.
	SlotForWorker(ctx context.Context, deskID, slotID, sub string) (Desk, *Slot, *Booking, bool, error)
	// Slot returns a slot (ErrSlotNotFound).
	Slot(ctx context.Context, deskID, slotID string) (Slot, error)
	// Slots returns a desk's slots starting in [from, to), up to limit, by start.
	Slots(ctx context.Context, deskID string, from, to time.Time, limit int) ([]Slot, error)
	// Book takes a place of sl for b.Sub (booked < capacity, the slot open and not started at b.At, in the
	// transaction); a booking that exists and is not cancelled is answered as it is (created false).
	// ErrSlotFull / ErrSlotClosed when the slot's condition fails.
	Book(ctx context.Context, sl Slot, b Booking) (Booking, bool, error)
	// Booking returns sub's booking of a slot (ErrBookingNotFound).
	Booking(ctx context.Context, deskID, slotID, sub string) (Booking, error)
	// CancelBooking cancels a booked booking and frees its place; a cancelled one is answered as is.
	CancelBooking(ctx context.Context, deskID, slotID, sub string) (Booking, error)
	// Serve marks b served (b.ServedAt, b.ServedBy) and writes the consultation record (detail = kind) in
	// one transaction if it is booked; ErrChanged otherwise.
	Serve(ctx context.Context, b Booking, kind string) error
	// Bookings returns up to limit bookings of a slot (every status).
	Bookings(ctx context.Context, deskID, slotID string, limit int) ([]Booking, error)
	// MyBookings returns sub's latest bookings (up to limit), latest slot first.
	MyBookings(ctx context.Context, sub string, limit int) ([]Booking, error)
}

// deskIDPattern is a desk's id (the admin chooses it: the path of PUT /v1/admin/desks/{id}).
var deskIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// DeskInput is what an admin sets up.
type DeskInput struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Address string   `json:"address,omitempty"`
	Staff   []string `json:"staff"`
}

// PutDesk creates or updates a desk (admin).
func (s *FairService) PutDesk(ctx context.Context, p auth.Principal, id string, in DeskInput) (Desk, error) {
	if err := p.Require(auth.Admin); err != nil {
		return Desk{}, err
	}
	if !deskIDPattern.MatchString(id) {
		return Desk{}, ErrInvalid.With("a desk id is 1 to 40 of a-z, 0-9 and -")
	}
	var err error
	if in.Name, err = fairText("name", in.Name, MaxName, true); err != nil {
		return Desk{}, err
	}
	if in.Address, err = fairText("address", in.Address, MaxText, false); err != nil {
		return Desk{}, err
	}
	if in.Kind != DeskMedical && in.Kind != DeskLegal {
		return Desk{}, ErrInvalid.With("kind must be medical or legal")
	}
	if in.Staff, err = fairSubs("staff", in.Staff, MaxStaff); err != nil {
		return Desk{}, err
	}
	return s.store.PutDesk(ctx, Desk{ID: id, Name: in.Name, Kind: in.Kind, Address: in.Address, Staff: in.Staff, CreatedAt: s.clock()})
}

// Desks lists the desks.
func (s *FairService) Desks(ctx context.Context, p auth.Principal) ([]Desk, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	return s.store.Desks(ctx, MaxPageSize)
}

// staffDesk reads a desk and refuses a caller who is neither its staff nor an admin.
func (s *FairService) staffDesk(ctx context.Context, p auth.Principal, id string) (Desk, error) {
	if p.Sub == "" {
		return Desk{}, auth.ErrUnauthenticated
	}
	d, err := s.store.Desk(ctx, id)
	if err != nil {
		return Desk{}, err
	}
	if !p.Has(auth.Admin) && !slices.Contains(d.Staff, p.Sub) {
		return Desk{}, ErrNotStaff
	}
	return d, nil
}

// SlotInput is one slot a desk publishes.
type SlotInput struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Capacity int       `json:"capacity"`
}

// SlotsInput is a batch of slots.
type SlotsInput struct {
	Slots []SlotInput `json:"slots"`
}

// SlotID is the id of a desk's slot starting at start: the start itself, so a re-sent batch names the
// same slots and a desk has one slot per start.
func SlotID(start time.Time) string { return start.UTC().Format(slotIDLayout) }

// SlotStart is the start a slot id names (false when it is not a slot id).
func SlotStart(id string) (time.Time, bool) {
	t, err := time.Parse(slotIDLayout, id)
	return t, err == nil && SlotID(t) == id
}

// Check validates a batch against now: 1 to MaxSlotsPerCall slots, each in the future (at most
// MaxSlotAhead), at most MaxSlotMinutes long, capacity 1..MaxSlotCapacity, no two with one start.
func (in SlotsInput) Check(deskID string, now time.Time) ([]Slot, error) {
	if len(in.Slots) < 1 || len(in.Slots) > MaxSlotsPerCall {
		return nil, ErrInvalid.With("slots: 1 to %d a request", MaxSlotsPerCall)
	}
	out := make([]Slot, 0, len(in.Slots))
	seen := map[string]bool{}
	for i, sl := range in.Slots {
		start, end := sl.Start.UTC().Truncate(time.Second), sl.End.UTC().Truncate(time.Second)
		switch {
		case sl.Start.IsZero() || !end.After(start):
			return nil, ErrInvalid.With("slots[%d]: start and end are RFC 3339 times, end after start", i)
		case end.Sub(start) > MaxSlotMinutes*time.Minute:
			return nil, ErrInvalid.With("slots[%d]: a slot lasts at most %d minutes", i, MaxSlotMinutes)
		case !start.After(now):
			return nil, ErrInvalid.With("slots[%d]: the slot has started already", i)
		case start.Sub(now) > MaxSlotAhead:
			return nil, ErrInvalid.With("slots[%d]: slots are published at most 90 days ahead", i)
		case sl.Capacity < 1 || sl.Capacity > MaxSlotCapacity:
			return nil, ErrInvalid.With("slots[%d]: capacity must be 1 to %d", i, MaxSlotCapacity)
		}
		id := SlotID(start)
		if seen[id] {
			return nil, ErrInvalid.With("slots[%d]: two slots start at %s", i, id)
		}
		seen[id] = true
		out = append(out, Slot{DeskID: deskID, ID: id, Start: start, End: end, Capacity: sl.Capacity, Status: "open"})
	}
	return out, nil
}

// PublishSlots publishes a batch of slots (the desk's staff; admins).
func (s *FairService) PublishSlots(ctx context.Context, p auth.Principal, deskID string, in SlotsInput) ([]Slot, error) {
	d, err := s.staffDesk(ctx, p, deskID)
	if err != nil {
		return nil, err
	}
	slots, err := in.Check(d.ID, s.clock())
	if err != nil {
		return nil, err
	}
	return s.store.PutSlots(ctx, d, slots)
}

// Slots lists a desk's slots from a local day (default today) for SlotListDays.
func (s *FairService) Slots(ctx context.Context, p auth.Principal, deskID, from string) ([]Slot, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	day, err := s.fromDay(from)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Desk(ctx, deskID); err != nil {
		return nil, err
	}
	return s.store.Slots(ctx, deskID, day.UTC(), day.AddDate(0, 0, SlotListDays).UTC(), MaxSlotListSize)
}

// BookingInput is a worker's booking.
type BookingInput struct {
	Topic string `json:"topic"`
}

// Book books a place of a slot for the caller (a worker); created says whether this request did. A
// booking that exists (not cancelled) is answered as it is, without a write.
func (s *FairService) Book(ctx context.Context, p auth.Principal, deskID, slotID string, in BookingInput) (Booking, bool, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Booking{}, false, err
	}
	topic, err := fairText("topic", in.Topic, MaxText, false)
	if err != nil {
		return Booking{}, false, err
	}
	d, sl, b, worker, err := s.store.SlotForWorker(ctx, deskID, slotID, p.Sub)
	switch {
	case err != nil:
		return Booking{}, false, err
	case sl == nil:
		return Booking{}, false, ErrSlotNotFound
	case b != nil && b.Status != BookingCancelled:
		return *b, false, nil
	case !worker:
		return Booking{}, false, ErrNotWorker
	}
	now := s.clock()
	if sl.Status != "open" || !sl.Start.After(now) {
		return Booking{}, false, ErrSlotClosed
	}
	if sl.Booked >= sl.Capacity {
		return Booking{}, false, ErrSlotFull
	}
	return s.store.Book(ctx, *sl, Booking{DeskID: d.ID, SlotID: sl.ID, Sub: p.Sub, Kind: d.Kind,
		Status: BookingBooked, Topic: topic, Start: sl.Start, At: now})
}

// CancelBooking cancels the caller's booking of a slot.
func (s *FairService) CancelBooking(ctx context.Context, p auth.Principal, deskID, slotID string) (Booking, error) {
	if p.Sub == "" {
		return Booking{}, auth.ErrUnauthenticated
	}
	if _, ok := SlotStart(slotID); !ok {
		return Booking{}, ErrBookingNotFound
	}
	return s.store.CancelBooking(ctx, deskID, slotID, p.Sub)
}

// Bookings lists a slot's bookings (the desk's staff; admins).
func (s *FairService) Bookings(ctx context.Context, p auth.Principal, deskID, slotID string) ([]Booking, error) {
	if _, err := s.staffDesk(ctx, p, deskID); err != nil {
		return nil, err
	}
	if _, ok := SlotStart(slotID); !ok {
		return nil, ErrSlotNotFound
	}
	if _, err := s.store.Slot(ctx, deskID, slotID); err != nil {
		return nil, err
	}
	return s.store.Bookings(ctx, deskID, slotID, MaxSlotListSize)
}

// Served marks a worker's booking served (the desk's staff; admins): the consultation record is written
// once. A served booking is answered as it is.
func (s *FairService) Served(ctx context.Context, p auth.Principal, deskID, slotID, sub string) (Booking, error) {
	d, err := s.staffDesk(ctx, p, deskID)
	if err != nil {
		return Booking{}, err
	}
	if _, ok := SlotStart(slotID); !ok {
		return Booking{}, ErrBookingNotFound
	}
	for range fairCheckinRetries {
		b, err := s.store.Booking(ctx, deskID, slotID, sub)
		if err != nil {
			return Booking{}, err
		}
		switch b.Status {
		case BookingServed:
			return b, nil
		case BookingCancelled:
			return Booking{}, ErrBookingCancelled
		}
		b.Status, b.ServedAt, b.ServedBy = BookingServed, s.clock(), p.Sub
		err = s.store.Serve(ctx, b, d.Kind)
		if err == nil {
			return b, nil
		}
		if !lostRace(err) {
			return Booking{}, err
		}
	}
	return Booking{}, apperr.ErrContention
}

// MyBookings lists the caller's latest bookings.
func (s *FairService) MyBookings(ctx context.Context, p auth.Principal) ([]Booking, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	return s.store.MyBookings(ctx, p.Sub, MaxPageSize)
}
