package scale

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/infra/demo"
	"github.com/civicsnap/civicsnap/infra/localrun"
	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// flaky is a proxy in front of the stack that fails requests before or after passing them on: 503s,
// 429s, refused answers, dropped connections, and answers lost after the stack applied the request.
type flaky struct {
	next  http.Handler
	mu    sync.Mutex
	rng   *rand.Rand
	stats map[string]int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	x := f.rng.Float64()
	f.mu.Unlock()
	// The routes without an idempotency key lose half their answers after applying them: the loader
	// must find out by reading back, not by sending again.
	if p := r.URL.Path; strings.HasSuffix(p, "/transitions") || strings.HasSuffix(p, "/fulfil") ||
		strings.HasSuffix(p, "/cancel") || strings.HasSuffix(p, "/revoke") {
		if x < 0.5 {
			x = 0.15
		}
	}
	hit := func(kind string) {
		f.mu.Lock()
		f.stats[kind]++
		f.mu.Unlock()
	}
	switch {
	case x < 0.05:
		hit("503 before")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case x < 0.08:
		hit("429 before")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case x < 0.11:
		hit("dropped before")
		drop(w)
		return
	}
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	switch {
	case x < 0.18:
		hit("answer lost after applying")
		drop(w)
		return
	case x < 0.21:
		hit("502 after applying")
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func drop(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// A month replayed through a proxy that fails a fifth of all requests — before the stack sees them or
// after it applied them — completes, and its KPIs are exactly the plan's: no retry doubled a report, a
// callback, a redemption, a pickup, a staff transition or a revocation, and none was lost.
// Needs moto (make venv); about 40 s, so it runs only with CHAOS=1.
func TestReplayThroughFailures(t *testing.T) {
	if os.Getenv("CHAOS") == "" {
		t.Skip("set CHAOS=1 to replay six days through a failing proxy (needs moto; about 40 s)")
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".venv", "bin", "python")); err != nil {
		t.Skip("no .venv: run make venv")
	}
	ctx := context.Background()
	tz, _ := time.LoadLocation("Asia/Shanghai")
	cfg := Mengzi(90, tz, 7)
	cfg.Name, cfg.Days = "chaos", 6
	plan, err := demo.NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := localrun.Start(ctx, localrun.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	var out strings.Builder
	rep := &Report{}
	if err := preload(ctx, st, plan, rep, &out); err != nil {
		t.Fatal(err)
	}
	if err := restock(ctx, st.API, plan); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(st.API)
	proxy := &flaky{next: httputil.NewSingleHostReverseProxy(target), rng: rand.New(rand.NewPCG(3, 4)), stats: map[string]int{}}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	policy := demo.DefaultRetryPolicy()
	policy.BaseDelay, policy.MaxDelay, policy.MaxAttempts = 20*time.Millisecond, 200*time.Millisecond, 20
	res, err := demo.Replay(ctx, plan, demo.Options{API: srv.URL, Config: plan.Config, Workers: 4, Retry: policy, CheckDispatch: true})
	if res != nil {
		res.PrintSummary(&out)
	}
	t.Log(out.String())
	t.Logf("proxy: %v", proxy.stats)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) > 0 {
		t.Errorf("actions not applied: %v", res.Skipped)
	}
	if n := res.KPIMismatches(); n != 0 {
		t.Errorf("%d KPI figures differ from the plan", n)
	}
	if proxy.stats["answer lost after applying"] == 0 || res.Retries["(earlier attempt had taken effect)"] == 0 {
		t.Errorf("the proxy failed nothing? %v, retries %v", proxy.stats, res.Retries)
	}
	fmt.Fprintln(os.Stderr)
}
