package scale

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/infra/demo"
)

// latencies collects the replay's requests, as sent (every attempt).
type latencies struct {
	mu       sync.Mutex
	api      []sample // the API's own routes and the presigned S3 uploads
	control  int      // the local runner's control routes (clock, drain, schedules, tokens)
	controlD time.Duration
}

type sample struct {
	start time.Time
	d     time.Duration
}

func (l *latencies) observe(a demo.Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.Control {
		l.control++
		l.controlD += a.Duration
		return
	}
	l.api = append(l.api, sample{a.Start, a.Duration})
}

// Tenth is one tenth of the run's requests, in the order they were sent.
type Tenth struct {
	N        int
	From, To time.Duration // since the first request: when the tenth's first was sent, its last answered
	Rate     float64       // requests a second over [From, To]
	P50, P99 time.Duration
}

// tenths splits the API requests into ten equal parts by the order they were sent.
func (l *latencies) tenths() []Tenth {
	l.mu.Lock()
	s := slices.Clone(l.api)
	l.mu.Unlock()
	return Tenths(s)
}

// Tenths splits samples into ten equal parts by start time, with each part's rate and latencies.
func Tenths(s []sample) []Tenth {
	if len(s) < 10 {
		return nil
	}
	slices.SortFunc(s, func(a, b sample) int { return a.start.Compare(b.start) })
	t0 := s[0].start
	var out []Tenth
	for i := range 10 {
		part := s[i*len(s)/10 : (i+1)*len(s)/10]
		end := part[0].start
		ds := make([]time.Duration, len(part))
		for j, x := range part {
			ds[j] = x.d
			if e := x.start.Add(x.d); e.After(end) {
				end = e
			}
		}
		slices.SortFunc(ds, func(a, b time.Duration) int { return cmp.Compare(a, b) })
		t := Tenth{N: len(part), From: part[0].start.Sub(t0), To: end.Sub(t0), P50: nearestRank(ds, 50), P99: nearestRank(ds, 99)}
		if span := end.Sub(part[0].start).Seconds(); span > 0 {
			t.Rate = float64(len(part)) / span
		}
		out = append(out, t)
	}
	return out
}

// nearestRank is the p-th percentile of sorted durations.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// printTenths writes the table and returns the ratio of the last tenth's p50 to the first's.
func printTenths(w io.Writer, ts []Tenth) float64 {
	if len(ts) == 0 {
		fmt.Fprintln(w, "  (too few requests for tenths)")
		return 0
	}
	fmt.Fprintf(w, "  %-6s %8s %17s %9s %9s %9s\n", "tenth", "requests", "time", "req/s", "p50 ms", "p99 ms")
	for i, t := range ts {
		fmt.Fprintf(w, "  %-6d %8d %7.0fs … %5.0fs %9.1f %9.1f %9.1f\n", i+1, t.N, t.From.Seconds(), t.To.Seconds(), t.Rate,
			ms(t.P50), ms(t.P99))
	}
	ratio := ms(ts[9].P50) / ms(ts[0].P50)
	fmt.Fprintf(w, "  p50 of the last tenth ÷ the first: %.2f (want ≤ 1.5)\n", ratio)
	return ratio
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
