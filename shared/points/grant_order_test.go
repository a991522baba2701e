package points

import (
	"testing"
	"time"
)

// TestGrantLateDayNeverReopensCaps: awards of two local days interleaved (other shards, retries) never move
// the counters back, so no day and no month earns more than its cap however the records are ordered.
func TestGrantLateDayNeverReopensCaps(t *testing.T) {
	rules := DefaultRules()
	at := func(d, h, m int) time.Time { return time.Date(2026, 5, d, h, m, 0, 0, sh) }
	p := Profile{Sub: "u1"}
	var total int64
	// Alternate the 14th and the 15th: each switch used to zero the count.
	for i := range 20 {
		when := at(15, 0, i)
		if i%2 == 1 {
			when = at(14, 23, 30+i)
		}
		var a Award
		a, p, _ = Grant(p, "r", RuleReport, 10, 1, rules, when, sh)
		total += a.Granted
	}
	if total > 2*rules.DailyCap || p.Day != "2026-05-15" || p.DayEarned > rules.DailyCap {
		t.Errorf("granted %d over two days (caps of %d), profile %+v", total, rules.DailyCap, p)
	}

	// A late award from the last month counts against this month's counters; it does not reset them.
	p = Profile{Sub: "u2", Day: "2026-06-01", DayEarned: 0, Month: "2026-06", MonthEarned: 500}
	a, n, _ := Grant(p, "r", RuleReport, 10, 1, rules, at(31, 23, 0), sh)
	if a.Granted != 0 || n.Month != "2026-06" || n.Day != "2026-06-01" {
		t.Errorf("late award of May: granted %d, counters %s %s", a.Granted, n.Day, n.Month)
	}
}
