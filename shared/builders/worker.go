package builders

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// MaxYears bounds a worker's years of experience.
const MaxYears = 60

// ErrWorkerChanged is a profile write that met another write of the same profile (nothing written).
var ErrWorkerChanged = apperr.New(apperr.Conflict, "worker_changed", "the profile changed meanwhile; read it and try again")

// WorkerInput is a worker's profile as the worker sends it.
type WorkerInput struct {
	Name          string   `json:"name"`
	Phone         string   `json:"phone"`
	Trades        []string `json:"trades"`
	Years         int      `json:"years"`
	Area          Area     `json:"area"`
	Expected      Wage     `json:"expectedWage"`
	AvailableFrom string   `json:"availableFrom"`
	Visibility    string   `json:"visibility"`
}

// DailyWant is a worker's expected wage as a day's (yuan): a day's as is, a month's over DaysPerMonth, a
// piece-rate's daily estimate.
func DailyWant(w Wage) float64 {
	switch w.Unit {
	case UnitMonth:
		return float64(w.Min) / DaysPerMonth
	case UnitPiece:
		return float64(w.DailyEstimate)
	}
	return float64(w.Min)
}

// MatchName is the name employers see of a worker by visibility: full → the name; otherwise the surname (the
// name's first character) + 师傅.
func MatchName(name, visibility string) string {
	if visibility == VisibilityFull {
		return name
	}
	r, _ := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "师傅"
	}
	return string(r) + "师傅"
}

// MatchEntries are w's entries of the matching index (MatchEntry, match.go; pk WORKER#<sub>, sk
// TRADE#<trade>, gsi1 WORKERS#<trade>#<geohash4 of the area>/<availableFrom>#<sub>): one per trade, none
// when hidden, never the phone.
func MatchEntries(w Worker) []MatchEntry {
	if w.Visibility == VisibilityHidden {
		return nil
	}
	out := make([]MatchEntry, 0, len(w.Trades))
	for _, t := range w.Trades {
		out = append(out, MatchEntry{Sub: w.Sub, Trade: t, DisplayName: MatchName(w.Name, w.Visibility), Years: w.Years,
			Area: w.Area, Expected: w.Expected, DailyWant: DailyWant(w.Expected), AvailableFrom: w.AvailableFrom})
	}
	return out
}

// checkWage checks a worker's expected wage (Max is optional; 0 or at least Min).
func checkWage(w Wage) (Wage, error) {
	switch w.Unit {
	case UnitDay, UnitMonth:
		w.DailyEstimate = 0
	case UnitPiece:
		if w.DailyEstimate < 1 || w.DailyEstimate > maxWage {
			return w, ErrInvalid.With("expectedWage.dailyEstimate is required for a piece rate (1..%d yuan a day)", maxWage)
		}
	default:
		return w, ErrInvalid.With("expectedWage.unit is one of day, month, piece")
	}
	if w.Min < 1 || w.Min > maxWage {
		return w, ErrInvalid.With("expectedWage.min is 1..%d yuan", maxWage)
	}
	if w.Max != 0 && (w.Max < w.Min || w.Max > maxWage) {
		return w, ErrInvalid.With("expectedWage.max is 0 or min..%d yuan", maxWage)
	}
	return w, nil
}

// Check returns the profile normalised (trimmed; trades in the order given, each once) or ErrInvalid /
// ErrUnknownTrade. today is the city's local day: availableFrom is at most a year after it.
func (in WorkerInput) Check(today time.Time) (WorkerInput, error) {
	var err error
	out := in
	if out.Name, err = text("name", in.Name, MaxName, true); err != nil {
		return out, err
	}
	out.Phone = strings.TrimSpace(in.Phone)
	if !ValidPhone(out.Phone) {
		return out, ErrInvalid.With("phone is not a phone number")
	}
	if len(in.Trades) < 1 || len(in.Trades) > MaxTrades {
		return out, ErrInvalid.With("trades: 1 to %d of GET /v1/builders/trades", MaxTrades)
	}
	out.Trades = make([]string, 0, len(in.Trades))
	for _, t := range in.Trades {
		if !IsTrade(t) {
			return out, ErrUnknownTrade.With("%q is not a trade of GET /v1/builders/trades", t)
		}
		if !slices.Contains(out.Trades, t) {
			out.Trades = append(out.Trades, t)
		}
	}
	if in.Years < 0 || in.Years > MaxYears {
		return out, ErrInvalid.With("years is 0..%d", MaxYears)
	}
	a := in.Area
	if !validPoint(a.Lat, a.Lng) {
		return out, ErrInvalid.With("area.lat and area.lng are a place on the map")
	}
	if a.RadiusKm < 1 || a.RadiusKm > MaxRadiusKm {
		return out, ErrInvalid.With("area.radiusKm is 1..%d", MaxRadiusKm)
	}
	if out.Area.Name, err = text("area.name", a.Name, MaxName, false); err != nil {
		return out, err
	}
	if out.Expected, err = checkWage(in.Expected); err != nil {
		return out, err
	}
	d, err := time.Parse(time.DateOnly, in.AvailableFrom)
	if err != nil || d.Year() < 2000 || d.After(today.AddDate(1, 0, 0)) {
		return out, ErrInvalid.With("availableFrom is a date YYYY-MM-DD at most a year ahead")
	}
	switch in.Visibility {
	case "":
		out.Visibility = VisibilityProfile
	case VisibilityHidden, VisibilityProfile, VisibilityFull:
	default:
		return out, ErrInvalid.With("visibility is one of hidden, profile, full")
	}
	return out, nil
}

// sameProfile reports whether w already holds in.
func sameProfile(w Worker, in WorkerInput) bool {
	return w.Name == in.Name && w.Phone == in.Phone && slices.Equal(w.Trades, in.Trades) && w.Years == in.Years &&
		w.Area == in.Area && w.Expected == in.Expected && w.AvailableFrom == in.AvailableFrom && w.Visibility == in.Visibility
}

// localToday is the city's local day, as a date at midnight UTC (for date comparisons).
func (s *Service) localToday() time.Time {
	d, _ := time.Parse(time.DateOnly, s.now().In(s.tz).Format(time.DateOnly))
	return d
}

// MyWorker is the caller's worker profile, with the phone (ErrNotWorker).
func (s *Service) MyWorker(ctx context.Context, p auth.Principal) (Worker, error) {
	if err := requireSignedIn(p); err != nil {
		return Worker{}, err
	}
	return s.store.Worker(ctx, p.Sub)
}

// PutWorker opts the caller in to a worker profile or updates it; its match entries follow in the same
// transaction (one per trade; none when hidden; a removed trade's entry deleted). A re-sent profile
// answers it and writes nothing.
func (s *Service) PutWorker(ctx context.Context, p auth.Principal, in WorkerInput) (Worker, error) {
	if err := requireSignedIn(p); err != nil {
		return Worker{}, err
	}
	in, err := in.Check(s.localToday())
	if err != nil {
		return Worker{}, err
	}
	prev, err := s.store.Worker(ctx, p.Sub)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotWorker) {
		return Worker{}, err
	}
	if found && sameProfile(prev, in) {
		return prev, nil
	}
	now := s.clock()
	w := Worker{Sub: p.Sub, Name: in.Name, Phone: in.Phone, Trades: in.Trades, Years: in.Years, Area: in.Area,
		Expected: in.Expected, AvailableFrom: in.AvailableFrom, Visibility: in.Visibility, CreatedAt: now, UpdatedAt: now}
	var pp *Worker
	if found {
		w.CreatedAt, pp = prev.CreatedAt, &prev
	}
	err = s.store.PutWorker(ctx, w, MatchEntries(w), pp)
	if errors.Is(err, ErrWorkerChanged) {
		if cur, rerr := s.store.Worker(ctx, p.Sub); rerr == nil && sameProfile(cur, in) {
			return cur, nil // a concurrent copy of the same request won
		}
		return Worker{}, err
	}
	if err != nil {
		return Worker{}, err
	}
	return w, nil
}

// DeleteWorker opts the caller out: the profile and its match entries go. Opting out without a profile
// (or a re-sent opt-out) writes nothing.
func (s *Service) DeleteWorker(ctx context.Context, p auth.Principal) error {
	if err := requireSignedIn(p); err != nil {
		return err
	}
	prev, err := s.store.Worker(ctx, p.Sub)
	if errors.Is(err, ErrNotWorker) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.store.DeleteWorker(ctx, prev)
	if errors.Is(err, ErrWorkerChanged) {
		if _, rerr := s.store.Worker(ctx, p.Sub); errors.Is(rerr, ErrNotWorker) {
			return nil
		}
	}
	return err
}
