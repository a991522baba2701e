package kpi

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestMaxBucket(t *testing.T) {
	if want := int(math.Ceil(math.Log(MaxMinutes) / math.Log(gamma))); maxBucket != want {
		t.Errorf("maxBucket = %d, want ⌈log_γ MaxMinutes⌉ = %d", maxBucket, want)
	}
}

// exactQuantile is the nearest-rank percentile of sorted values.
func exactQuantile(sorted []int, p float64) float64 {
	return float64(sorted[max(int(math.Ceil(p/100*float64(len(sorted))))-1, 0)])
}

// TestHistogramErrorBound: median and p90 (and other quantiles) of a binned histogram stay within Alpha of
// the exact nearest-rank values, for durations spread from a minute to two years, clustered, or constant.
func TestHistogramErrorBound(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		name string
		n    int
		gen  func() int
	}{
		{"log-uniform 1 min – 2 years", 50_000, func() int { return int(math.Exp(rnd.Float64() * math.Log(MaxMinutes))) }},
		{"a few hours", 20_000, func() int { return 60 + rnd.IntN(600) }},
		{"mostly same-day, long tail", 30_000, func() int {
			if rnd.IntN(10) == 0 {
				return rnd.IntN(200 * 24 * 60)
			}
			return 1 + rnd.IntN(24*60)
		}},
		{"constant 36 h", 5_000, func() int { return 36 * 60 }},
		{"small values with zeros", 3_000, func() int { return rnd.IntN(5) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			vals := make([]int, tt.n)
			for i := range vals {
				vals[i] = tt.gen()
				h.Add(vals[i])
			}
			if h.Exact() {
				t.Fatalf("%d durations still exact", tt.n)
			}
			slices.Sort(vals)
			for _, p := range []float64{1, 10, 50, 90, 99, 100} {
				got, ok := h.Quantile(p)
				want := exactQuantile(vals, p)
				if !ok || math.Abs(got-want) > Alpha*want+1e-9 {
					t.Errorf("p%v = %.3f, exact %.0f: relative error %.4f > %v", p, got, want, math.Abs(got-want)/want, Alpha)
				}
			}
			if h.Count() != int64(tt.n) {
				t.Errorf("count = %d, want %d", h.Count(), tt.n)
			}
		})
	}
}

// TestHistogramExactThenBinned: up to ExactDurations the quantiles are exact; one more bins them; and
// merging parts gives the same histogram as adding everything to one, whichever way it is split.
func TestHistogramExactThenBinned(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	vals := make([]int, ExactDurations+1)
	for i := range vals {
		vals[i] = rnd.IntN(10_000)
	}
	var h Histogram
	for _, v := range vals[:ExactDurations] {
		h.Add(v)
	}
	sorted := slices.Sorted(slices.Values(vals[:ExactDurations]))
	if got, _ := h.Quantile(50); !h.Exact() || got != exactQuantile(sorted, 50) {
		t.Errorf("exact median = %v (exact %v), want %v", got, h.Exact(), exactQuantile(sorted, 50))
	}
	h.Add(vals[ExactDurations])
	if h.Exact() {
		t.Error("still exact past ExactDurations")
	}

	for _, parts := range []int{2, 7, 40} {
		var whole, merged Histogram
		split := make([]Histogram, parts)
		for i, v := range vals {
			whole.Add(v)
			split[i%parts].Add(v)
		}
		for _, p := range split {
			merged.Merge(p)
		}
		a, _ := json.Marshal(whole)
		b, _ := json.Marshal(merged)
		if string(a) != string(b) {
			t.Errorf("merged from %d parts differs from one histogram", parts)
		}
	}
	var small, merged Histogram
	for _, v := range []int{5, 1, 3} {
		small.Add(v)
	}
	merged.Merge(small)
	merged.Merge(small)
	if got, _ := merged.Quantile(50); !merged.Exact() || merged.Count() != 6 || got != 3 {
		t.Errorf("two small merged: exact %v count %d median %v", merged.Exact(), merged.Count(), got)
	}
}

func TestHistogramJSON(t *testing.T) {
	var h Histogram
	for i := range 3000 {
		h.Add(i * 37)
	}
	b, _ := json.Marshal(h)
	var back Histogram
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, p := range []float64{50, 90} {
		x, _ := h.Quantile(p)
		y, _ := back.Quantile(p)
		if x != y {
			t.Errorf("p%v %v → %v after a round trip", p, x, y)
		}
	}
	for _, bad := range []string{`{"b":true,"o":690,"c":[1,2,3,4,5,6]}`, `{"o":-1,"c":[1]}`, `{"e":[3,1]}`, `{"b":true,"e":[1]}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestDistinct: exact up to ExactMax, then within DistinctError; merging depends only on the union.
func TestDistinct(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 100, ExactMax, ExactMax + 1, 5_000, 20_000, 100_000, 1_000_000} {
		var d Distinct
		for i := range n {
			x := pseudonym("u" + strconv.Itoa(i))
			d.Add(x)
			if rnd.IntN(3) == 0 {
				d.Add(x) // a reporter with several reports counts once
			}
		}
		got := d.Count()
		if n <= ExactMax && got != n {
			t.Errorf("n=%d: count %d, want exact", n, got)
		}
		if n > 0 && math.Abs(float64(got-n))/float64(n) > DistinctError {
			t.Errorf("n=%d: count %d, error %.4f > %.4f", n, got, math.Abs(float64(got-n))/float64(n), DistinctError)
		}
		b, _ := json.Marshal(d)
		if len(b) > 22_000 {
			t.Errorf("n=%d: %d bytes of JSON", n, len(b))
		}
		var back Distinct
		if err := json.Unmarshal(b, &back); err != nil || back.Count() != got {
			t.Errorf("n=%d: round trip %v, %d", n, err, back.Count())
		}
	}
	// Two overlapping halves merged count their union.
	var a, b, whole Distinct
	for i := range 6000 {
		x := pseudonym("v" + strconv.Itoa(i))
		whole.Add(x)
		if i < 4000 {
			a.Add(x)
		}
		if i >= 2000 {
			b.Add(x)
		}
	}
	a.Merge(b)
	if a.Count() != whole.Count() {
		t.Errorf("merged halves count %d, whole %d", a.Count(), whole.Count())
	}
}

func TestDayCounts(t *testing.T) {
	m := DayCounts{}
	m.add("2026-11-01", "2026-11-03", 2)
	m.add("2026-11-03", "2026-11-03", 1)
	m.add("2024-01-01", "2026-11-03", 4) // more than MaxLateDays before
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"f":"2026-11-01","c":[2,0,1],"o":4}` {
		t.Errorf("dense form %s", b)
	}
	var back DayCounts
	if err := json.Unmarshal(b, &back); err != nil || back["2026-11-01"] != 2 || back["2026-11-03"] != 1 || back[olderKey] != 4 || len(back) != 3 {
		t.Errorf("round trip %v %v", back, err)
	}
	var legacy DayCounts
	if err := json.Unmarshal([]byte(`{"2026-10-30":3,"2026-11-02":1}`), &legacy); err != nil || legacy["2026-10-30"] != 3 || len(legacy) != 2 {
		t.Errorf("legacy object %v %v", legacy, err)
	}
	var empty DayCounts
	if err := json.Unmarshal([]byte(`{}`), &empty); err != nil || len(empty) != 0 {
		t.Errorf("empty %v %v", empty, err)
	}
}

func TestCover(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	for _, tt := range []struct {
		from, to string
		want     []Block
	}{
		{"2026-11-03", "2026-11-20", []Block{{DayKind, "2026-11-03", "2026-11-20"}}},
		{"2026-11-01", "2026-11-30", []Block{{MonthKind, "2026-11", "2026-11"}}},
		{"2026-10-15", "2026-12-02", []Block{{DayKind, "2026-10-15", "2026-10-31"}, {MonthKind, "2026-11", "2026-11"}, {DayKind, "2026-12-01", "2026-12-02"}}},
		{"2021-03-05", "2026-11-30", []Block{{DayKind, "2021-03-05", "2021-03-31"}, {MonthKind, "2021-04", "2021-12"},
			{YearKind, "2022", "2025"}, {MonthKind, "2026-01", "2026-11"}}},
		{"2025-01-01", "2025-12-31", []Block{{YearKind, "2025", "2025"}}},
		{"2025-12-31", "2026-01-01", []Block{{DayKind, "2025-12-31", "2026-01-01"}}},
		{"2024-02-01", "2024-02-29", []Block{{MonthKind, "2024-02", "2024-02"}}},
	} {
		got := Cover(d(tt.from), d(tt.to))
		if !slices.Equal(got, tt.want) {
			t.Errorf("Cover(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
		// The blocks cover every day once.
		n := 0
		for _, b := range got {
			f, _ := Snapshot{Date: b.First}.Period()
			_, l := Snapshot{Date: b.Last}.Period()
			n += int(d(l).Sub(d(f)).Hours()/24) + 1
		}
		if want := int(d(tt.to).Sub(d(tt.from)).Hours()/24) + 1; n != want {
			t.Errorf("Cover(%s, %s) covers %d days, want %d", tt.from, tt.to, n, want)
		}
	}
}
