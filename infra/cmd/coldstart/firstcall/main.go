// Command firstcall measures what a scheduled function's first run costs beyond hello-world's (issue 11,
// cold start): the part of the cold start that coldstart's emulator timings cannot separate from their
// noise. Each run is a fresh process, as a Lambda sandbox is: it builds the function as main does, makes one
// HTTP request with net/http (the runtime client has used it before the first event), then runs the
// function's Handle twice against a stub that refuses every AWS call at once (coldstart's), and reports
// each Handle's wall and CPU time:
//
//	go run ./infra/cmd/coldstart/firstcall -runs 100
//
// The first Handle is what a cold start adds for the run's AWS calls; the second is the same work with the
// SDK's and the runtime's first-use costs paid (lazy tables, the signing key, a fresh heap's page faults,
// the connection). CPU time is the process's (getrusage), so it moves far less with the machine's load
// than the wall time; the figures are medians over the runs, the functions interleaved.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/civicsnap/civicsnap/functions/kpi/kpifn"
	"github.com/civicsnap/civicsnap/functions/photosweep/photosweepfn"
	"github.com/civicsnap/civicsnap/functions/reconciler/reconcilerfn"
	"github.com/civicsnap/civicsnap/functions/sweeper/sweeperfn"
)

// childVar names the function a child process runs; its absence makes the process the parent.
const childVar = "FIRSTCALL_FUNCTION"

// scheduled are the functions fired by a schedule (coldstart's triggers), which firstcall measures.
var scheduled = []string{"kpi", "reconciler", "sweeper", "photosweep"}

// handler is a scheduled function's Handle.
type handler func(context.Context, json.RawMessage) error

// build constructs a scheduled function as its main does.
func build(ctx context.Context, name string, env func(string) string) (handler, error) {
	switch name {
	case "kpi":
		f, err := kpifn.FromEnv(ctx, env)
		if err != nil {
			return nil, err
		}
		return f.Handle, nil
	case "reconciler":
		f, err := reconcilerfn.FromEnv(ctx, env)
		if err != nil {
			return nil, err
		}
		return f.Handle, nil
	case "sweeper":
		f, err := sweeperfn.FromEnv(ctx, env)
		if err != nil {
			return nil, err
		}
		return f.Handle, nil
	case "photosweep":
		f, err := photosweepfn.FromEnv(ctx, env)
		if err != nil {
			return nil, err
		}
		return f.Handle, nil
	}
	return nil, fmt.Errorf("function %q: not a scheduled function (kpi, reconciler, sweeper, photosweep)", name)
}

// sample is one child's measurements, in microseconds.
type sample struct {
	NewWall, FirstWall, FirstCPU, SecondWall, SecondCPU int64
}

func main() {
	if name := os.Getenv(childVar); name != "" {
		if err := child(name); err != nil {
			fmt.Fprintln(os.Stderr, "firstcall:", err)
			os.Exit(1)
		}
		return
	}
	runs := flag.Int("runs", 100, "fresh processes per function")
	only := flag.String("functions", strings.Join(scheduled, ","), "comma-separated scheduled functions")
	flag.Parse()
	if err := parent(*runs, strings.Split(*only, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "firstcall:", err)
		os.Exit(1)
	}
}

func child(name string) error {
	ctx := context.Background()
	start := time.Now()
	h, err := build(ctx, name, os.Getenv)
	if err != nil {
		return err
	}
	var s sample
	s.NewWall = time.Since(start).Microseconds()
	resp, err := http.Get(os.Getenv("AWS_ENDPOINT_URL") + "/runtime")
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	event := json.RawMessage(`{"version":"0","id":"firstcall","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	s.FirstWall, s.FirstCPU = timed(func() { _ = h(ctx, event) })
	s.SecondWall, s.SecondCPU = timed(func() { _ = h(ctx, event) })
	return json.NewEncoder(os.Stdout).Encode(s)
}

// timed runs f and returns its wall and process CPU time in microseconds.
func timed(f func()) (wall, cpu int64) {
	before, start := cpuTime(), time.Now()
	f()
	return time.Since(start).Microseconds(), (cpuTime() - before).Microseconds()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func parent(runs int, names []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var calls atomic.Int64
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/runtime" {
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"firstcall stub"}`)
	}))
	defer stub.Close()
	env := []string{"PATH=" + os.Getenv("PATH"), "TZ=:UTC",
		"TABLE_NAME=civicsnap", "BUCKET_NAME=civicsnap-photos", "CITY_TZ=Asia/Shanghai",
		"OUTBOX_QUEUE_URL=" + stub.URL + "/123456789012/outbox",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDFIRSTCALL", "AWS_SECRET_ACCESS_KEY=firstcall", "AWS_SESSION_TOKEN=firstcall",
		"AWS_ENDPOINT_URL=" + stub.URL}
	got := map[string][]sample{}
	callsOf := map[string]int64{}
	for i := range runs {
		order := slices.Clone(names)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, name := range order {
			before := calls.Load()
			cmd := exec.Command(self)
			cmd.Env = append(slices.Clone(env), childVar+"="+name)
			var logs strings.Builder // the function's own logs: its refused calls, shown only if the run fails
			cmd.Stderr = &logs
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s: %w\n%s%s", name, err, logs.String(), out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			var s sample
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
				return fmt.Errorf("%s: %w: %s", name, err, out)
			}
			got[name] = append(got[name], s)
			callsOf[name] += calls.Load() - before
		}
	}
	fmt.Printf("# %d fresh processes per function, Handle twice each against a refusing stub, %s\n", runs, time.Now().UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tnew µs\t1st wall µs\t1st CPU µs\t2nd wall µs\t2nd CPU µs\tcalls a Handle\t")
	for _, name := range names {
		ss := got[name]
		med := func(f func(sample) int64) int64 {
			xs := make([]int64, len(ss))
			for i, s := range ss {
				xs[i] = f(s)
			}
			slices.SortFunc(xs, cmp.Compare[int64])
			return xs[len(xs)/2]
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t\n", name,
			med(func(s sample) int64 { return s.NewWall }), med(func(s sample) int64 { return s.FirstWall }),
			med(func(s sample) int64 { return s.FirstCPU }), med(func(s sample) int64 { return s.SecondWall }),
			med(func(s sample) int64 { return s.SecondCPU }), float64(callsOf[name])/float64(2*len(ss)))
	}
	return tw.Flush()
}
