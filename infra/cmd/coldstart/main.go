// Command coldstart measures each function's cold start against a hello-world Go Lambda function under
// the Lambda Runtime Interface Emulator (issue 11):
//
//	go run ./infra/cmd/coldstart -pairs 30        (make coldstart)
//
// It builds every functions/<name> and infra/cmd/coldstart/hello with the Lambda flags of infra/build.mk
// (no cgo, lambda.norpc and timetzdata, -trimpath, -s -w): once for the host, to run, and once for
// linux/arm64, the size Lambda deploys. Then, per function, it runs pairs of cold starts — a fresh emulator
// and bootstrap for each, hello and the function alternately first — and prints the median of the pairs'
// ratios of
//   - total: emulator start → the first invocation's response (the client's clock);
//   - init: the emulator's INIT REPORT, the bootstrap's start until it asks for its first event
//     (Go runtime and package init, main's constructor);
//
// and, per binary, "pkg init": the median over as many runs of the sum of the package inits' clock times
// that GODEBUG=inittrace=1 prints (the bootstrap run alone, with no Runtime API, exits after them). It is
// CPU work in one thread, so it moves far less with the machine's load than the emulator's timings, and it
// says which packages the init time goes to (-inittrace prints each binary's largest).
//
// The first invocation is one each function answers without AWS: an HTTP function gets GET /v1/health
// (the intake route; the others answer 404 from their router), a stream or queue consumer an empty
// batch. A scheduled function reads the table on every run, so AWS_ENDPOINT_URL points at a stub in this
// process that answers every call at once with a non-retryable error: its first invocation includes one
// SDK request over loopback. Calls the stub answered are printed per function. What that request costs
// apart from the emulator's noise: go run ./infra/cmd/coldstart/firstcall (the first and a second Handle
// of each scheduled function in fresh processes, wall and CPU time).
//
// With -floors (the default) it measures, the same way, builds of infra/cmd/coldstart/floor: a
// hello-world that links only the AWS plumbing a function uses (the SDK's DynamoDB client; with it
// functions/platform/awsrest for S3 as intake, or for S3, SQS and Secrets Manager as departments — the
// functions call those three through awsrest, not the SDK's clients), and the DynamoDB one once more with
// a first invocation that makes one call, as a scheduled function's does. They are the cold start and size
// no function can go under with the AWS code it links, so a function's figures can be read against its
// floor as well as against hello.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	pairs := flag.Int("pairs", 30, "interleaved hello/function cold starts per function")
	only := flag.String("functions", "", "comma-separated functions (default: every functions/<name>/main.go)")
	rie := flag.String("rie", "bin/aws-lambda-rie", "the emulator (make rie builds it)")
	tags := flag.String("tags", "lambda.norpc,timetzdata", "build tags (infra/build.mk GO_TAGS)")
	ldflags := flag.String("ldflags", "-s -w", "linker flags (infra/build.mk)")
	withFloors := flag.Bool("floors", true, "also measure the SDK floors (infra/cmd/coldstart/floor)")
	top := flag.Int("inittrace", 0, "print each binary's N packages with the largest init")
	flag.Parse()
	if err := run(*pairs, *only, *rie, *tags, *ldflags, *withFloors, *top); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// trigger is the kind of event a function consumes; it decides the first invocation's payload.
type trigger int

const (
	httpAPI trigger = iota
	batch
	scheduled
)

// triggers maps each function to its trigger (template.yaml's Events). A new function must be added here.
// hello and the floors answer API Gateway events: httpAPI, the zero value.
var triggers = map[string]trigger{
	"intake": httpAPI, "departments": httpAPI, "admin": httpAPI, "account": httpAPI, "redeem": httpAPI, "dashboard": httpAPI,
	"open311": httpAPI, "web": httpAPI, "volunteer": httpAPI, "builders": httpAPI,
	"dispatch": batch, "accrual": batch, "notify": batch,
	"kpi": scheduled, "reconciler": scheduled, "sweeper": scheduled, "photosweep": scheduled,
}

// floors are the builds of infra/cmd/coldstart/floor, by name: the build tag that selects their clients.
var floors = map[string]string{
	"floor-dynamodb":      "",
	"floor-dynamodb-call": "",
	"floor-photos":        "floor_photos",
	"floor-departments":   "floor_departments",
}

// floorCalls are the floors whose first invocation makes one call per linked client (GET /v1/floor), as a
// scheduled function's first run reads the table: floor-dynamodb-call is the floor of kpi, reconciler and
// the sweeper, whose first invocation makes one DynamoDB call that the stub refuses.
var floorCalls = map[string]bool{"floor-dynamodb-call": true}

// eventOf is the first invocation's event of a function or floor.
func eventOf(name string) []byte {
	if floorCalls[name] {
		return bytes.ReplaceAll(payload(httpAPI), []byte("/v1/health"), []byte("/v1/floor"))
	}
	return payload(triggers[name])
}

func payload(t trigger) []byte {
	switch t {
	case httpAPI:
		return []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/v1/health","rawQueryString":"","headers":{"host":"api.example.com"},` +
			`"requestContext":{"http":{"method":"GET","path":"/v1/health","protocol":"HTTP/1.1","sourceIp":"192.0.2.1","userAgent":"coldstart"},` +
			`"requestId":"cold-1","routeKey":"$default","stage":"$default","timeEpoch":1764500000000},"isBase64Encoded":false}`)
	case batch:
		return []byte(`{"Records":[]}`)
	default:
		return []byte(`{"version":"0","id":"cold-1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",` +
			`"time":"2026-11-30T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}`)
	}
}

func run(pairs int, only, rie, tags, ldflags string, withFloors bool, top int) error {
	if _, err := os.Stat(rie); err != nil {
		return fmt.Errorf("%w (make rie builds the emulator)", err)
	}
	rie, _ = filepath.Abs(rie)
	names, err := functionNames(only)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	type target struct{ pkg, tags string }
	pkgs := map[string]target{"hello": {"./infra/cmd/coldstart/hello", tags}}
	for _, n := range names {
		pkgs[n] = target{"./functions/" + n, tags}
	}
	measured := names
	if withFloors {
		var fl []string
		for n, tag := range floors {
			pkgs[n] = target{"./infra/cmd/coldstart/floor", strings.Trim(tags+","+tag, ",")}
			fl = append(fl, n)
		}
		slices.Sort(fl)
		measured = append(slices.Clone(names), fl...)
	}
	hostBins, armSizes := map[string]string{}, map[string]int64{}
	for name, t := range pkgs {
		host := filepath.Join(dir, runtime.GOARCH, name, "bootstrap")
		if err := build(t.pkg, host, runtime.GOARCH, t.tags, ldflags); err != nil {
			return err
		}
		arm := filepath.Join(dir, "arm64", name, "bootstrap")
		if err := build(t.pkg, arm, "arm64", t.tags, ldflags); err != nil {
			return err
		}
		hostBins[name] = host
		fi, err := os.Stat(arm)
		if err != nil {
			return err
		}
		armSizes[name] = fi.Size()
	}

	stub := newStub()
	defer stub.Close()
	env := []string{
		"TABLE_NAME=civicsnap", "BUCKET_NAME=civicsnap-photos", "CITY_TZ=Asia/Shanghai",
		"OUTBOX_QUEUE_URL=" + stub.URL + "/123456789012/outbox", "OUTBOX_DLQ_URL=" + stub.URL + "/123456789012/outbox-dlq",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDCOLDSTART", "AWS_SECRET_ACCESS_KEY=coldstart", "AWS_SESSION_TOKEN=coldstart",
		"AWS_ENDPOINT_URL=" + stub.URL, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_TIMEOUT=10",
	}

	fmt.Printf("# cold starts under aws-lambda-rie: %d interleaved pairs per function, %s/%s, %d CPUs, %s, %s\n",
		pairs, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format(time.RFC3339))
	// One unmeasured start of each binary: the page cache holds them all before the first pair.
	for _, name := range append([]string{"hello"}, measured...) {
		if _, err := coldStart(rie, hostBins[name], name, env, eventOf(name)); err != nil {
			return err
		}
	}

	inits := map[string]pkgInit{}
	for _, name := range append([]string{"hello"}, measured...) {
		pi, err := packageInit(hostBins[name], env, pairs)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		inits[name] = pi
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\ttotal ms\thello ms\ttotal ×\tinit ms\thello ms\tinit ×\tpkg init ms\tarm64 bytes\tsize ×\tAWS calls\t")
	for _, name := range measured {
		var fnTotal, hiTotal, fnInit, hiInit, rTotal, rInit []float64
		before := stub.calls.Load()
		for i := range pairs {
			order := []string{"hello", name}
			if i%2 == 1 {
				order = []string{name, "hello"}
			}
			got := map[string]result{}
			for _, n := range order {
				r, err := coldStart(rie, hostBins[n], n, env, eventOf(n))
				if err != nil {
					return err
				}
				got[n] = r
			}
			f, h := got[name], got["hello"]
			fnTotal, hiTotal = append(fnTotal, ms(f.total)), append(hiTotal, ms(h.total))
			fnInit, hiInit = append(fnInit, ms(f.init)), append(hiInit, ms(h.init))
			rTotal, rInit = append(rTotal, ms(f.total)/ms(h.total)), append(rInit, ms(f.init)/ms(h.init))
		}
		calls := float64(stub.calls.Load()-before) / float64(pairs)
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.1f\t\n", name,
			median(fnTotal), median(hiTotal), median(rTotal), median(fnInit), median(hiInit), median(rInit),
			inits[name].total, armSizes[name], float64(armSizes[name])/float64(armSizes["hello"]), calls)
	}
	fmt.Fprintf(tw, "hello\t\t\t\t\t\t\t%.2f\t%d\t1.00\t\t\n", inits["hello"].total, armSizes["hello"])
	if err := tw.Flush(); err != nil {
		return err
	}
	if top > 0 {
		for _, name := range append([]string{"hello"}, measured...) {
			fmt.Printf("# pkg init of %s, %.2f ms:", name, inits[name].total)
			for _, p := range inits[name].largest(top) {
				fmt.Printf(" %s %.2f;", p, inits[name].pkgs[p])
			}
			fmt.Println()
		}
	}
	fmt.Println("# total × and init × are the medians of the pairs' ratios; pkg init is the median sum of GODEBUG=inittrace=1's clocks;")
	fmt.Println("# size × is the linux/arm64 bootstrap's size over hello's")
	return nil
}

func functionNames(only string) ([]string, error) {
	var names []string
	if only != "" {
		names = strings.Split(only, ",")
	} else {
		mains, err := filepath.Glob("functions/*/main.go")
		if err != nil {
			return nil, err
		}
		if len(mains) == 0 {
			return nil, errors.New("no functions/*/main.go: run from the repository root")
		}
		for _, m := range mains {
			names = append(names, filepath.Base(filepath.Dir(m)))
		}
	}
	for _, n := range names {
		if _, ok := triggers[n]; !ok {
			return nil, fmt.Errorf("function %q: no trigger known (add it to triggers in infra/cmd/coldstart)", n)
		}
	}
	slices.Sort(names)
	return names, nil
}

func build(pkg, out, arch, tags, ldflags string) error {
	cmd := exec.Command("go", "build", "-tags", tags, "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (%s): %v\n%s", pkg, arch, err, out)
	}
	return nil
}

type result struct{ total, init time.Duration }

var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// coldStart starts a fresh emulator with the bootstrap, invokes it once and returns the time from the
// emulator's start to the response, and the init the emulator reported.
func coldStart(rie, bootstrap, name string, env []string, event []byte) (result, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return result{}, err
	}
	addr, apiAddr := addrs[0], addrs[1]
	work, err := os.MkdirTemp("", "coldstart-run-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(work)
	var log syncBuffer
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr,
		"--log-level", "info", bootstrap)
	cmd.Dir = work
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TZ=:UTC", "AWS_LAMBDA_FUNCTION_NAME=" + name}, env...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("start %s: %w", rie, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		// The emulator starts the bootstrap in a process group of its own: end both groups.
		for _, pid := range children(cmd.Process.Pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body, err := invoke(ctx, addr, apiAddr, event, exited)
	total := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w\n%s", name, err, log.String())
	}
	if err := checkResponse(body); err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	// The INIT REPORT line precedes the invocation; a short wait covers the emulator's log buffering.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		if m := initReportRE.FindStringSubmatch(log.String()); m != nil {
			f, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return result{}, err
			}
			return result{total: total, init: time.Duration(f * float64(time.Millisecond))}, nil
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("%s: no INIT REPORT in the emulator's log:\n%s", name, log.String())
		}
	}
}

// invoke posts the event as soon as the emulator listens (polling its ports, as a client would retry).
// The emulator opens its Runtime API in a goroutine of its own and does not wait for it before it starts
// the bootstrap on the first invocation (rapid/sandbox.go: go startRuntimeAPI), so a bootstrap that starts
// fast can find it closed and exit ("connect: connection refused", a 502): in Lambda the API is up before
// the runtime starts, so the invocation waits for it too.
func invoke(ctx context.Context, addr, apiAddr string, event []byte, exited <-chan struct{}) ([]byte, error) {
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	for _, a := range []string{addr, apiAddr} {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				return nil, errors.New("emulator exited before listening")
			case <-ctx.Done():
				return nil, fmt.Errorf("emulator not listening on %s: %w", a, err)
			case <-time.After(500 * time.Microsecond):
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("emulator answered %s: %s", resp.Status, body)
	}
	return body, nil
}

// checkResponse refuses what shows the function did not start: an init error ("Runtime exited", an
// errorType the runtime reports for a failed main). A handler's own error (a scheduled function's call
// refused by the stub) is an answer.
func checkResponse(body []byte) error {
	var r struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
		StatusCode   int    `json:"statusCode"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("response is not JSON: %s", body)
	}
	if strings.HasPrefix(r.ErrorType, "Runtime.") || strings.Contains(r.ErrorMessage, "exited") {
		return fmt.Errorf("the function did not start: %s", body)
	}
	if r.StatusCode >= 500 {
		return fmt.Errorf("the function answered %d: %s", r.StatusCode, body)
	}
	return nil
}

// stub answers every AWS call at once with a non-retryable client error, and counts them.
type stub struct {
	*httptest.Server
	calls atomic.Int64
}

func newStub() *stub {
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"coldstart stub"}`)
	}))
	return s
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(string(b[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// freeAddrs returns n distinct free loopback addresses: all held open until each is chosen, since a port
// closed and asked for again can come back (the emulator's two addresses were once the same port, and its
// Runtime API failed to bind).
func freeAddrs(n int) ([]string, error) {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// pkgInit is a binary's package init: the median of the runs' sums, and each package's median (ms).
type pkgInit struct {
	total float64
	pkgs  map[string]float64
}

func (p pkgInit) largest(n int) []string {
	names := slices.Collect(maps.Keys(p.pkgs))
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(p.pkgs[b], p.pkgs[a]) })
	return names[:min(n, len(names))]
}

var inittraceRE = regexp.MustCompile(`(?m)^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)

// packageInit runs the bootstrap alone n times with GODEBUG=inittrace=1 and sums the clocks of its package
// inits. With no Runtime API to reach (a closed port) the bootstrap exits once main runs.
func packageInit(bootstrap string, env []string, n int) (pkgInit, error) {
	addrs, err := freeAddrs(1) // closed when freeAddrs returns: nothing listens there
	if err != nil {
		return pkgInit{}, err
	}
	var sums []float64
	per := map[string][]float64{}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, bootstrap)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TZ=:UTC", "GODEBUG=inittrace=1", "AWS_LAMBDA_RUNTIME_API=" + addrs[0]}, env...)
		out, _ := cmd.CombinedOutput() // it exits 1: the Runtime API is not there
		cancel()
		ms := inittraceRE.FindAllStringSubmatch(string(out), -1)
		if len(ms) == 0 {
			return pkgInit{}, fmt.Errorf("no inittrace lines from %s:\n%s", bootstrap, out)
		}
		sum := 0.0
		for _, m := range ms {
			f, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return pkgInit{}, err
			}
			sum += f
			per[m[1]] = append(per[m[1]], f)
		}
		sums = append(sums, sum)
	}
	p := pkgInit{total: median(sums), pkgs: map[string]float64{}}
	for name, xs := range per {
		p.pkgs[name] = median(xs)
	}
	return p, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare[float64])
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
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
