//go:build linux

package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const warmInvocations = 20

// TestRIEIntakeHealth runs the intake bootstrap under the Lambda Runtime Interface Emulator, as Lambda
// would (env config, Runtime API, one process per sandbox), invokes it with events/intake/health.json and
// measures the cold start and warm invocations.
func TestRIEIntakeHealth(t *testing.T) {
	if os.Getenv("SMOKE") != "1" {
		t.Skip("SMOKE=1 runs the bootstraps under the Runtime Interface Emulator (make smoke)")
	}
	root := repoRoot(t)
	rie := os.Getenv("RIE")
	if rie == "" {
		rie = filepath.Join(root, "bin", "aws-lambda-rie")
	}
	if _, err := os.Stat(rie); err != nil {
		t.Fatalf("emulator: %v (make rie builds it)", err)
	}
	bootstrap := hostBootstrap(t, root, "intake")
	payload := readFile(t, filepath.Join(root, "events", "intake", "health.json"))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	em := startEmulator(t, rie, bootstrap, map[string]string{
		"TABLE_NAME":            "x",
		"BUCKET_NAME":           "y",
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"CITY_TZ":               "Asia/Shanghai",
		// What Lambda sets from the template (Globals: MemorySize 256, Timeout 10).
		"AWS_LAMBDA_FUNCTION_NAME":        "intake",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "10",
		// Static credentials: the SDK must never look for an instance role.
		"AWS_EC2_METADATA_DISABLED": "true",
	})

	listening := em.waitListening(t, ctx)
	resp, firstInvoke := em.invoke(t, ctx, payload)
	coldStart := time.Since(em.started)
	assertHealthOK(t, resp)

	warm := make([]time.Duration, 0, warmInvocations)
	for range warmInvocations {
		resp, d := em.invoke(t, ctx, payload)
		assertHealthOK(t, resp)
		warm = append(warm, d)
	}
	slices.Sort(warm)

	rep := em.reports(t, 1+warmInvocations)
	lines := []string{
		fmt.Sprintf("# intake bootstrap under aws-lambda-rie, %s (%s/%s, %d CPUs), %s", time.Now().UTC().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		fmt.Sprintf("bootstrap: %s (%d bytes)", bootstrap, fileSize(bootstrap)),
		fmt.Sprintf("emulator listening after start:       %s", ms(listening)),
		fmt.Sprintf("cold start (start → first response):   %s", ms(coldStart)),
		fmt.Sprintf("first invocation (client round trip):  %s", ms(firstInvoke)),
		fmt.Sprintf("function init (rapid INIT REPORT):     %s", msOrNone(rep.initRuntime)),
		fmt.Sprintf("REPORT Init Duration (RIE hands init to rapid asynchronously; not the runtime's init): %s", msOrNone(rep.initReported)),
		fmt.Sprintf("first invoke Duration (REPORT):        %s", msOrNone(rep.firstDuration)),
		fmt.Sprintf("warm invocations (%d, client round trip): min %s, median %s, p90 %s, max %s",
			len(warm), ms(warm[0]), ms(warm[len(warm)/2]), ms(warm[len(warm)*9/10]), ms(warm[len(warm)-1])),
		fmt.Sprintf("warm Duration (REPORT, median):        %s", msOrNone(rep.warmMedian)),
	}
	for _, l := range lines {
		t.Log(l)
	}
	out := filepath.Join(root, "tests", "smoke", "output")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "coldstart.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "rie-intake.log"), em.log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertHealthOK(t *testing.T, raw []byte) {
	t.Helper()
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("emulator response is not an APIGatewayV2HTTPResponse: %v\n%s", err, raw)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("statusCode %d, want 200: %s", resp.StatusCode, raw)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", resp.Body, err)
	}
	if len(body) != 1 || body["status"] != "ok" {
		t.Fatalf("body %s, want {\"status\":\"ok\"}", resp.Body)
	}
}

// hostBootstrap is bin/<name>/bootstrap when run by make (BIN_DIR set, just built); otherwise it builds a
// fresh one, so a stale binary is never measured.
func hostBootstrap(t *testing.T, root, name string) string {
	t.Helper()
	if dir := os.Getenv("BIN_DIR"); dir != "" {
		p := filepath.Join(dir, name, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("bootstrap: %v (make build)", err)
		}
		return p
	}
	p := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", p, "./functions/"+name) // as make build
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./functions/%s: %v\n%s", name, err, out)
	}
	return p
}

// emulator is one aws-lambda-rie process and the bootstrap it starts.
type emulator struct {
	addr    string
	apiAddr string
	started time.Time
	log     *syncBuffer
	cmd     *exec.Cmd
	exited  chan struct{}
	client  *http.Client
}

func startEmulator(t *testing.T, rie, bootstrap string, env map[string]string) *emulator {
	t.Helper()
	addrs := freeAddrs(t, 2)
	addr, apiAddr := addrs[0], addrs[1]
	work := t.TempDir()
	// A clean environment: the function sees what Lambda would give it, not this shell's AWS settings.
	cmdEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TZ=:UTC"}
	for k, v := range env {
		cmdEnv = append(cmdEnv, k+"="+v)
	}
	em := &emulator{addr: addr, apiAddr: apiAddr, log: &syncBuffer{}, exited: make(chan struct{}), client: &http.Client{Timeout: 15 * time.Second}}
	em.cmd = exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr, // not the fixed 127.0.0.1:9001, so runs cannot collide
		"--log-level", "info",
		bootstrap)
	em.cmd.Dir = work
	em.cmd.Env = cmdEnv
	em.cmd.Stdout, em.cmd.Stderr = em.log, em.log
	// Its own process group, killed with the test binary if that dies first.
	em.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	em.started = time.Now()
	if err := em.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", rie, err)
	}
	go func() { _ = em.cmd.Wait(); close(em.exited) }()
	t.Cleanup(func() { em.stop(t) })
	return em
}

// waitListening returns how long after start the emulator accepted a connection on its invoke address and
// on its Runtime API. The emulator opens the Runtime API in a goroutine of its own and does not wait for it
// before it starts the bootstrap on the first invocation (rapid/sandbox.go: go startRuntimeAPI), so a
// bootstrap that starts fast could find it closed and exit ("connect: connection refused", a 502); in
// Lambda the API is up before the runtime starts.
func (em *emulator) waitListening(t *testing.T, ctx context.Context) time.Duration {
	t.Helper()
	for _, addr := range []string{em.addr, em.apiAddr} {
	dial:
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break dial
			}
			select {
			case <-em.exited:
				t.Fatalf("emulator exited before listening:\n%s", em.log.String())
			case <-ctx.Done():
				t.Fatalf("emulator not listening on %s: %v\n%s", addr, err, em.log.String())
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	return time.Since(em.started)
}

// invoke posts payload to the emulator's Invoke API and returns the function's result and the round trip.
func (em *emulator) invoke(t *testing.T, ctx context.Context, payload []byte) ([]byte, time.Duration) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+em.addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := em.client.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, em.log.String())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("invoke: read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: emulator answered %s: %s\n%s", resp.Status, body, em.log.String())
	}
	return body, d
}

type rieReports struct {
	initRuntime   time.Duration // "INIT REPORT(durationMs: …)": start of the bootstrap until it polled for work
	initReported  time.Duration // "Init Duration: … ms" of the first REPORT line: only RIE's async hand-off
	firstDuration time.Duration
	warmMedian    time.Duration
}

var (
	initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	reportRE     = regexp.MustCompile(`REPORT RequestId: \S+\t(?:Init Duration: ([0-9.]+) ms\t)?Duration: ([0-9.]+) ms`)
)

// reports waits for the emulator's REPORT lines of n invocations (printed after the response) and reads them.
func (em *emulator) reports(t *testing.T, n int) rieReports {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	var log string
	for {
		log = em.log.String()
		if len(reportRE.FindAllString(log, -1)) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var r rieReports
	if m := initReportRE.FindStringSubmatch(log); m != nil {
		r.initRuntime = msDuration(m[1])
	}
	all := reportRE.FindAllStringSubmatch(log, -1)
	if len(all) == 0 {
		t.Logf("no REPORT lines in the emulator log")
		return r
	}
	r.initReported, r.firstDuration = msDuration(all[0][1]), msDuration(all[0][2])
	var warm []time.Duration
	for _, m := range all[1:] {
		warm = append(warm, msDuration(m[2]))
	}
	if len(warm) > 0 {
		slices.Sort(warm)
		r.warmMedian = warm[len(warm)/2]
	}
	return r
}

// stop ends the emulator and the bootstrap it started. The emulator puts the bootstrap in a process
// group of its own, so that group is killed too, and the test checks that nothing is left.
func (em *emulator) stop(t *testing.T) {
	children := descendants(em.cmd.Process.Pid)
	_ = syscall.Kill(-em.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-em.exited:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-em.cmd.Process.Pid, syscall.SIGKILL)
		<-em.exited
	}
	for _, pid := range children {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range children {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d started by the emulator is still running", pid)
		}
	}
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppid(p); ok {
			parent[p] = pp
		}
	}
	var out []int
	frontier := []int{pid}
	for len(frontier) > 0 {
		cur := frontier[0]
		frontier = frontier[1:]
		for p, pp := range parent {
			if pp == cur {
				out = append(out, p)
				frontier = append(frontier, p)
			}
		}
	}
	return out
}

// ppid reads the parent of pid from /proc/<pid>/stat ("pid (comm) state ppid ...").
func ppid(pid int) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// alive is true while pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

// freeAddrs returns n distinct free loopback addresses: all held open until each is chosen, since a port
// closed and asked for again can come back (the emulator's two addresses could be the same port, and its
// Runtime API would fail to bind).
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}

func msDuration(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func msOrNone(d time.Duration) string {
	if d == 0 {
		return "(not reported)"
	}
	return ms(d)
}

// syncBuffer collects the emulator's output, written from its own goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf.Bytes())
}
