// Package fuzz sends mutated and generated requests to every POST, PUT and DELETE route of the HTTP API — bodies,
// headers, path parameters, callers — and damaged query strings to the GET routes that page or filter,
// through a running local stack (the local API Gateway, its JWT check and the real handlers over moto), and
// reports every 5xx or dropped connection with a reproducer. Bad input must be a 4xx; a 5xx is a bug in
// the layer that let the input through.
//
// The routes come from template.yaml, so a new POST, PUT or DELETE route without a model here fails the run
// (and TestEveryWriteRouteHasAModel) instead of going unfuzzed. Each request starts from a valid one built
// from real ids (reports, redemptions, uploads, configuration read at setup) and is damaged in one or more
// ways, so it reaches the rules and the stores, not only the JSON reader.
package fuzz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Options configure a run.
type Options struct {
	API      string // base URL of a local stack (its /_local/token mints the callers' tokens)
	Template string // template.yaml, for the routes
	Duration time.Duration
	Seed     uint64
	Out      io.Writer // progress, findings and the summary
	CrashDir string    // reproducers are written here ("" : not written)
	Every    time.Duration
	// Workers is how many requests are in flight at once (default 1). The requests are still made one
	// after the other from the seed; with more than one, what the fixture learns from the answers (ids,
	// cursors) reaches later requests in an order the timing decides, as the stack's own asynchrony
	// already does. A finding's reproducer replays its own request either way.
	Workers int
}

// Finding is a request answered with a 5xx or not answered.
type Finding struct {
	Route   string  `json:"route"`
	Request Request `json:"request"`
	Status  int     `json:"status,omitempty"`
	Answer  string  `json:"answer,omitempty"`
	Err     string  `json:"error,omitempty"`
	Seed    uint64  `json:"seed"`
	N       int     `json:"n"` // the request's number in the run
}

// Summary is what a run did.
type Summary struct {
	Requests int
	ByRoute  map[string]map[int]int // route → status → count (0: no answer)
	Findings []Finding
	Setup    time.Duration
	Fuzzing  time.Duration
}

// Routes returns the routes to fuzz from the template: every POST, PUT and DELETE, and the GET routes with a
// query model. A POST, PUT or DELETE without a model is an error.
func Routes(templatePath string) ([]string, error) {
	tpl, err := stack.Load(templatePath)
	if err != nil {
		return nil, err
	}
	var routes, missing []string
	for _, fn := range tpl.Functions {
		for _, ev := range fn.HTTPAPIEvents {
			key := ev.Method + " " + ev.Path
			m, ok := models[key]
			switch {
			case writeMethod(ev.Method):
				if !ok {
					missing = append(missing, key)
					continue
				}
			case !ok || m.query == nil:
				continue
			}
			routes = append(routes, key)
		}
	}
	slices.Sort(routes)
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("no fuzz model for %s: add one to infra/fuzz/routes.go", strings.Join(missing, ", "))
	}
	return routes, nil
}

// writeMethod reports whether routes of method change state: each needs a model.
func writeMethod(method string) bool {
	return method == "POST" || method == "PUT" || method == "DELETE"
}

// Run sets up fixtures on the stack at opts.API and fuzzes for opts.Duration.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	if opts.Every == 0 {
		opts.Every = 10 * time.Second
	}
	routes, err := Routes(opts.Template)
	if err != nil {
		return nil, err
	}
	secrets, err := seededSecrets()
	if err != nil {
		return nil, err
	}
	c := newClient(opts.API, secrets)
	sum := &Summary{ByRoute: map[string]map[int]int{}}
	start := time.Now()
	fmt.Fprintf(opts.Out, "fuzz: seed %d, %d routes, setting up fixtures …\n", opts.Seed, len(routes))
	f, err := setup(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	sum.Setup = time.Since(start)
	fmt.Fprintf(opts.Out, "fuzz: fixtures ready in %.1fs (%d reports, %d redemptions); fuzzing for %s\n",
		sum.Setup.Seconds(), len(f.reports), len(f.redemptions), opts.Duration)

	g := newGen(opts.Seed)
	start = time.Now()
	deadline, next := start.Add(opts.Duration), start.Add(opts.Every)
	seen := map[string]bool{} // route, status and code of findings already printed
	var mu sync.Mutex         // g, sum, seen, next and opts.Out
	// work makes the next request (under mu, so a seed makes the same sequence), sends it and records
	// the answer, until the deadline.
	work := func() {
		for {
			mu.Lock()
			if !time.Now().Before(deadline) || ctx.Err() != nil {
				mu.Unlock()
				return
			}
			route := pickRoute(g, routes)
			req := makeRequest(g, f, route)
			sum.Requests++
			n := sum.Requests
			mu.Unlock()
			status, data, err := c.send(ctx, req)
			if ctx.Err() != nil {
				return
			}
			f.learn(route, status, data)
			mu.Lock()
			if sum.ByRoute[route] == nil {
				sum.ByRoute[route] = map[int]int{}
			}
			sum.ByRoute[route][status]++
			if err != nil || status >= 500 {
				fd := Finding{Route: route, Request: req, Status: status, Answer: truncate(string(data), 2000), Seed: opts.Seed, N: n}
				if err != nil {
					fd.Err = err.Error()
				}
				sum.Findings = append(sum.Findings, fd)
				sig := fmt.Sprint(route, status, codeOf(data), fd.Err != "")
				if !seen[sig] {
					seen[sig] = true
					report(opts, fd, len(sum.Findings))
				}
			}
			if now := time.Now(); now.After(next) {
				next = now.Add(opts.Every)
				fmt.Fprintf(opts.Out, "fuzz: %3.0fs %6d requests (%.0f/s), %d with 5xx\n", now.Sub(start).Seconds(), sum.Requests,
					float64(sum.Requests)/now.Sub(start).Seconds(), len(sum.Findings))
			}
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for range max(1, opts.Workers) {
		wg.Go(work)
	}
	wg.Wait()
	sum.Fuzzing = time.Since(start)
	sum.print(opts.Out)
	return sum, ctx.Err()
}

// Replay sends a reproducer's request again (a fresh token, a fresh signature) and returns the answer.
func Replay(ctx context.Context, api string, req Request) (int, []byte, error) {
	secrets, err := seededSecrets()
	if err != nil {
		return 0, nil, err
	}
	return newClient(api, secrets).send(ctx, req)
}

func seededSecrets() (map[string]string, error) {
	ds, err := seed.Departments()
	if err != nil {
		return nil, err
	}
	secrets := map[string]string{}
	for _, d := range ds {
		secrets[d.ID] = d.LocalSecret
	}
	return secrets, nil
}

// pickRoute weights write routes three to one over query routes.
func pickRoute(g *gen, routes []string) string {
	for {
		r := pick(g, routes)
		if !strings.HasPrefix(r, "GET ") || g.chance(0.33) {
			return r
		}
	}
}

// makeRequest builds a valid request for route and damages it: the body (its structure, its bytes), a
// path parameter, a header, the caller or the query string. About one in ten is sent undamaged, so state
// moves on (reports filed and handled, redemptions made) and later requests meet it.
func makeRequest(g *gen, f *fixture, route string) Request {
	m := models[route]
	req, body := m.build(g, f)
	if m.query != nil {
		q := m.query(g, f)
		req.Query = q.Encode()
		if g.chance(0.8) {
			req.Query = damageQuery(g, f, q)
		}
	}
	intact := g.chance(0.1)
	if body != nil {
		if !intact && g.chance(0.6) {
			body = g.mutateBody(body)
		}
		req.Body, _ = json.Marshal(body)
		if !intact && g.chance(0.25) {
			req.Body = g.mutateBytes(req.Body)
		}
	} else if req.Method != "GET" && g.chance(0.3) {
		req.Body = []byte(g.value(0))
	}
	if intact {
		return req
	}
	if strings.Contains(route, "{") && g.chance(0.15) {
		req.Path = damagePath(g, route, req.Path)
	}
	if g.chance(0.15) {
		damageHeaders(g, &req)
	}
	if g.chance(0.08) {
		damageCaller(g, &req)
	}
	if g.chance(0.01) {
		// Past the 64 KiB limit.
		req.Body = append(req.Body, []byte(strings.Repeat(" ", 70_000))...)
	}
	return req
}

// damageHeaders sets an edge value on a header the handlers read; a signed request stays signed (over
// the damaged request) most of the time, so the damage reaches what follows the signature check.
func damageHeaders(g *gen, req *Request) {
	if req.Header == nil {
		req.Header = map[string]string{}
	}
	v := headerSafe(g.str())
	switch g.intn(4) {
	case 0:
		req.Header["Idempotency-Key"] = v
	case 1:
		req.Header[webhook.HeaderID] = v
		if g.chance(0.2) {
			req.SignAs = ""
			req.Header[webhook.HeaderTimestamp] = pick(g, []string{"", "0", "-1", "99999999999999999999", "1e9", headerSafe(g.str())})
			req.Header[webhook.HeaderSignature] = pick(g, []string{"", "v1,", "v1,AAAA", "v2,x", strings.Repeat("v1,abc= ", 200), headerSafe(g.str())})
		}
	case 2:
		req.Header["Content-Type"] = pick(g, []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""})
	default:
		if req.SignAs != "" && g.chance(0.5) {
			req.SignAs = pick(g, []string{"municipal", "sanitation", "command_center", "credit_platform"})
		} else {
			req.Header["Idempotency-Key"] = strings.Repeat("k", pick(g, []int{128, 129, 1500}))
		}
	}
}

// headerSafe drops the control characters HTTP cannot carry in a header value (a client refuses to send
// them and API Gateway would refuse to receive them); bytes 0x80–0xFF (obs-text) stay.
func headerSafe(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c != 0x7f || c == '\t' {
			b = append(b, c)
		}
	}
	return string(b)
}

// damageCaller sends the request as someone else: nobody, another role, a sub or department at or past
// the bounds of a key.
func damageCaller(g *gen, req *Request) {
	switch g.intn(4) {
	case 0:
		req.As = nil
	case 1:
		who := pick(g, []Caller{citizenA, citizenB, clerk, admin, staffOf("municipal"), staffOf("command_center"), {Sub: "fuzz-nobody"}})
		req.As = &who
	case 2:
		req.As = &Caller{Sub: strings.Repeat("u", pick(g, []int{128, 129, 2000})), Groups: []string{"citizen", "staff", "admin"}}
	default:
		req.As = &Caller{Sub: "fuzz-staff-x", Groups: []string{"staff"}, Dept: pick(g, []string{strings.Repeat("d", 3000), "a#b", "", "nope"})}
	}
}

func report(opts Options, fd Finding, n int) {
	fmt.Fprintf(opts.Out, "\nfuzz: FINDING %d — %s answered %d %s\n", n, fd.Route, fd.Status, fd.Err)
	fmt.Fprintf(opts.Out, "  request: %s %s", fd.Request.Method, truncate(fd.Request.Path, 200))
	if fd.Request.Query != "" {
		fmt.Fprintf(opts.Out, "?%s", truncate(fd.Request.Query, 200))
	}
	fmt.Fprintf(opts.Out, "\n  headers: %s\n  body (%d bytes): %q\n  answer: %s\n", truncate(fmt.Sprint(fd.Request.Header), 300),
		len(fd.Request.Body), truncate(string(fd.Request.Body), 400), truncate(fd.Answer, 400))
	if opts.CrashDir == "" {
		return
	}
	if err := os.MkdirAll(opts.CrashDir, 0o755); err != nil {
		fmt.Fprintln(opts.Out, "  (cannot write the reproducer:", err, ")")
		return
	}
	path := filepath.Join(opts.CrashDir, fmt.Sprintf("finding-%d-%d.json", fd.Seed, fd.N))
	data, _ := json.MarshalIndent(fd, "", "  ")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Fprintln(opts.Out, "  (cannot write the reproducer:", err, ")")
		return
	}
	fmt.Fprintf(opts.Out, "  reproduce: go run ./infra/cmd/fuzz -replay %s   (add -api http://127.0.0.1:3000 to send it to make run)\n", path)
}

func (s *Summary) print(w io.Writer) {
	fmt.Fprintf(w, "\nfuzz: %d requests in %.0fs (setup %.1fs), %d answered 5xx or not at all\n", s.Requests, s.Fuzzing.Seconds(),
		s.Setup.Seconds(), len(s.Findings))
	for _, route := range slices.Sorted(maps.Keys(s.ByRoute)) {
		var parts []string
		total := 0
		for _, st := range slices.Sorted(maps.Keys(s.ByRoute[route])) {
			n := s.ByRoute[route][st]
			total += n
			parts = append(parts, fmt.Sprintf("%d×%d", n, st))
		}
		fmt.Fprintf(w, "  %-42s %5d  %s\n", route, total, strings.Join(parts, " "))
	}
}

// ErrFindings is returned by the command when a run found 5xx answers.
var ErrFindings = errors.New("requests answered with a 5xx or not at all")

func codeOf(data []byte) string {
	var e struct {
		Error struct{ Code string }
	}
	_ = json.Unmarshal(data, &e)
	return e.Error.Code
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}
