package webhook

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff returns how long to wait before retry number attempt (0 for the first retry): "full jitter" from
// the AWS Architecture Blog's "Exponential Backoff And Jitter", a random duration in [0, min(max,
// base·2^attempt)]. Jitter spreads the retries of many failed deliveries so a department endpoint that
// comes back is not hit by all of them at once. rnd returns a number in [0, 1); nil means math/rand/v2.
// The ceiling is computed without overflow, so any attempt number is safe; non-positive base or max give 0.
func Backoff(attempt int, base, max time.Duration, rnd func() float64) time.Duration {
	if base <= 0 || max <= 0 {
		return 0
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	ceiling := min(base, max)
	// Doubling stops at max, so a large attempt costs at most ~63 iterations and never overflows.
	for i := 0; i < attempt && ceiling < max; i++ {
		if ceiling > max/2 {
			ceiling = max
			break
		}
		ceiling *= 2
	}
	r := rnd()
	if math.IsNaN(r) || r <= 0 {
		return 0
	}
	f := r * float64(ceiling)
	// float64(ceiling) may round up (e.g. to 2^63 for the largest durations), and converting an
	// out-of-range float to an integer is implementation-defined, so clamp before converting.
	if r >= 1 || f >= float64(ceiling) {
		return ceiling
	}
	return time.Duration(f)
}
