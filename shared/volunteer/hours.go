package volunteer

import "time"

// The attendance windows and the hours rule (README "Volunteers"): check-in is open from CheckInEarly before
// the activity's start until its end; check-out from the check-in until CheckOutLate after the end (later
// the organiser marks attendance). Credited minutes are the overlap of [check-in, check-out] with the
// activity's [start, end], rounded down to a whole multiple of HoursStep.
const (
	CheckInEarly = 30 * time.Minute
	CheckOutLate = 30 * time.Minute
	HoursStep    = 15 * time.Minute
)

// CreditedMinutes is the hours rule: the overlap of [in, out] with [start, end], rounded down to a multiple
// of 15 minutes (0 when they do not overlap).
func CreditedMinutes(in, out, start, end time.Time) int64 {
	lo, hi := in, out
	if start.After(lo) {
		lo = start
	}
	if end.Before(hi) {
		hi = end
	}
	if !hi.After(lo) {
		return 0
	}
	return int64(hi.Sub(lo)/HoursStep) * int64(HoursStep/time.Minute)
}

// windowMinutes is the length of an activity's window in minutes: the most one attendance may be credited.
func windowMinutes(a Activity) int64 { return int64(a.End.Sub(a.Start) / time.Minute) }

// checkInOpen reports whether check-in is open at t.
func checkInOpen(a Activity, t time.Time) bool {
	return !t.Before(a.Start.Add(-CheckInEarly)) && !t.After(a.End)
}

// checkOutOpen reports whether a volunteer who checked in at in may check out at t.
func checkOutOpen(a Activity, in, t time.Time) bool {
	return !t.Before(in) && !t.After(a.End.Add(CheckOutLate))
}
