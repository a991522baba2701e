// Package scale replays a month of Mengzi at full size through a fresh local stack (`make scale`): about
// 13,400 reports from about 6,300 active citizens among 76,000 registered, with Mengzi's proportions —
// 92.7 % of reports handled, duplicates, invalid and late cases, points redeemed at the published 688,000
// of 1,993,000 issued. It starts its own stack in this process (localrun.Start on a free port, its own
// moto), loads the citizens registered before the month as profiles with BatchWriteItem (the only data
// written around the API), restocks the catalog through the admin API, and replays the month with
// package demo's planner and concurrent replay: reports, uploads, department callbacks and staff
// transitions, the stream consumers' dispatch and awards, sweeps, redemptions, pickups, cancellations
// and revocations all go through the real API and stream path. Then the KPI roll-up.
//
// It prints the KPI summary beside the plan (every figure must be equal), the request rate and the p50
// and p99 latency of each tenth of the run's requests, moto's peak memory (VmHWM of its process) and the
// wall time of each stage.
package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/infra/demo"
	"github.com/civicsnap/civicsnap/infra/localrun"
	"github.com/civicsnap/civicsnap/shared/market"
)

// Mengzi's month at full size: 161,000 reports a year (13,400 a month), 76,000 registered users of whom
// about 2,000 join in a month; about one in eight files something in a month (6,300 active reporters).
const (
	MonthReports = 13400
	MonthUsers   = 76000
	MonthJoiners = 2000
)

// Mengzi returns the month's plan configuration for reports reports (MonthReports at full size; fewer
// scale users and joiners alike): the 30 days up to yesterday, all of them replayed.
func Mengzi(reports int, tz *time.Location, seed uint64) demo.Config {
	f := float64(reports) / MonthReports
	today := time.Now().In(tz)
	midnight := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, tz)
	joiners := max(1, int(math.Round(MonthJoiners*f)))
	return demo.Config{
		Name: "scale", Seed: seed, Days: 30, TZ: tz,
		LastDay: midnight.AddDate(0, 0, -1).Format(time.DateOnly), Cutoff: midnight,
		Reports: reports, Citizens: joiners, Users: max(1, int(math.Round(MonthUsers*f))) - joiners,
		Idle: 0.875, Skew: 0.5, Campaign: -1,
	}
}

// Options of Run.
type Options struct {
	Config  demo.Config
	Workers int           // chains of one moment sent at once (8)
	Out     io.Writer     // the report and progress lines
	Every   time.Duration // between progress lines (10 s)
	Log     *slog.Logger  // the stack's log (discarded if nil)
	Check   bool          // read every report back after dispatch (one more GET a report)
}

// Report is what a run measured.
type Report struct {
	Result                 *demo.Result
	Tenths                 []Tenth
	P50Ratio               float64 // the last tenth's p50 ÷ the first's
	MotoHWM, MotoRSS       int64   // moto's peak resident memory: VmHWM, and the largest sampled VmRSS
	Start, Preload, Replay time.Duration
	CatchUp                time.Duration // of Preload: the stream consumers reading past the loaded items
	Backfill, Wall         time.Duration
	Users                  int // profiles loaded
	UserItems              int // items written for them
}

// Run replays the month into a fresh local stack and reports what it measured.
func Run(ctx context.Context, opts Options) (rep *Report, err error) {
	wall := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	rep = &Report{}
	plan, err := demo.NewPlan(opts.Config)
	if err != nil {
		return nil, err
	}
	if err := plan.Verify(); err != nil {
		return nil, fmt.Errorf("the plan does not hold: %w", err)
	}
	exp := plan.Expected()
	fmt.Fprintf(out, "month %s … %s: %d reports from %d citizens (%d registered before, %d joining), %d redemptions, %d actions\n",
		plan.From, plan.To, exp.Received, exp.KPI.ActiveReporters, len(plan.Users()), exp.Registered, len(plan.Redemptions), len(plan.Actions))

	fmt.Fprintln(out, "starting a local stack …")
	st, err := localrun.Start(ctx, localrun.Options{Addr: "127.0.0.1:0", Log: opts.Log})
	if err != nil {
		return nil, err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		// A slow exit is not the run's failure: the stack is gone either way (Close kills what lingers).
		if cerr := st.Close(stop); cerr != nil {
			fmt.Fprintln(out, "stopping the stack:", cerr)
		}
	}()
	pid := st.Moto.Pid()
	mem := watchMemory(pid, 500*time.Millisecond)
	defer func() {
		rep.MotoHWM, rep.MotoRSS = mem.Stop()
		rep.Wall = time.Since(wall)
	}()
	rep.Start = time.Since(wall)
	fmt.Fprintf(out, "stack at %s (moto %s, pid %d) in %.1fs\n", st.API, st.Moto.Endpoint(), pid, rep.Start.Seconds())

	t := time.Now()
	if err := preload(ctx, st, plan, rep, out); err != nil {
		return rep, err
	}
	if err := restock(ctx, st.API, plan); err != nil {
		return rep, err
	}
	rep.Preload = time.Since(t)

	lat := &latencies{}
	res, err := demo.Replay(ctx, plan, demo.Options{API: st.API, Config: plan.Config, Progress: out, Every: opts.Every,
		Workers: opts.Workers, CheckDispatch: opts.Check, OnAttempt: lat.observe})
	rep.Result = res
	if res != nil {
		rep.Replay, rep.Backfill = res.Replay, res.Backfill
	}
	rep.Tenths = lat.tenths()
	if len(rep.Tenths) == 10 && rep.Tenths[0].P50 > 0 {
		rep.P50Ratio = ms(rep.Tenths[9].P50) / ms(rep.Tenths[0].P50)
	}
	return rep, err
}

// preload writes the profiles of the citizens registered before the month.
func preload(ctx context.Context, st *localrun.Stack, plan *demo.Plan, rep *Report, out io.Writer) error {
	table, ok := st.Names.Tables["Table"]
	if !ok {
		return errors.New("template has no Table")
	}
	items, err := userItems(ctx, plan, table.Name)
	if err != nil {
		return err
	}
	rep.Users, rep.UserItems = len(plan.Users()), len(items)
	t := time.Now()
	if err := batchWrite(ctx, dynamodb.NewFromConfig(st.AWS), table.Name, items, 4); err != nil {
		return err
	}
	fmt.Fprintf(out, "loaded %d profiles (%d items, BatchWriteItem) in %.1fs\n", rep.Users, len(items), time.Since(t).Seconds())
	// The stream consumers read past the load's INSERT records (their filters drop them) before the
	// month begins, so that the replay's first moments do not wait for it.
	t = time.Now()
	if err := demo.NewClient(st.API, demo.DefaultRetryPolicy(), 1).DrainStreams(ctx); err != nil {
		return fmt.Errorf("wait for the stream consumers to pass the loaded profiles: %w", err)
	}
	rep.CatchUp = time.Since(t)
	fmt.Fprintf(out, "stream consumers past the load's records in %.1fs\n", rep.CatchUp.Seconds())
	return nil
}

// restock sets each planned goods item's stock (admin API) to what the month's redemptions need, with
// room to spare: the seed's stock is a small city's.
func restock(ctx context.Context, api string, plan *demo.Plan) error {
	need := map[string]int64{}
	for _, r := range plan.Redemptions {
		if r.Kind == "goods" {
			need[r.ItemID] += r.Quantity
		}
	}
	c := demo.NewClient(api, demo.DefaultRetryPolicy(), 1)
	tok, err := c.Token(ctx, plan.Config.Name+"-admin", []string{"admin"}, "")
	if err != nil {
		return err
	}
	for id, n := range need {
		var it market.Item
		if err := c.Call(ctx, http.MethodGet, "/v1/admin/catalog/"+id, tok, nil, nil, &it); err != nil {
			return fmt.Errorf("restock %s: %w", id, err)
		}
		if want := n + n/5 + 10; it.Stock < want {
			it.Stock = want
			if err := c.Call(ctx, http.MethodPut, "/v1/admin/catalog/"+id, tok, nil, it, nil); err != nil {
				return fmt.Errorf("restock %s: %w", id, err)
			}
		}
	}
	return nil
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	if r.Result != nil {
		fmt.Fprintln(w)
		r.Result.PrintSummary(w)
	}
	fmt.Fprintln(w, "\nrequests to the API (every attempt; the local runner's clock, drain and schedule calls apart), by tenth of the run:")
	r.P50Ratio = printTenths(w, r.Tenths)
	fmt.Fprintf(w, "\nmoto's peak memory: %.0f MB (VmHWM; largest sampled RSS %.0f MB)\n", mb(r.MotoHWM), mb(r.MotoRSS))
	if self := procStatus(os.Getpid())["VmHWM"]; self > 0 {
		fmt.Fprintf(w, "this process (stack and loader): %.0f MB (VmHWM)\n", mb(self))
	}
	fmt.Fprintf(w, "wall time %s: stack %.1fs, %d profiles and the catalog %.1fs (of which the stream consumers reading past them %.1fs), replay %s, KPI roll-up %.1fs\n",
		r.Wall.Round(time.Second), r.Start.Seconds(), r.Users, r.Preload.Seconds(), r.CatchUp.Seconds(), r.Replay.Round(time.Second), r.Backfill.Seconds())
}

// Verdict lists what fell short of the targets: every KPI equal to the plan, the last tenth's p50 at most
// 1.5 × the first's, moto's peak memory at most 4 GB.
func (r *Report) Verdict() []string {
	var bad []string
	if r.Result == nil || r.Result.KPI == nil {
		bad = append(bad, "no KPI summary")
	} else if n := r.Result.KPIMismatches(); n > 0 {
		bad = append(bad, fmt.Sprintf("%d KPI figures differ from the plan", n))
	}
	if r.P50Ratio > 1.5 {
		bad = append(bad, fmt.Sprintf("p50 latency grew %.2f× from the first tenth to the last", r.P50Ratio))
	}
	if r.MotoHWM > 4<<30 {
		bad = append(bad, fmt.Sprintf("moto peaked at %.0f MB", mb(r.MotoHWM)))
	}
	return bad
}
