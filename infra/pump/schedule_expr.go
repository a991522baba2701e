package pump

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timing computes when a schedule fires next.
type timing interface {
	// next returns the first fire time strictly after t, or the zero time if there is none.
	next(t time.Time) time.Time
}

// parseExpression parses rate(...), cron(...) and at(...) as EventBridge and EventBridge Scheduler
// accept them; loc is the schedule's time zone (cron and at are in local time there, UTC by default).
func parseExpression(expr string, loc *time.Location) (timing, error) {
	expr = strings.TrimSpace(expr)
	kind, arg, ok := strings.Cut(expr, "(")
	if !ok || !strings.HasSuffix(arg, ")") {
		return nil, fmt.Errorf("schedule expression %q: want rate(...), cron(...) or at(...)", expr)
	}
	arg = strings.TrimSpace(strings.TrimSuffix(arg, ")"))
	switch kind {
	case "rate":
		d, err := parseRate(arg)
		if err != nil {
			return nil, fmt.Errorf("schedule expression %q: %w", expr, err)
		}
		return every(d), nil
	case "cron":
		c, err := parseCron(arg, loc)
		if err != nil {
			return nil, fmt.Errorf("schedule expression %q: %w", expr, err)
		}
		return c, nil
	case "at":
		t, err := time.ParseInLocation("2006-01-02T15:04:05", arg, loc)
		if err != nil {
			return nil, fmt.Errorf("schedule expression %q: want at(yyyy-mm-ddThh:mm:ss)", expr)
		}
		return once(t), nil
	default:
		return nil, fmt.Errorf("schedule expression %q: want rate(...), cron(...) or at(...)", expr)
	}
}

// parseRate parses "value unit": a positive integer and minute(s), hour(s) or day(s), singular exactly
// when the value is 1, as AWS requires.
func parseRate(arg string) (time.Duration, error) {
	fields := strings.Fields(arg)
	if len(fields) != 2 {
		return 0, fmt.Errorf("want rate(value unit)")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rate value %q: want a positive integer", fields[0])
	}
	unit := fields[1]
	singular := strings.TrimSuffix(unit, "s")
	if (n == 1) != (singular == unit) {
		return 0, fmt.Errorf("rate unit %q: use the singular for 1 and the plural otherwise", unit)
	}
	switch singular {
	case "minute":
		return time.Duration(n) * time.Minute, nil
	case "hour":
		return time.Duration(n) * time.Hour, nil
	case "day":
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("rate unit %q: want minutes, hours or days", unit)
}

// every fires at a fixed period, the first time one period after it starts, as a new rate schedule does.
type every time.Duration

func (e every) next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// once fires at one time, if it is still ahead.
type once time.Time

func (o once) next(t time.Time) time.Time {
	if at := time.Time(o); at.After(t) {
		return at
	}
	return time.Time{}
}

// cronSpec is a six-field AWS cron expression: minutes hours day-of-month month day-of-week year.
type cronSpec struct {
	loc            *time.Location
	minutes, hours []bool
	months         []bool // index 1-12
	years          []bool // index year-minYear
	dom            domSpec
	dow            dowSpec
	anyDOM, anyDOW bool // the field is '?'
}

const (
	minYear = 1970
	maxYear = 2199
)

// domSpec is the day-of-month field: days, or L (last day), LW (last weekday), nW (weekday nearest n).
type domSpec struct {
	days        []bool // index 1-31
	last        bool
	lastWeekday bool
	nearest     int
}

// dowSpec is the day-of-week field (1 = Sunday … 7 = Saturday): days, nL (last such day of the month)
// or n#k (the k-th such day of the month).
type dowSpec struct {
	days       []bool // index 1-7
	lastOf     int
	nth, nthOf int
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(arg string, loc *time.Location) (*cronSpec, error) {
	f := strings.Fields(arg)
	if len(f) != 6 {
		return nil, fmt.Errorf("want 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cronSpec{loc: loc}
	var err error
	if c.minutes, err = parseCronField(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	if c.hours, err = parseCronField(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	if c.months, err = parseCronField(f[3], 1, 12, monthNames); err != nil {
		return nil, fmt.Errorf("month: %w", err)
	}
	years, err := parseCronField(f[5], minYear, maxYear, nil)
	if err != nil {
		return nil, fmt.Errorf("year: %w", err)
	}
	c.years = years[minYear:]
	c.anyDOM, c.anyDOW = f[2] == "?", f[4] == "?"
	if c.anyDOM == c.anyDOW {
		return nil, fmt.Errorf("exactly one of day-of-month and day-of-week must be '?'")
	}
	if !c.anyDOM {
		if c.dom, err = parseDOM(f[2]); err != nil {
			return nil, fmt.Errorf("day-of-month: %w", err)
		}
	}
	if !c.anyDOW {
		if c.dow, err = parseDOW(f[4]); err != nil {
			return nil, fmt.Errorf("day-of-week: %w", err)
		}
	}
	return c, nil
}

func parseDOM(s string) (domSpec, error) {
	switch {
	case s == "L":
		return domSpec{last: true}, nil
	case s == "LW":
		return domSpec{lastWeekday: true}, nil
	case strings.HasSuffix(s, "W"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "W"))
		if err != nil || n < 1 || n > 31 {
			return domSpec{}, fmt.Errorf("%q: want nW with n from 1 to 31", s)
		}
		return domSpec{nearest: n}, nil
	}
	days, err := parseCronField(s, 1, 31, nil)
	return domSpec{days: days}, err
}

func parseDOW(s string) (dowSpec, error) {
	if day, k, ok := strings.Cut(s, "#"); ok {
		d, err1 := cronValue(day, 1, 7, dayNames)
		n, err2 := strconv.Atoi(k)
		if err1 != nil || err2 != nil || n < 1 || n > 5 {
			return dowSpec{}, fmt.Errorf("%q: want day#n with n from 1 to 5", s)
		}
		return dowSpec{nth: n, nthOf: d}, nil
	}
	if s == "L" {
		return dowSpec{lastOf: 7}, nil
	}
	if day, ok := strings.CutSuffix(s, "L"); ok {
		d, err := cronValue(day, 1, 7, dayNames)
		if err != nil {
			return dowSpec{}, fmt.Errorf("%q: want dayL", s)
		}
		return dowSpec{lastOf: d}, nil
	}
	days, err := parseCronField(s, 1, 7, dayNames)
	return dowSpec{days: days}, err
}

// parseCronField parses a list of *, values, ranges and steps (a/n, a-b/n, */n) into a set indexed by
// value.
func parseCronField(s string, lo, hi int, names map[string]int) ([]bool, error) {
	set := make([]bool, hi+1)
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: bad step", part)
			}
			step = n
		}
		from, to := lo, hi
		switch a, b, isRange := strings.Cut(rng, "-"); {
		case rng == "*":
		case isRange:
			var err error
			if from, err = cronValue(a, lo, hi, names); err != nil {
				return nil, err
			}
			if to, err = cronValue(b, lo, hi, names); err != nil {
				return nil, err
			}
			if to < from {
				return nil, fmt.Errorf("%q: range ends before it starts", part)
			}
		default:
			v, err := cronValue(rng, lo, hi, names)
			if err != nil {
				return nil, err
			}
			from = v
			if !hasStep {
				to = v
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func cronValue(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%q: want a value from %d to %d", s, lo, hi)
	}
	return v, nil
}

// next walks forward day by day (skipping whole months and years that cannot match) to the first
// matching minute after t.
func (c *cronSpec) next(t time.Time) time.Time {
	t = t.In(c.loc).Truncate(time.Minute).Add(time.Minute)
	for day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc); day.Year() <= maxYear; {
		y, m := day.Year(), day.Month()
		switch {
		case y < minYear || !c.years[y-minYear]:
			day = time.Date(y+1, 1, 1, 0, 0, 0, 0, c.loc)
			continue
		case !c.months[m]:
			day = time.Date(y, m+1, 1, 0, 0, 0, 0, c.loc)
			continue
		}
		if c.dayMatches(day) {
			for h := 0; h < 24; h++ {
				for mi := 0; mi < 60; mi++ {
					if !c.hours[h] || !c.minutes[mi] {
						continue
					}
					at := time.Date(y, m, day.Day(), h, mi, 0, 0, c.loc)
					if !at.Before(t) {
						return at
					}
				}
			}
		}
		day = time.Date(y, m, day.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return time.Time{}
}

func (c *cronSpec) dayMatches(day time.Time) bool {
	d := day.Day()
	last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, c.loc).Day()
	if !c.anyDOM {
		switch {
		case c.dom.last:
			return d == last
		case c.dom.lastWeekday:
			return d == nearestWeekday(day, last, last)
		case c.dom.nearest > 0:
			return c.dom.nearest <= last && d == nearestWeekday(day, c.dom.nearest, last)
		default:
			return c.dom.days[d]
		}
	}
	wd := int(day.Weekday()) + 1 // AWS: 1 = Sunday
	switch {
	case c.dow.lastOf > 0:
		return wd == c.dow.lastOf && d+7 > last
	case c.dow.nth > 0:
		return wd == c.dow.nthOf && (d-1)/7+1 == c.dow.nth
	default:
		return c.dow.days[wd]
	}
}

// nearestWeekday is the weekday of day's month nearest to day n, without leaving the month.
func nearestWeekday(day time.Time, n, last int) int {
	wd := time.Date(day.Year(), day.Month(), n, 0, 0, 0, 0, day.Location()).Weekday()
	switch {
	case wd == time.Saturday && n > 1:
		return n - 1
	case wd == time.Saturday:
		return n + 2
	case wd == time.Sunday && n < last:
		return n + 1
	case wd == time.Sunday:
		return n - 2
	}
	return n
}
