package kpi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
)

// Bounded sketches keep a snapshot's size independent of how many reports a day (or a month, a year) has.
// Both merge exactly: a range's sketch is the same whether it is built from days, months or years.
//
// No library: DataDog's sketches-go (DDSketch, the same log-bucket idea) links google.golang.org/protobuf
// into both KPI functions for an encoding we would not use, and axiomhq/hyperloglog is approximate from
// the first element on; what is needed here is about a hundred lines, exact where it can be, tested below
// against the bounds it states.

// Alpha is the Histogram's relative accuracy: a quantile it returns is within Alpha of the exact
// nearest-rank value (before the KPI rounds hours to one decimal).
const Alpha = 0.01

// MaxMinutes is the largest duration the Histogram tells apart (two years); longer ones count as it.
const MaxMinutes = 731 * 24 * 60

// gamma is the ratio of consecutive buckets' bounds.
const gamma = (1 + Alpha) / (1 - Alpha)

// maxBucket is ⌈log_γ MaxMinutes⌉, the highest bucket (a test checks it): the Histogram's size bound.
const maxBucket = 694

// ExactDurations is how many durations a Histogram keeps exactly before it counts them in buckets: a
// small city's figures (and the README's worked example) are exact, a large one's within Alpha.
const ExactDurations = 1024

// Histogram counts durations in whole minutes: exactly (a sorted list) up to ExactDurations of them, then
// in logarithmic buckets — v ≥ 1 falls in bucket ⌈log_γ v⌉ with γ = (1+α)/(1−α), whose representative
// 2γ^i/(γ+1) is within α of every value in it; 0 has its own count. Either way it holds at most
// max(ExactDurations, maxBucket+1) numbers. Whether it is exact depends only on how many durations it
// holds, so merging days, months or years gives the same figures. The zero value is empty.
type Histogram struct {
	exact  []int // sorted; unused once binned
	binned bool
	zero   int64
	offset int     // bucket index of counts[0]
	counts []int64 // dense from the lowest to the highest non-empty bucket
}

func bucketOf(minutes int) int {
	if minutes > MaxMinutes {
		minutes = MaxMinutes
	}
	i := int(math.Ceil(math.Log(float64(minutes)) / math.Log(gamma)))
	return min(max(i, 0), maxBucket)
}

// Add counts one duration (negative minutes count as 0).
func (h *Histogram) Add(minutes int) {
	minutes = max(minutes, 0)
	if h.binned {
		h.addBinned(minutes, 1)
		return
	}
	i, _ := slices.BinarySearch(h.exact, minutes)
	h.exact = slices.Insert(h.exact, i, minutes)
	if len(h.exact) > ExactDurations {
		h.bin()
	}
}

func (h *Histogram) bin() {
	h.binned = true
	for _, m := range h.exact {
		h.addBinned(m, 1)
	}
	h.exact = nil
}

func (h *Histogram) addBinned(minutes int, n int64) {
	if minutes == 0 {
		h.zero += n
		return
	}
	h.addBucket(bucketOf(minutes), n)
}

func (h *Histogram) addBucket(i int, n int64) {
	switch {
	case len(h.counts) == 0:
		h.offset, h.counts = i, []int64{0}
	case i < h.offset:
		h.counts = append(make([]int64, h.offset-i), h.counts...)
		h.offset = i
	case i >= h.offset+len(h.counts):
		h.counts = append(h.counts, make([]int64, i-h.offset-len(h.counts)+1)...)
	}
	h.counts[i-h.offset] += n
}

// Merge adds o's durations to h.
func (h *Histogram) Merge(o Histogram) {
	if !o.binned {
		for _, m := range o.exact {
			h.Add(m)
		}
		return
	}
	if !h.binned {
		h.bin()
	}
	h.zero += o.zero
	for j, c := range o.counts {
		if c != 0 {
			h.addBucket(o.offset+j, c)
		}
	}
}

// Count is the number of durations counted.
func (h Histogram) Count() int64 {
	n := h.zero + int64(len(h.exact))
	for _, c := range h.counts {
		n += c
	}
	return n
}

// Exact reports whether the histogram still holds every duration itself.
func (h Histogram) Exact() bool { return !h.binned }

// Quantile returns the p-th percentile (nearest rank) in minutes — exact, or within Alpha of the exact
// value once binned — and false when the histogram is empty.
func (h Histogram) Quantile(p float64) (float64, bool) {
	n := h.Count()
	if n == 0 {
		return 0, false
	}
	rank := max(int64(math.Ceil(p/100*float64(n))), 1) // the rank-th smallest, 1-based
	if !h.binned {
		return float64(h.exact[rank-1]), true
	}
	if rank <= h.zero {
		return 0, true
	}
	seen := h.zero
	for j, c := range h.counts {
		seen += c
		if seen >= rank {
			return 2 * math.Pow(gamma, float64(h.offset+j)) / (gamma + 1), true
		}
	}
	return 2 * math.Pow(gamma, float64(h.offset+len(h.counts)-1)) / (gamma + 1), true
}

type histogramJSON struct {
	Exact  []int   `json:"e,omitempty"`
	Binned bool    `json:"b,omitempty"`
	Zero   int64   `json:"z,omitempty"`
	Offset int     `json:"o,omitempty"`
	Counts []int64 `json:"c,omitempty"`
}

// MarshalJSON stores {"e":[minutes]} or, binned, {"b":true,"z":zeros,"o":first bucket,"c":[counts]}.
func (h Histogram) MarshalJSON() ([]byte, error) {
	return json.Marshal(histogramJSON{Exact: h.exact, Binned: h.binned, Zero: h.zero, Offset: h.offset, Counts: h.counts})
}

// UnmarshalJSON reads what MarshalJSON wrote, refusing what it would never write.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histogramJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Offset < 0 || j.Offset+len(j.Counts) > maxBucket+1 || len(j.Exact) > ExactDurations || (j.Binned && len(j.Exact) > 0) ||
		!slices.IsSorted(j.Exact) {
		return fmt.Errorf("histogram: malformed")
	}
	*h = Histogram{exact: j.Exact, binned: j.Binned, zero: j.Zero, offset: j.Offset, counts: j.Counts}
	return nil
}

// ExactMax is how many distinct members a Distinct lists exactly before it becomes a HyperLogLog sketch.
const ExactMax = 2048

// hllP is the HyperLogLog's precision: 2^14 registers of one byte, standard error 1.04/√16384 = 0.81 %.
const hllP = 14

// DistinctError is the relative error a Distinct count stays within (three standard errors) once it is
// an estimate; up to ExactMax members it is exact.
const DistinctError = 3 * 1.04 / 128

// Distinct counts distinct 64-bit hashes: exactly (a sorted list) up to ExactMax of them, then as a
// HyperLogLog sketch of 2^14 registers. Either way it is at most 16 KiB, and merging is exact in the sense
// that the result depends only on the union of what was added.
type Distinct struct {
	exact []uint64 // sorted, unique; nil once hll is set
	hll   []byte
}

// Add adds a hash.
func (d *Distinct) Add(x uint64) {
	if d.hll != nil {
		d.addHLL(x)
		return
	}
	i, found := slices.BinarySearch(d.exact, x)
	if found {
		return
	}
	d.exact = slices.Insert(d.exact, i, x)
	if len(d.exact) > ExactMax {
		d.toHLL()
	}
}

func (d *Distinct) toHLL() {
	d.hll = make([]byte, 1<<hllP)
	for _, x := range d.exact {
		d.addHLL(x)
	}
	d.exact = nil
}

func (d *Distinct) addHLL(x uint64) {
	j := x >> (64 - hllP)
	rho := byte(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
	d.hll[j] = max(d.hll[j], rho)
}

// Merge adds o's members to d.
func (d *Distinct) Merge(o Distinct) {
	if o.hll == nil {
		for _, x := range o.exact {
			d.Add(x)
		}
		return
	}
	if d.hll == nil {
		d.toHLL()
	}
	for j, r := range o.hll {
		d.hll[j] = max(d.hll[j], r)
	}
}

// Count is the number of distinct members: exact up to ExactMax, else within DistinctError.
func (d Distinct) Count() int {
	if d.hll == nil {
		return len(d.exact)
	}
	m := float64(len(d.hll))
	sum, zeros := 0.0, 0
	for _, r := range d.hll {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros)) // linear counting for the small range
	}
	return int(math.Round(e))
}

type distinctJSON struct {
	Exact string `json:"x,omitempty"` // base64 of the big-endian hashes
	HLL   string `json:"h,omitempty"` // base64 of the registers
}

// MarshalJSON stores the exact list or the registers, base64-encoded.
func (d Distinct) MarshalJSON() ([]byte, error) {
	if d.hll != nil {
		return json.Marshal(distinctJSON{HLL: base64.StdEncoding.EncodeToString(d.hll)})
	}
	b := make([]byte, 8*len(d.exact))
	for i, x := range d.exact {
		binary.BigEndian.PutUint64(b[8*i:], x)
	}
	return json.Marshal(distinctJSON{Exact: base64.StdEncoding.EncodeToString(b)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Distinct) UnmarshalJSON(b []byte) error {
	var j distinctJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Distinct{}
	if j.HLL != "" {
		h, err := base64.StdEncoding.DecodeString(j.HLL)
		if err != nil || len(h) != 1<<hllP {
			return fmt.Errorf("distinct: bad registers")
		}
		d.hll = h
		return nil
	}
	x, err := base64.StdEncoding.DecodeString(j.Exact)
	if err != nil || len(x)%8 != 0 || len(x)/8 > ExactMax {
		return fmt.Errorf("distinct: bad exact list")
	}
	for i := 0; i < len(x); i += 8 {
		d.Add(binary.BigEndian.Uint64(x[i:]))
	}
	return nil
}

// MaxLateDays bounds the creation days a snapshot tells apart: a resolution more than this many days after
// its report's creation day counts in the resolved figures, and toward the completion rate of the public
// totals, but no longer toward its creation range's completion rate.
const MaxLateDays = 731

// olderKey collects, in a DayCounts, the creation days more than MaxLateDays before the snapshot's day. It
// sorts after every date, so no range ever includes it.
const olderKey = "older"

// DayCounts counts by local day (YYYY-MM-DD), plus olderKey. It is stored densely from its first day:
// {"f":"2026-10-01","c":[3,0,5],"o":older}; a day's snapshot spans at most MaxLateDays+1 days, a year's
// MaxLateDays+366.
type DayCounts map[string]int

type dayCountsJSON struct {
	First  string `json:"f,omitempty"`
	Counts []int  `json:"c,omitempty"`
	Older  int    `json:"o,omitempty"`
}

// MarshalJSON writes the dense form.
func (m DayCounts) MarshalJSON() ([]byte, error) {
	var j dayCountsJSON
	var first, last time.Time
	for k, n := range m {
		if k == olderKey {
			j.Older += n
			continue
		}
		d, err := time.Parse(time.DateOnly, k)
		if err != nil {
			return nil, fmt.Errorf("day counts: %q is not a day", k)
		}
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if last.IsZero() || d.After(last) {
			last = d
		}
	}
	if !first.IsZero() {
		j.First = first.Format(time.DateOnly)
		j.Counts = make([]int, int(last.Sub(first).Hours()/24)+1)
		for k, n := range m {
			if d, err := time.Parse(time.DateOnly, k); err == nil {
				j.Counts[int(d.Sub(first).Hours()/24)] += n
			}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the dense form, or the object of days that snapshots stored before it.
func (m *DayCounts) UnmarshalJSON(b []byte) error {
	var legacy map[string]json.RawMessage
	if err := json.Unmarshal(b, &legacy); err != nil {
		return err
	}
	out := DayCounts{}
	if _, dense := legacy["f"]; dense || len(legacy) == 0 || legacy["o"] != nil || legacy["c"] != nil {
		var j dayCountsJSON
		if err := json.Unmarshal(b, &j); err != nil {
			return err
		}
		if j.Older != 0 {
			out[olderKey] = j.Older
		}
		if len(j.Counts) > 0 {
			first, err := time.Parse(time.DateOnly, j.First)
			if err != nil || len(j.Counts) > MaxLateDays+400 {
				return fmt.Errorf("day counts: bad dense form")
			}
			for i, n := range j.Counts {
				if n != 0 {
					out[first.AddDate(0, 0, i).Format(time.DateOnly)] = n
				}
			}
		}
		*m = out
		return nil
	}
	var old map[string]int
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	for k, n := range old {
		out[k] = n
	}
	*m = out
	return nil
}

// add counts n on day, or on olderKey when day is more than MaxLateDays before ref.
func (m DayCounts) add(day, ref string, n int) {
	if older(day, ref) {
		day = olderKey
	}
	m[day] += n
}

// older reports whether day lies more than MaxLateDays before ref (both YYYY-MM-DD).
func older(day, ref string) bool {
	d, err1 := time.Parse(time.DateOnly, day)
	r, err2 := time.Parse(time.DateOnly, ref)
	return err1 != nil || err2 != nil || r.Sub(d) > MaxLateDays*24*time.Hour
}
