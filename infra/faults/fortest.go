package faults

import (
	"log/slog"
	"strings"
	"testing"
)

// SuiteMix weights the kinds for the exactly-once suites: conflicts, throttling and lost answers alike, and
// a deadline (which costs a whole invocation) a tenth of the time.
func SuiteMix() []Kind {
	return []Kind{Conflict, Conflict, Conflict, Throttle, Throttle, Throttle, LostResponse, LostResponse, LostResponse, Deadline}
}

// ForTest returns an injector that faults perTen of every ten DynamoDB calls with kinds (SuiteMix when
// none), logs each fault to t, and at the end logs what it injected and the seed that replays the run.
func ForTest(t testing.TB, perTen int, kinds ...Kind) *Injector {
	t.Helper()
	if len(kinds) == 0 {
		kinds = SuiteMix()
	}
	inj, err := New(Options{PerTen: perTen, Kinds: kinds, Log: slog.New(slog.NewTextHandler(testLog{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		t.Logf("faults: %v (seed %d; replay with %s=%d)", inj.Stats(), inj.Seed(), SeedEnv, inj.Seed())
	})
	return inj
}

// testLog writes log lines to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
