package demo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
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
	"time"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Options of Run.
type Options struct {
	API      string // the local stack, e.g. http://127.0.0.1:3000
	Config   Config
	Progress io.Writer // a line per day of the month; nil for none
}

// Result is what a run did.
type Result struct {
	Plan     *Plan
	Expected Figures                  // what the plan amounts to
	Done     Figures                  // what this run wrote (an earlier run's writes are not counted again)
	Existing int                      // reports found from an earlier run of the same month
	Skipped  map[string]int           // planned actions that did not apply, by reason
	Calls    int                      // HTTP requests
	Routes   map[string]time.Duration // time spent by route (method and path pattern)
	counts   map[string]int
	Elapsed  time.Duration
	Backfill time.Duration
	KPI      map[string]any // GET /v1/kpi/summary of the month, when the stack serves it
}

// ErrNoClock is returned when the stack cannot move its clock: it is not the local runner, or an old one.
var ErrNoClock = errors.New("the stack has no settable clock (POST /_local/clock) and drain (POST /_local/drain): " +
	"the demo needs the local runner (`make run`) of this repository")

type reportState struct {
	id     string
	status report.Status
	lead   string
	steps  int // department actions already applied
}

type redemptionState struct {
	id, code string
	replayed bool // made by an earlier run
}

type runner struct {
	c        *client
	plan     *Plan
	tokens   map[string]string
	secrets  map[string]string // department → signing secret (the seed's local secrets)
	webhooks map[string]bool   // departments with a system of their own (they call back, signed)
	reports  map[int]*reportState
	mine     map[int][]apiReport // a citizen's reports from earlier runs
	reds     map[int]redemptionState
	photo    []byte
	clock    time.Time
	wrote    bool // this run has written something an earlier run had not
	res      *Result
}

// Run plans the month and replays it into the stack at opts.API.
func Run(ctx context.Context, opts Options) (res *Result, err error) {
	start := time.Now()
	plan, err := NewPlan(opts.Config)
	if err != nil {
		return nil, err
	}
	r := &runner{
		c: newClient(opts.API), plan: plan, tokens: map[string]string{}, secrets: map[string]string{},
		webhooks: map[string]bool{}, reports: map[int]*reportState{}, mine: map[int][]apiReport{},
		reds: map[int]redemptionState{}, photo: photo(),
		res: &Result{Plan: plan, Expected: plan.Expected(), Done: Figures{Redemptions: map[string]int{}}, Skipped: map[string]int{}},
	}
	depts, err := seed.Departments()
	if err != nil {
		return nil, err
	}
	for _, d := range depts {
		r.secrets[d.ID] = d.LocalSecret
		r.webhooks[d.ID] = d.WebhookURL != "" && d.ID != dispatch.CommandCenter
	}
	if err := r.c.call(ctx, "GET", "/_local/clock", "", nil, nil, nil); err != nil {
		if statusOf(err) == 404 || statusOf(err) == 405 {
			return nil, ErrNoClock
		}
		return nil, fmt.Errorf("is the stack running at %s? %w", opts.API, err)
	}
	defer func() {
		d := &r.res.Done
		d.Open = d.Received - d.Duplicates - d.Invalid - d.Resolved
		r.res.Calls, r.res.Elapsed = r.c.calls, time.Since(start)
		r.res.Routes, r.res.counts = map[string]time.Duration{}, map[string]int{}
		for k, v := range r.c.spent {
			r.res.Routes[k], r.res.counts[k] = v.d, v.n
		}
	}()
	defer func() {
		// Whatever happened, hand the stack its wall clock back.
		if rerr := r.c.setClock(context.WithoutCancel(ctx), time.Time{}); rerr != nil && err == nil {
			err = fmt.Errorf("reset the clock: %w", rerr)
		}
	}()
	if err := r.replay(ctx, opts.Progress); err != nil {
		return r.res, err
	}
	if err := r.c.setClock(ctx, time.Time{}); err != nil {
		return r.res, err
	}
	if err := r.c.drain(ctx); err != nil {
		return r.res, err
	}
	if err := r.rollUp(ctx); err != nil {
		return r.res, err
	}
	return r.res, nil
}

// replay runs the plan's actions in time order, each at its moment on the stack's clock.
func (r *runner) replay(ctx context.Context, progress io.Writer) error {
	day, dayStart, dayReports, dayActions := "", time.Now(), 0, 0
	flush := func() {
		if progress != nil && day != "" {
			fmt.Fprintf(progress, "  %s  %3d reports  %4d actions  %5.1fs\n", day, dayReports, dayActions, time.Since(dayStart).Seconds())
		}
	}
	for _, a := range r.plan.Actions {
		if d := a.At.In(r.plan.tz()).Format(time.DateOnly); d != day {
			flush()
			day, dayStart, dayReports, dayActions = d, time.Now(), 0, 0
		}
		dayActions++
		if a.Kind == File {
			dayReports++
		}
		if !a.At.Equal(r.clock) {
			if err := r.c.setClock(ctx, a.At); err != nil {
				return err
			}
			r.clock = a.At
		}
		if err := r.do(ctx, a); err != nil {
			return fmt.Errorf("%s %s at %s: %w", a.Kind, r.subject(a), a.At.Format(time.RFC3339), err)
		}
	}
	flush()
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
		if r.res.Existing > 0 && !r.wrote {
			return nil // replaying what an earlier run did: it swept then
		}
		if err := r.c.fire(ctx, "SweeperFunction", nil); err != nil {
			return err
		}
		r.res.Done.Sweeps++
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

// skip records a planned action that did not apply; err must be an API refusal (4xx), else it is returned.
func (r *runner) skip(reason string, err error) error {
	if err != nil {
		if s := statusOf(err); s < 400 || s >= 500 {
			return err
		}
		reason += ": " + codeOf(err)
	}
	r.res.Skipped[reason]++
	return nil
}

func (r *runner) token(ctx context.Context, sub string, groups []string, dept string) (string, error) {
	if t, ok := r.tokens[sub]; ok {
		return t, nil
	}
	t, err := r.c.token(ctx, sub, groups, dept)
	if err != nil {
		return "", err
	}
	r.tokens[sub] = t
	return t, nil
}

func (r *runner) citizen(ctx context.Context, i int) (string, error) {
	return r.token(ctx, r.plan.Citizens[i].Sub, []string{"citizen"}, "")
}

func (r *runner) staff(ctx context.Context, dept string) (string, error) {
	return r.token(ctx, "demo-staff-"+dept, []string{"staff"}, dept)
}

// register: the citizen opens the app once, which creates the profile (a registered user of that day).
func (r *runner) register(ctx context.Context, a Action) error {
	tok, err := r.citizen(ctx, a.Citizen)
	if err != nil {
		return err
	}
	var me struct {
		Version int64 `json:"version"`
	}
	if err := r.c.call(ctx, "GET", "/v1/me", tok, nil, nil, &me); err != nil {
		return err
	}
	r.res.Done.Registered++
	return nil
}

// file: upload a photo, file the report, wait for dispatch and read where it went.
func (r *runner) file(ctx context.Context, a Action) error {
	pr := r.plan.Reports[a.Report]
	tok, err := r.citizen(ctx, pr.Citizen)
	if err != nil {
		return err
	}
	if ex, err := r.existing(ctx, pr, tok); err != nil || ex != nil {
		if err != nil {
			return err
		}
		full, err := r.getReport(ctx, tok, ex.ID)
		if err != nil {
			return err
		}
		st := &reportState{id: full.ID, status: report.Status(full.Status), lead: full.LeadDept}
		for _, e := range full.Timeline {
			if e.Actor != "citizen" && e.Actor != "system" {
				st.steps++
			}
		}
		r.reports[pr.Seq] = st
		r.res.Existing++
		return nil
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
	h := map[string][]string{"Idempotency-Key": {fmt.Sprintf("demo-%s-%d", r.plan.From, pr.Seq)}}
	if err := r.c.call(ctx, "POST", "/v1/reports", tok, h, body, &created); err != nil {
		return err
	}
	r.res.Done.Received++
	r.wrote = true
	// The stack's dispatch consumer routes the report now, at this moment of the month.
	if err := r.c.drainStreams(ctx); err != nil {
		return err
	}
	got, err := r.getReport(ctx, tok, created.ID)
	if err != nil {
		return err
	}
	r.reports[pr.Seq] = &reportState{id: got.ID, status: report.Status(got.Status), lead: got.LeadDept}
	switch {
	case pr.Fate == Duplicate && got.Status != string(report.Duplicate):
		r.res.Skipped["planned duplicate was routed instead"]++
	case pr.Fate != Duplicate && got.Status == string(report.Duplicate):
		r.res.Skipped["report became a duplicate unplanned"]++
	case got.Status == string(report.Duplicate):
		r.res.Done.Duplicates++
	case got.LeadDept != pr.Lead:
		r.res.Skipped["routed to another lead than the seeded rules say"]++
	}
	return nil
}

func (r *runner) getReport(ctx context.Context, tok, id string) (apiReport, error) {
	var rep apiReport
	err := r.c.call(ctx, "GET", "/v1/reports/"+url.PathEscape(id), tok, nil, nil, &rep)
	return rep, err
}

// existing returns the report an earlier run filed for pr, if any: same reporter, category and place,
// filed within minutes of the planned moment.
func (r *runner) existing(ctx context.Context, pr Report, tok string) (*apiReport, error) {
	list, ok := r.mine[pr.Citizen]
	if !ok {
		var err error
		if list, err = r.c.myReports(ctx, tok); err != nil {
			return nil, err
		}
		r.mine[pr.Citizen] = list
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
	msgID := fmt.Sprintf("demo-%s-%d-%d", r.plan.From, a.Report, a.Step)
	var status string
	if r.webhooks[dept] {
		secret := r.secrets[dept]
		if change.Action == report.Resolve {
			key, err := r.c.deptUploadPhoto(ctx, dept, secret, msgID+"-photo", a.At, r.photo)
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
		if err := r.c.signed(ctx, dept, secret, msgID, a.At, "/events", ev, &out); err != nil {
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
		var out apiReport
		if err := r.c.call(ctx, "POST", "/v1/dept/reports/"+url.PathEscape(st.id)+"/transitions", tok, nil, body, &out); err != nil {
			return r.skip("staff transition refused", err)
		}
		status = out.Status
	}
	st.status, st.steps = report.Status(status), a.Step
	r.wrote = true
	switch {
	case change.Action == report.Reassign:
		st.lead = a.ToDept
	case st.status == report.NeedsTriage:
		st.lead = dispatch.CommandCenter
	}
	switch st.status {
	case report.Resolved:
		r.res.Done.Resolved++
		if r.plan.Reports[a.Report].Late {
			r.res.Done.Late++
		}
	case report.Rejected:
		r.res.Done.Invalid++
	}
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
	tok, err := r.token(ctx, "demo-admin", []string{"admin"}, "")
	if err != nil {
		return err
	}
	var out apiReport
	if err := r.c.call(ctx, "POST", "/v1/admin/reports/"+url.PathEscape(st.id)+"/revoke", tok, nil, map[string]string{"reason": a.Note}, &out); err != nil {
		return r.skip("revocation refused", err)
	}
	st.status = report.Status(out.Status)
	r.res.Done.Revoked++
	return nil
}

// redeem: the citizen spends points; the stack must have awarded what was earned before (drain).
func (r *runner) redeem(ctx context.Context, a Action) error {
	red := r.plan.Redemptions[a.Redemption]
	tok, err := r.citizen(ctx, red.Citizen)
	if err != nil {
		return err
	}
	if err := r.c.drainStreams(ctx); err != nil {
		return err
	}
	body := map[string]any{"itemId": red.ItemID}
	if red.Quantity > 0 {
		body["quantity"] = red.Quantity
	}
	if red.Amount > 0 {
		body["amount"] = red.Amount
	}
	var out struct {
		ID         string `json:"id"`
		PickupCode string `json:"pickupCode"`
	}
	h := map[string][]string{"Idempotency-Key": {fmt.Sprintf("demo-%s-r%d", r.plan.From, red.Seq)}}
	if err := r.c.call(ctx, "POST", "/v1/redemptions", tok, h, body, &out); err != nil {
		return r.skip("redemption refused", err)
	}
	// The same key and body answer the first result. Actions replay in time order, so until this run has
	// written something new, a month already there means this redemption was made by an earlier run.
	replayed := r.res.Existing > 0 && !r.wrote
	r.reds[red.Seq] = redemptionState{id: out.ID, code: out.PickupCode, replayed: replayed}
	if !replayed {
		r.res.Done.Redemptions[red.Kind]++
		r.wrote = true
	}
	return nil
}

// pickup: a clerk hands goods over against the code, or the citizen cancels the reservation.
func (r *runner) pickup(ctx context.Context, a Action) error {
	rs, ok := r.reds[a.Redemption]
	if !ok {
		return r.skip(a.Kind.String()+" of a redemption that was not made", nil)
	}
	if a.Kind == Fulfil {
		tok, err := r.token(ctx, "demo-clerk", []string{"clerk"}, "")
		if err != nil {
			return err
		}
		err = r.c.call(ctx, "POST", "/v1/redemptions/"+url.PathEscape(rs.id)+"/fulfil", tok, nil, map[string]string{"pickupCode": rs.code}, nil)
		if err != nil && rs.replayed && codeOf(err) == "not_fulfillable" {
			return nil // handed over in an earlier run
		}
		if err != nil {
			return r.skip("fulfil refused", err)
		}
		r.res.Done.Fulfilled++
		return nil
	}
	tok, err := r.citizen(ctx, r.plan.Redemptions[a.Redemption].Citizen)
	if err != nil {
		return err
	}
	if err := r.c.call(ctx, "POST", "/v1/redemptions/"+url.PathEscape(rs.id)+"/cancel", tok, nil, nil, nil); err != nil {
		if rs.replayed && codeOf(err) == "not_cancellable" {
			return nil // cancelled in an earlier run
		}
		return r.skip("cancel refused", err)
	}
	r.res.Done.Cancelled++
	return nil
}

// rollUp backfills the KPI snapshots of the month and reads its summary back.
func (r *runner) rollUp(ctx context.Context) error {
	start := time.Now()
	err := r.c.fire(ctx, "KpiFunction", map[string]string{"from": r.plan.From, "to": r.plan.To})
	if statusOf(err) == 404 {
		r.res.Skipped["no KpiFunction in this stack: KPIs not rolled up"]++
		return nil
	}
	if err != nil {
		return fmt.Errorf("KPI backfill: %w", err)
	}
	r.res.Backfill = time.Since(start)
	tok, err := r.staff(ctx, dispatch.CommandCenter)
	if err != nil {
		return err
	}
	var sum map[string]any
	if err := r.c.call(ctx, "GET", "/v1/kpi/summary?from="+r.plan.From+"&to="+r.plan.To, tok, nil, nil, &sum); err != nil {
		if s := statusOf(err); s == 404 || s == 405 {
			return nil
		}
		return err
	}
	r.res.KPI = sum
	return nil
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
	fmt.Fprintf(w, "demo month %s … %s (%s), seed %d\n", p.From, p.To, p.tz(), p.seed)
	res.Expected.Print(w, "planned up to now:", false)
	res.Done.Print(w, "written by this run:", true)
	if res.Existing > 0 {
		fmt.Fprintf(w, "  %d reports were already there from an earlier run\n", res.Existing)
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintln(w, "not applied:")
		for k, n := range res.Skipped {
			fmt.Fprintf(w, "  %4d  %s\n", n, k)
		}
	}
	if res.KPI != nil {
		f := func(k string) string {
			switch v := res.KPI[k].(type) {
			case float64:
				if v != math.Trunc(v) {
					return fmt.Sprintf("%.1f %%", 100*v)
				}
				return fmt.Sprintf("%.0f", v)
			case nil:
				return "—"
			default:
				b, _ := json.Marshal(v)
				return string(b)
			}
		}
		fmt.Fprintf(w, "KPI summary (GET /v1/kpi/summary): received %s, resolved %s, completion %s, on time %s, points issued %s / redeemed %s\n",
			f("received"), f("resolved"), f("completionRate"), f("onTimeRate"), f("pointsIssued"), f("pointsRedeemed"))
	}
	fmt.Fprintf(w, "%d HTTP requests in %.1fs (KPI backfill %.1fs)\n", res.Calls, res.Elapsed.Seconds(), res.Backfill.Seconds())
}

// PrintTimings writes where the time went, by route, slowest total first.
func (res *Result) PrintTimings(w io.Writer) {
	routes := slices.SortedFunc(maps.Keys(res.Routes), func(a, b string) int { return cmp.Compare(res.Routes[b], res.Routes[a]) })
	for _, k := range routes {
		fmt.Fprintf(w, "  %7.1fs %6d × %6.1f ms  %s\n", res.Routes[k].Seconds(), res.counts[k],
			float64(res.Routes[k].Milliseconds())/float64(res.counts[k]), k)
	}
}
