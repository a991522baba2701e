package demo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Options of Run and Replay.
type Options struct {
	API      string // the local stack, e.g. http://127.0.0.1:3000
	Config   Config
	Progress io.Writer     // a progress line every few seconds, and the stages; nil for none
	Every    time.Duration // between progress lines (5 s)
	Workers  int           // chains of one moment run at once (8)
	Retry    RetryPolicy   // (DefaultRetryPolicy)
	// CheckDispatch reads every report back once dispatch has run and compares its status and lead with
	// the plan (one GET a report).
	CheckDispatch bool
	OnAttempt     func(Attempt) // told of every HTTP request (latency tables)
}

// Result is what a run did.
type Result struct {
	Plan     *Plan
	Expected Figures                  // what the plan amounts to
	Done     Figures                  // what this run wrote (an earlier run's writes are not counted again)
	Existing int                      // reports found from an earlier run of the same month
	Skipped  map[string]int           // planned actions that did not apply, by reason
	Calls    int                      // HTTP requests (attempts)
	Retries  map[string]int           // retried requests by reason
	Routes   map[string]time.Duration // time spent by route (method and path pattern)
	counts   map[string]int
	Moments  int           // clock moments replayed
	Replay   time.Duration // the replay, up to the final drain
	Elapsed  time.Duration
	Backfill time.Duration
	KPI      *kpi.Summary // GET /v1/kpi/summary of the month, when the stack serves it
	KPIRows  []KPIRow     // the plan's summary beside it
}

// KPIMismatches counts the figures of the KPI summary that differ from the plan (-1: no summary).
func (res *Result) KPIMismatches() int {
	if res.KPI == nil {
		return -1
	}
	n := 0
	for _, r := range res.KPIRows {
		if !r.Equal {
			n++
		}
	}
	return n
}

// ErrNoClock is returned when the stack cannot move its clock: it is not the local runner, or an old one.
var ErrNoClock = errors.New("the stack has no settable clock (POST /_local/clock) and drain (POST /_local/drain): " +
	"the demo needs the local runner (`make run`) of this repository")

type reportState struct {
	id     string
	status report.Status
	lead   string
	steps  int  // department actions already applied
	old    bool // filed by an earlier run
}

type redemptionState struct {
	id, code string
	replayed bool // made by an earlier run
}

type runner struct {
	c        *Client
	plan     *Plan
	opts     Options
	secrets  map[string]string // department → signing secret (the seed's local secrets)
	webhooks map[string]bool   // departments with a system of their own (they call back, signed)
	photo    []byte

	tokMu  sync.Mutex
	tokens map[string]string

	reports []*reportState // by Seq; a report's chain is its only writer
	reds    []*redemptionState
	mineMu  sync.Mutex
	mine    map[int][]apiReport // a citizen's reports from earlier runs
	resume  bool                // the stack holds an earlier run of this month

	clockMu  sync.Mutex
	clockAt  time.Time // the moment the stack's clock was set to …
	clockSet time.Time // … at this wall time

	wrote atomic.Bool // this run has written something an earlier run had not
	done  atomic.Int64

	mu  sync.Mutex // guards res
	res *Result
}

// Run plans the month and replays it into the stack at opts.API.
func Run(ctx context.Context, opts Options) (*Result, error) {
	plan, err := NewPlan(opts.Config)
	if err != nil {
		return nil, err
	}
	return Replay(ctx, plan, opts)
}

// Replay replays plan into the stack at opts.API: moment by moment, it sets the stack's clock, runs the
// moment's chains of actions concurrently (each chain in order), and waits for the stream consumers;
// at the end it hands the stack its clock back, waits for every pump, backfills the KPI roll-up of the
// window day by day and reads the KPI summary.
func Replay(ctx context.Context, plan *Plan, opts Options) (res *Result, err error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Every <= 0 {
		opts.Every = 5 * time.Second
	}
	r := &runner{
		c: NewClient(opts.API, opts.Retry, opts.Workers), plan: plan, opts: opts, secrets: map[string]string{},
		webhooks: map[string]bool{}, tokens: map[string]string{}, mine: map[int][]apiReport{}, photo: photo(),
		reports: make([]*reportState, len(plan.Reports)), reds: make([]*redemptionState, len(plan.Redemptions)),
		res: &Result{Plan: plan, Expected: plan.Expected(), Done: Figures{Redemptions: map[string]int{}}, Skipped: map[string]int{}},
	}
	r.c.OnAttempt(opts.OnAttempt)
	depts, err := seed.Departments()
	if err != nil {
		return nil, err
	}
	for _, d := range depts {
		r.secrets[d.ID] = d.LocalSecret
		r.webhooks[d.ID] = d.WebhookURL != "" && d.ID != dispatch.CommandCenter
	}
	if err := r.c.Call(ctx, "GET", "/_local/clock", "", nil, nil, nil); err != nil {
		if statusOf(err) == 404 || statusOf(err) == 405 {
			return nil, ErrNoClock
		}
		return nil, fmt.Errorf("is the stack running at %s? %w", opts.API, err)
	}
	defer func() {
		d := &r.res.Done
		d.Open = d.Received - d.Duplicates - d.Invalid - d.Resolved
		r.res.Elapsed = time.Since(start)
		r.res.Calls, r.res.Routes, r.res.counts, r.res.Retries = r.c.Stats()
	}()
	defer func() {
		// Whatever happened, hand the stack its wall clock back.
		if rerr := r.c.setClock(context.WithoutCancel(ctx), time.Time{}); rerr != nil && err == nil {
			err = fmt.Errorf("reset the clock: %w", rerr)
		}
	}()
	if err := r.detectResume(ctx); err != nil {
		return r.res, err
	}
	if err := r.replay(ctx); err != nil {
		return r.res, err
	}
	if err := r.c.setClock(ctx, time.Time{}); err != nil {
		return r.res, err
	}
	r.note("waiting for the pumps (notifications, points) …")
	if err := r.c.drain(ctx); err != nil {
		return r.res, err
	}
	r.res.Replay = time.Since(start)
	if err := r.rollUp(ctx); err != nil {
		return r.res, err
	}
	return r.res, nil
}

func (r *runner) note(format string, args ...any) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, format+"\n", args...)
	}
}

// detectResume looks for the plan's first report in the stack: if an earlier run filed it, reports are
// matched to the plan before they are filed (see existing).
func (r *runner) detectResume(ctx context.Context) error {
	for _, a := range r.plan.Actions {
		if a.Kind != File {
			continue
		}
		pr := r.plan.Reports[a.Report]
		tok, err := r.citizen(ctx, pr.Citizen)
		if err != nil {
			return err
		}
		ex, err := r.existing(ctx, pr, tok)
		if err != nil {
			return err
		}
		r.resume = ex != nil
		if !r.resume {
			delete(r.mine, pr.Citizen)
		} else {
			r.note("an earlier run of this month is there: adding only what is new")
		}
		return nil
	}
	return nil
}

// moment is the actions of one moment of the month's clock.
type moment struct {
	at      time.Time
	actions []Action
}

func moments(actions []Action) []moment {
	var out []moment
	for _, a := range actions {
		if n := len(out); n > 0 && out[n-1].at.Equal(a.At) {
			out[n-1].actions = append(out[n-1].actions, a)
			continue
		}
		out = append(out, moment{at: a.At, actions: []Action{a}})
	}
	return out
}

// stackNow is the stack's current time: the moment its clock was set to, plus the wall time since.
func (r *runner) stackNow() time.Time {
	r.clockMu.Lock()
	defer r.clockMu.Unlock()
	return r.clockAt.Add(time.Since(r.clockSet))
}

// replay runs the plan's moments in order.
func (r *runner) replay(ctx context.Context) error {
	ms := moments(r.plan.Actions)
	r.res.Moments = len(ms)
	total := len(r.plan.Actions)
	r.note("replaying %d actions at %d moments of %s … %s (slot %s, %d workers)", total, len(ms), r.plan.From, r.plan.To,
		r.plan.Config.Slot, r.opts.Workers)
	stop := r.progress(ctx, total)
	defer stop()
	for _, m := range ms {
		if err := r.c.setClock(ctx, m.at); err != nil {
			return err
		}
		r.clockMu.Lock()
		r.clockAt, r.clockSet = m.at, time.Now()
		r.clockMu.Unlock()
		if err := r.moment(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// progress prints a line every opts.Every until stopped: actions done of total, their rate, requests,
// retries, the month's clock and the time left at the rate so far.
func (r *runner) progress(ctx context.Context, total int) (stop func()) {
	if r.opts.Progress == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	line := func() {
		n := r.done.Load()
		el := time.Since(start)
		rate := float64(n) / el.Seconds()
		eta := "—"
		if n > 0 {
			eta = time.Duration(float64(int64(total)-n) / rate * float64(time.Second)).Round(time.Second).String()
		}
		calls, _, _, _ := r.c.Stats()
		fmt.Fprintf(r.opts.Progress, "  [%6s] %s  actions %d/%d (%.1f %%)  %.1f/s  requests %d (%.0f/s)  retries %d  ETA %s\n",
			el.Round(time.Second), r.stackNow().In(r.plan.tz()).Format("01-02 15:04"), n, total, 100*float64(n)/float64(max(total, 1)),
			rate, calls, float64(calls)/el.Seconds(), r.c.Retries(), eta)
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.opts.Every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				line()
			case <-done:
				line()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// moment runs one moment: sweeps first, then its chains concurrently, then waits for the stream
// consumers (dispatch of the reports just filed, points of the reports just resolved).
func (r *runner) moment(ctx context.Context, m moment) error {
	chains := map[string][]Action{}
	var order []string
	writes := false
	for _, a := range m.actions {
		if a.Kind == Sweep {
			if err := r.do(ctx, a); err != nil {
				return err
			}
			r.done.Add(1)
			writes = true
			continue
		}
		if a.Kind != Register {
			writes = true
		}
		k := a.Chain()
		if _, ok := chains[k]; !ok {
			order = append(order, k)
		}
		chains[k] = append(chains[k], a)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(r.opts.Workers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(order) || ctx.Err() != nil {
					return
				}
				for _, a := range chains[order[i]] {
					if err := r.do(ctx, a); err != nil {
						errOnce.Do(func() {
							firstErr = fmt.Errorf("%s %s at %s: %w", a.Kind, r.subject(a), a.At.Format(time.RFC3339), err)
							cancel()
						})
						return
					}
					r.done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if !writes {
		return nil
	}
	if err := r.c.drainStreams(ctx); err != nil {
		return err
	}
	if r.opts.CheckDispatch {
		return r.checkDispatch(ctx, m)
	}
	return nil
}

func (r *runner) subject(a Action) string {
	switch a.Kind {
	case File, Act, Revoke:
		return fmt.Sprintf("report #%d", a.Report)
	case Redeem, Fulfil, Cancel:
		return fmt.Sprintf("redemption #%d", a.Redemption)
	case Register:
		return r.plan.Citizens[a.Citizen].Sub
	}
	return ""
}

func (r *runner) do(ctx context.Context, a Action) error {
	switch a.Kind {
	case Register:
		return r.register(ctx, a)
	case File:
		return r.file(ctx, a)
	case Act:
		return r.act(ctx, a)
	case Sweep:
		if r.resume && !r.wrote.Load() {
			return nil // replaying what an earlier run did: it swept then
		}
		if err := r.c.fire(ctx, "SweeperFunction", nil, 0); err != nil {
			return err
		}
		r.count(func(d *Figures) { d.Sweeps++ })
		return nil
	case Redeem:
		return r.redeem(ctx, a)
	case Fulfil, Cancel:
		return r.pickup(ctx, a)
	case Revoke:
		return r.revoke(ctx, a)
	}
	return fmt.Errorf("unknown action %d", a.Kind)
}

func (r *runner) count(f func(*Figures)) {
	r.mu.Lock()
	f(&r.res.Done)
	r.mu.Unlock()
}

// skip records a planned action that did not apply; err must be an API refusal (4xx), else it is returned.
func (r *runner) skip(reason string, err error) error {
	if err != nil {
		if s := statusOf(err); s < 400 || s >= 500 {
			return err
		}
		reason += ": " + codeOf(err)
	}
	r.mu.Lock()
	r.res.Skipped[reason]++
	r.mu.Unlock()
	return nil
}

func (r *runner) token(ctx context.Context, sub string, groups []string, dept string) (string, error) {
	r.tokMu.Lock()
	t, ok := r.tokens[sub]
	r.tokMu.Unlock()
	if ok {
		return t, nil
	}
	t, err := r.c.Token(ctx, sub, groups, dept)
	if err != nil {
		return "", err
	}
	r.tokMu.Lock()
	r.tokens[sub] = t
	r.tokMu.Unlock()
	return t, nil
}

func (r *runner) citizen(ctx context.Context, i int) (string, error) {
	return r.token(ctx, r.plan.Citizens[i].Sub, []string{"citizen"}, "")
}

func (r *runner) staff(ctx context.Context, dept string) (string, error) {
	return r.token(ctx, r.plan.Config.Name+"-staff-"+dept, []string{"staff"}, dept)
}

// register: the citizen opens the app once, which creates the profile (a registered user of that day).
func (r *runner) register(ctx context.Context, a Action) error {
	tok, err := r.citizen(ctx, a.Citizen)
	if err != nil {
		return err
	}
	if err := r.c.Call(ctx, "GET", "/v1/me", tok, nil, nil, nil); err != nil {
		return err
	}
	r.count(func(d *Figures) { d.Registered++ })
	return nil
}

// file: upload a photo and file the report; dispatch routes it while the moment is drained.
func (r *runner) file(ctx context.Context, a Action) error {
	pr := r.plan.Reports[a.Report]
	tok, err := r.citizen(ctx, pr.Citizen)
	if err != nil {
		return err
	}
	if r.resume {
		ex, err := r.existing(ctx, pr, tok)
		if err != nil {
			return err
		}
		if ex != nil {
			full, err := r.getReport(ctx, tok, ex.ID)
			if err != nil {
				return err
			}
			r.reports[pr.Seq] = &reportState{id: full.ID, status: report.Status(full.Status), lead: full.LeadDept, steps: full.deptSteps(), old: true}
			r.mu.Lock()
			r.res.Existing++
			r.mu.Unlock()
			return nil
		}
	}
	key, err := r.c.uploadPhoto(ctx, tok, r.photo)
	if err != nil {
		return err
	}
	body := map[string]any{
		"category": pr.Category, "description": pr.Description, "photoKeys": []string{key},
		"location": map[string]float64{"lat": pr.Lat, "lng": pr.Lng},
	}
	if pr.Address != "" {
		body["address"] = pr.Address
	}
	var created apiReport
	h := map[string][]string{"Idempotency-Key": {r.plan.Key(strconv.Itoa(pr.Seq))}}
	if err := r.c.Call(ctx, "POST", "/v1/reports", tok, h, body, &created); err != nil {
		return err
	}
	r.wrote.Store(true)
	// What dispatch will make of it, per the plan (checkDispatch reads it back when asked to).
	st := &reportState{id: created.ID, status: report.Dispatched, lead: pr.Lead}
	switch {
	case pr.Fate == Duplicate:
		st.status, st.lead = report.Duplicate, ""
	case pr.Lead == dispatch.CommandCenter:
		st.status = report.NeedsTriage
	}
	r.reports[pr.Seq] = st
	r.count(func(d *Figures) {
		d.Received++
		if pr.Fate == Duplicate && !r.opts.CheckDispatch {
			d.Duplicates++
		}
	})
	return nil
}

// checkDispatch reads the moment's new reports back and compares what dispatch did with the plan.
func (r *runner) checkDispatch(ctx context.Context, m moment) error {
	var seqs []int
	for _, a := range m.actions {
		if a.Kind == File && r.reports[a.Report] != nil && !r.reports[a.Report].old {
			seqs = append(seqs, a.Report)
		}
	}
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for range min(r.opts.Workers, len(seqs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(seqs) {
					return
				}
				if err := r.check(ctx, seqs[i]); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func (r *runner) check(ctx context.Context, seq int) error {
	pr, st := r.plan.Reports[seq], r.reports[seq]
	tok, err := r.citizen(ctx, pr.Citizen)
	if err != nil {
		return err
	}
	got, err := r.getReport(ctx, tok, st.id)
	if err != nil {
		return err
	}
	// Still submitted: the drain came back before dispatch had run (it should not); wait and look again,
	// rather than act on a report dispatch has not routed.
	for try := 0; got.Status == string(report.Submitted) && try < 5; try++ {
		if err := r.c.drainStreams(ctx); err != nil {
			return err
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
		if got, err = r.getReport(ctx, tok, st.id); err != nil {
			return err
		}
	}
	st.status, st.lead = report.Status(got.Status), got.LeadDept
	switch {
	case pr.Fate == Duplicate && got.Status != string(report.Duplicate):
		return r.skip("planned duplicate was routed instead", nil)
	case pr.Fate != Duplicate && got.Status == string(report.Duplicate):
		return r.skip("report became a duplicate unplanned", nil)
	case got.Status == string(report.Duplicate):
		r.count(func(d *Figures) { d.Duplicates++ })
	case got.LeadDept != pr.Lead:
		return r.skip("routed to another lead than the seeded rules say", nil)
	}
	return nil
}

func (r *runner) getReport(ctx context.Context, tok, id string) (apiReport, error) {
	var rep apiReport
	err := r.c.Call(ctx, "GET", "/v1/reports/"+url.PathEscape(id), tok, nil, nil, &rep)
	return rep, err
}

// existing returns the report an earlier run filed for pr, if any: same reporter, category and place,
// filed within minutes of the planned moment.
func (r *runner) existing(ctx context.Context, pr Report, tok string) (*apiReport, error) {
	r.mineMu.Lock()
	list, ok := r.mine[pr.Citizen]
	r.mineMu.Unlock()
	if !ok {
		var err error
		if list, err = r.c.myReports(ctx, tok); err != nil {
			return nil, err
		}
		r.mineMu.Lock()
		r.mine[pr.Citizen] = list
		r.mineMu.Unlock()
	}
	for i, ex := range list {
		if ex.Category == pr.Category && math.Abs(ex.Location.Lat-pr.Lat) < 1e-7 && math.Abs(ex.Location.Lng-pr.Lng) < 1e-7 &&
			ex.CreatedAt.Sub(pr.At).Abs() < 10*time.Minute {
			return &list[i], nil
		}
	}
	return nil, nil
}

// Department actions by the staff API's target status.
var actions = map[string]report.Action{
	"accepted": report.Accept, "in_progress": report.Progress, "resolved": report.Resolve,
	"rejected": report.Reject, "dispatched": report.Reassign,
}

// act: the report's lead department changes it, through its system (signed callback) or the staff API.
func (r *runner) act(ctx context.Context, a Action) error {
	st := r.reports[a.Report]
	if st == nil {
		return r.skip("report was not filed", nil)
	}
	if a.Step <= st.steps {
		return nil // applied by an earlier run
	}
	dept := st.lead
	change := report.Change{Action: actions[a.To], Note: a.Note, Reason: a.Reason, ToDept: a.ToDept}
	if change.Action == report.Resolve {
		change.ProofPhotoKeys = []string{"proof"}
	}
	if _, err := report.Next(st.status, report.Lead, dept == dispatch.CommandCenter, change); err != nil {
		return r.skip(fmt.Sprintf("%s not possible for a %s report", a.To, st.status), nil)
	}
	msgID := r.plan.Key(strconv.Itoa(a.Report) + "-" + strconv.Itoa(a.Step))
	var status string
	if r.webhooks[dept] {
		secret := r.secrets[dept]
		if change.Action == report.Resolve {
			key, err := r.c.deptUploadPhoto(ctx, dept, secret, msgID+"-photo", r.stackNow, r.photo)
			if err != nil {
				return err
			}
			change.ProofPhotoKeys = []string{key}
		}
		ev := map[string]any{"type": "report." + string(change.Action), "reportId": st.id}
		for k, v := range map[string]string{"note": change.Note, "reason": change.Reason, "toDept": change.ToDept} {
			if v != "" {
				ev[k] = v
			}
		}
		if len(change.ProofPhotoKeys) > 0 {
			ev["proofPhotoKeys"] = change.ProofPhotoKeys
		}
		var out struct {
			ReportStatus string `json:"reportStatus"`
		}
		if err := r.c.signed(ctx, dept, secret, msgID, r.stackNow, "/events", ev, &out); err != nil {
			return r.skip("department callback refused", err)
		}
		status = out.ReportStatus
	} else {
		tok, err := r.staff(ctx, dept)
		if err != nil {
			return err
		}
		if change.Action == report.Resolve {
			key, err := r.c.uploadPhoto(ctx, tok, r.photo)
			if err != nil {
				return err
			}
			change.ProofPhotoKeys = []string{key}
		}
		body := map[string]any{"to": a.To}
		for k, v := range map[string]string{"note": change.Note, "reason": change.Reason, "toDept": change.ToDept} {
			if v != "" {
				body[k] = v
			}
		}
		if len(change.ProofPhotoKeys) > 0 {
			body["proofPhotoKeys"] = change.ProofPhotoKeys
		}
		// The staff API has no idempotency key, and a progress note or a reassignment sent twice would be
		// applied twice: before a re-send, read the report back and count the department's entries.
		var out apiReport
		applied := func(ctx context.Context) (bool, error) {
			rep, err := r.getReport(ctx, tok, st.id)
			if err != nil {
				return false, err
			}
			if rep.deptSteps() >= a.Step {
				out = rep
				return true, nil
			}
			return false, nil
		}
		if _, err := r.c.callOnce(ctx, "POST", "/v1/dept/reports/"+url.PathEscape(st.id)+"/transitions", tok, body, &out, applied); err != nil {
			return r.skip("staff transition refused", err)
		}
		status = out.Status
	}
	st.status, st.steps = report.Status(status), a.Step
	r.wrote.Store(true)
	switch {
	case change.Action == report.Reassign:
		st.lead = a.ToDept
	case st.status == report.NeedsTriage:
		st.lead = dispatch.CommandCenter
	}
	late := r.plan.Reports[a.Report].Late
	r.count(func(d *Figures) {
		switch st.status {
		case report.Resolved:
			d.Resolved++
			if late {
				d.Late++
			}
		case report.Rejected:
			d.Invalid++
		}
	})
	return nil
}

// revoke: an admin's review withdraws a resolution; the accrual consumer reverses its points.
func (r *runner) revoke(ctx context.Context, a Action) error {
	st := r.reports[a.Report]
	if st != nil && st.status == report.Revoked {
		return nil // by an earlier run
	}
	if st == nil || st.status != report.Resolved {
		return r.skip("revocation of a report that is not resolved", nil)
	}
	tok, err := r.token(ctx, r.plan.Config.Name+"-admin", []string{"admin"}, "")
	if err != nil {
		return err
	}
	// No idempotency key either: a lost answer is checked by reading the report back.
	applied := func(ctx context.Context) (bool, error) {
		rep, err := r.getReport(ctx, tok, st.id)
		return err == nil && rep.Status == string(report.Revoked), err
	}
	var out apiReport
	earlier, err := r.c.callOnce(ctx, "POST", "/v1/admin/reports/"+url.PathEscape(st.id)+"/revoke", tok, map[string]string{"reason": a.Note}, &out, applied)
	if err != nil {
		return r.skip("revocation refused", err)
	}
	st.status = report.Revoked
	if !earlier {
		st.status = report.Status(out.Status)
	}
	r.count(func(d *Figures) { d.Revoked++ })
	return nil
}

// redeem: the citizen spends points the stack awarded at an earlier moment.
func (r *runner) redeem(ctx context.Context, a Action) error {
	red := r.plan.Redemptions[a.Redemption]
	tok, err := r.citizen(ctx, red.Citizen)
	if err != nil {
		return err
	}
	body := map[string]any{"itemId": red.ItemID}
	if red.Quantity > 0 {
		body["quantity"] = red.Quantity
	}
	if red.Amount > 0 {
		body["amount"] = red.Amount
	}
	var out apiRedemption
	// Until this run has written something new, a month already there means this redemption was made by
	// an earlier run: the same key and body answer the first result.
	replayed := r.resume && !r.wrote.Load()
	h := map[string][]string{"Idempotency-Key": {r.plan.Key("r" + strconv.Itoa(red.Seq))}}
	if err := r.c.Call(ctx, "POST", "/v1/redemptions", tok, h, body, &out); err != nil {
		return r.skip("redemption refused", err)
	}
	r.reds[red.Seq] = &redemptionState{id: out.ID, code: out.PickupCode, replayed: replayed}
	if !replayed {
		r.wrote.Store(true)
		r.count(func(d *Figures) {
			d.Redemptions[red.Kind]++
			d.Spent += red.Cost
		})
	}
	return nil
}

// pickup: a clerk hands goods over against the code, or the citizen cancels the reservation. Neither has
// an idempotency key; both are conditional on the reservation, so a second attempt cannot double
// anything — it is refused. A lost answer, or an earlier run's, is told apart by reading the status.
func (r *runner) pickup(ctx context.Context, a Action) error {
	rs := r.reds[a.Redemption]
	if rs == nil {
		return r.skip(a.Kind.String()+" of a redemption that was not made", nil)
	}
	red := r.plan.Redemptions[a.Redemption]
	owner, err := r.citizen(ctx, red.Citizen)
	if err != nil {
		return err
	}
	want, path, refused := "completed", "/fulfil", "already_collected"
	tok := ""
	var body any = map[string]string{"pickupCode": rs.code}
	if a.Kind == Fulfil {
		if tok, err = r.token(ctx, r.plan.Config.Name+"-clerk", []string{"clerk"}, ""); err != nil {
			return err
		}
	} else {
		want, path, refused, tok, body = "cancelled", "/cancel", "not_cancellable", owner, nil
	}
	applied := func(ctx context.Context) (bool, error) {
		s, err := r.c.redemptionStatus(ctx, owner, rs.id)
		return s == want, err
	}
	_, err = r.c.callOnce(ctx, "POST", "/v1/redemptions/"+url.PathEscape(rs.id)+path, tok, body, nil, applied)
	if err != nil && codeOf(err) == refused {
		if done, cerr := applied(ctx); cerr != nil {
			return cerr
		} else if done {
			if rs.replayed {
				return nil // by an earlier run
			}
			err = nil
		}
	}
	if err != nil {
		return r.skip(a.Kind.String()+" refused", err)
	}
	r.count(func(d *Figures) {
		if a.Kind == Fulfil {
			d.Fulfilled++
		} else {
			d.Cancelled++
			d.Spent -= red.Cost
		}
	})
	return nil
}

// rollUp backfills the KPI snapshots of the month and reads its summary back.
func (r *runner) rollUp(ctx context.Context) error {
	d, err := Backfill(ctx, r.c, r.plan.From, r.plan.To, r.opts.Progress, r.opts.Every)
	if errors.Is(err, errNoKPI) {
		return r.skip("no KpiFunction in this stack: KPIs not rolled up", nil)
	}
	if err != nil {
		return err
	}
	r.res.Backfill = d
	tok, err := r.staff(ctx, dispatch.CommandCenter)
	if err != nil {
		return err
	}
	var sum kpi.Summary
	if err := r.c.Call(ctx, "GET", "/v1/kpi/summary?from="+r.plan.From+"&to="+r.plan.To, tok, nil, nil, &sum); err != nil {
		if s := statusOf(err); s == 404 || s == 405 {
			return nil
		}
		return err
	}
	r.res.KPI = &sum
	r.res.KPIRows = CompareKPI(r.res.Expected.KPI, sum)
	return nil
}

var errNoKPI = errors.New("the stack has no KpiFunction")

// Backfill recomputes the KPI snapshots of the local days from … to (YYYY-MM-DD), one day a request
// (POST /_local/schedules/KpiFunction {"from":d,"to":d}: a recomputation, safe to repeat), with a
// progress line every so often to progress (nil for none).
func Backfill(ctx context.Context, c *Client, from, to string, progress io.Writer, every time.Duration) (time.Duration, error) {
	start := time.Now()
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || t.Before(f) {
		return 0, fmt.Errorf("backfill %s..%s: want two dates YYYY-MM-DD, the first not after the second", from, to)
	}
	days := kpi.Days(f, t)
	if progress != nil {
		fmt.Fprintf(progress, "KPI roll-up of %d days …\n", len(days))
	}
	last := time.Now()
	for i, d := range days {
		err := c.fire(ctx, "KpiFunction", map[string]string{"from": d, "to": d}, 10*time.Minute)
		if statusOf(err) == 404 {
			return 0, errNoKPI
		}
		if err != nil {
			return 0, fmt.Errorf("KPI backfill of %s: %w", d, err)
		}
		if progress != nil && (time.Since(last) >= every || i == len(days)-1) {
			last = time.Now()
			el := time.Since(start)
			left := time.Duration(float64(el) / float64(i+1) * float64(len(days)-i-1))
			fmt.Fprintf(progress, "  KPI roll-up %d/%d days  %.1f days/s  ETA %s\n", i+1, len(days), float64(i+1)/el.Seconds(), left.Round(time.Second))
		}
	}
	return time.Since(start), nil
}

// photo is a small, real JPEG (a grey-blue gradient), as a phone would upload in miniature.
func photo() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := range 32 {
		for x := range 48 {
			img.Set(x, y, color.RGBA{uint8(90 + x*2), uint8(110 + y*2), uint8(140 + x + y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}

// PrintSummary writes what a run did.
func (res *Result) PrintSummary(w io.Writer) {
	p := res.Plan
	fmt.Fprintf(w, "%s month %s … %s (%s), seed %d\n", p.Config.Name, p.From, p.To, p.tz(), p.Config.Seed)
	res.Expected.Print(w, "planned up to now:", false)
	res.Done.Print(w, "written by this run:", true)
	if res.Existing > 0 {
		fmt.Fprintf(w, "  %d reports were already there from an earlier run\n", res.Existing)
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintln(w, "not applied:")
		for _, k := range slices.Sorted(maps.Keys(res.Skipped)) {
			fmt.Fprintf(w, "  %4d  %s\n", res.Skipped[k], k)
		}
	}
	if res.KPI != nil {
		fmt.Fprintf(w, "KPI summary (GET /v1/kpi/summary?from=%s&to=%s) beside the plan:\n", p.From, p.To)
		if bad := PrintKPI(w, res.KPIRows); bad > 0 {
			fmt.Fprintf(w, "  %d figures differ from the plan\n", bad)
		} else {
			fmt.Fprintln(w, "  every figure as planned")
		}
		if res.KPI.PointsIssued > 0 {
			fmt.Fprintf(w, "  points redeemed ÷ issued: %d ÷ %d = %.2f %% (planned %.2f %%; Mengzi 688,000 ÷ 1,993,000 = %.2f %%)\n",
				res.KPI.PointsRedeemed, res.KPI.PointsIssued, 100*float64(res.KPI.PointsRedeemed)/float64(res.KPI.PointsIssued),
				100*res.Expected.RedeemedShare(), 100*MengziRedeemShare)
		}
	}
	retries := 0
	for _, n := range res.Retries {
		retries += n
	}
	fmt.Fprintf(w, "%d HTTP requests in %.1fs (%d moments; KPI backfill %.1fs); %d retried", res.Calls, res.Elapsed.Seconds(),
		res.Moments, res.Backfill.Seconds(), retries)
	if retries > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(res.Retries)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, res.Retries[k]))
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}

// PrintTimings writes where the time went, by route, slowest total first.
func (res *Result) PrintTimings(w io.Writer) {
	routes := slices.SortedFunc(maps.Keys(res.Routes), func(a, b string) int { return cmp.Compare(res.Routes[b], res.Routes[a]) })
	for _, k := range routes {
		fmt.Fprintf(w, "  %7.1fs %6d × %6.1f ms  %s\n", res.Routes[k].Seconds(), res.counts[k],
			float64(res.Routes[k].Milliseconds())/float64(res.counts[k]), k)
	}
}
