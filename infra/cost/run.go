package cost

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/localrun"
	"github.com/civicsnap/civicsnap/infra/stack"
)

// walkthroughJPEG is README's walk-through photo (a tiny JPEG).
const walkthroughJPEG = "/9j/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AAAsIAAgACAEBEQD/xADSAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAAgBAQAAPwDi/wDkI/8AX7/6P/8As/8A0L/e+9//2Q=="

// Scenario is how lifecycles are spaced.
type Scenario struct {
	Name string
	Gap  time.Duration // the functions' clock moves this much before each step; 0: back to back
	N    int           // lifecycles measured (after one that warms the containers)
	// Trace, when set, receives one line per item written in the measured lifecycles.
	Trace io.Writer
}

// Result is what the measured lifecycles cost, per lifecycle.
type Result struct {
	Scenario    Scenario
	Lines       map[[2]string]Line // summed over the N lifecycles
	Invocations map[string]int
	Billed      map[string]time.Duration
	API, S3Post int
	N           int
}

// Measure starts a local stack from template (path), warms it with one lifecycle and measures sc.N more.
func Measure(ctx context.Context, template string, sc Scenario) (*Result, error) {
	tpl, err := stack.Load(template)
	if err != nil {
		return nil, err
	}
	tbl, ok := tpl.Tables["Table"]
	if !ok {
		return nil, fmt.Errorf("template has no Table")
	}
	var rec *Recorder
	inv := &Invocations{}
	st, err := localrun.Start(ctx, localrun.Options{Addr: "127.0.0.1:0", Template: template,
		Function: func(id string, cfg aws.Config, build func(aws.Config) (localrun.Handler, error)) (localrun.Handler, error) {
			if rec == nil {
				rec = NewRecorder(dynamodb.NewFromConfig(cfg), SchemaOf(tbl))
			}
			c := cfg.Copy()
			c.APIOptions = slices.Clone(cfg.APIOptions)
			rec.Attach(strings.TrimSuffix(id, "Function"), &c)
			h, err := build(c)
			return inv.Wrap(strings.TrimSuffix(id, "Function"), h), err
		}})
	if err != nil {
		return nil, err
	}
	defer st.Close(context.WithoutCancel(ctx))
	photo, _ := base64.StdEncoding.DecodeString(walkthroughJPEG)
	d := &Driver{St: st, Table: st.Names.Tables["Table"].Name, Raw: dynamodb.NewFromConfig(st.AWS), Photo: photo}
	// Setup (not measured): a street light earns enough points for an umbrella.
	adm, err := st.Issuer.Mint(gateway.TokenRequest{Sub: "cost-admin", Groups: []string{"admin"}})
	if err != nil {
		return nil, err
	}
	var rules map[string]any
	if _, err := d.call("GET", "/v1/admin/point-rules", adm, nil, nil, &rules); err != nil {
		return nil, err
	}
	rules["categoryPoints"] = map[string]int{"street_light": 30}
	if _, err := d.call("PUT", "/v1/admin/point-rules", adm, rules, nil, nil); err != nil {
		return nil, err
	}
	time.Sleep(2500 * time.Millisecond) // the local stack caches configuration for 2 s
	if err := d.Lifecycle(ctx); err != nil {
		return nil, fmt.Errorf("warm-up lifecycle: %w", err)
	}
	rec.Reset()
	rec.Trace = sc.Trace
	inv.Reset()
	d.API, d.S3Post = 0, 0
	d.Gap = sc.Gap
	for i := 0; i < sc.N; i++ {
		if err := d.Lifecycle(ctx); err != nil {
			return nil, fmt.Errorf("lifecycle %d: %w", i+1, err)
		}
	}
	if err := rec.Err(); err != nil {
		return nil, fmt.Errorf("reading images: %w", err)
	}
	n, b := inv.Snapshot()
	return &Result{Scenario: sc, Lines: rec.Lines(), Invocations: n, Billed: b, API: d.API, S3Post: d.S3Post, N: sc.N}, nil
}

// Totals are a result's figures per lifecycle.
type Totals struct {
	DynamoCalls, S3Put, S3Get, SQS, Secrets, Invocations, API float64
	TableWCU, IndexWCU, RCU, GBs                              float64
	IndexByName                                               map[string]float64
	Dollars                                                   map[string]float64 // per 1M lifecycles, by service
}

// Dollars is the cost of 1M lifecycles.
func (t Totals) Total() float64 {
	s := 0.0
	for _, v := range t.Dollars {
		s += v
	}
	return s
}

// Totals prices r per lifecycle at p.
func (r *Result) Totals(p Prices) Totals {
	n := float64(r.N)
	t := Totals{IndexByName: map[string]float64{}, Dollars: map[string]float64{}}
	for k, l := range r.Lines {
		op := k[1]
		c := float64(l.Calls) / n
		switch {
		case strings.HasPrefix(op, "DynamoDB."):
			t.DynamoCalls += c
			t.TableWCU += l.TableWCU / n
			t.RCU += l.RCU / n
			for ix, v := range l.IndexWCU {
				t.IndexWCU += v / n
				t.IndexByName[ix] += v / n
			}
		case op == "S3.GetObject" || op == "S3.HeadObject":
			t.S3Get += c
		case strings.HasPrefix(op, "S3.DeleteObject"):
		case strings.HasPrefix(op, "S3."):
			t.S3Put += c
		case strings.HasPrefix(op, "SQS."):
			t.SQS += c
		case strings.HasPrefix(op, "Secrets Manager."):
			t.Secrets += c
		}
	}
	t.S3Put += float64(r.S3Post) / n
	t.API = float64(r.API) / n
	var billed time.Duration
	for fn, x := range r.Invocations {
		t.Invocations += float64(x) / n
		billed += r.Billed[fn]
	}
	t.GBs = billed.Seconds() / n * p.LambdaMemGB
	const m = 1e6
	t.Dollars["DynamoDB writes"] = m * (t.TableWCU + t.IndexWCU) * p.WriteUnit
	t.Dollars["DynamoDB reads"] = m * t.RCU * p.ReadUnit
	t.Dollars["S3 requests"] = m * (t.S3Put*p.S3Put + t.S3Get*p.S3Get)
	t.Dollars["SQS"] = m * t.SQS * p.SQSRequest
	t.Dollars["Lambda requests"] = m * t.Invocations * p.LambdaRequest
	t.Dollars["Lambda GB-s"] = m * t.GBs * p.LambdaGBs
	t.Dollars["API Gateway"] = m * t.API * p.HTTPAPI
	t.Dollars["Secrets Manager"] = m * t.Secrets * p.Secrets
	return t
}

// Print writes r's per-operation table and its price.
func (r *Result) Print(w io.Writer, p Prices) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	n := float64(r.N)
	fmt.Fprintf(w, "\n== %s (gap %v between steps, %d lifecycles after a warm-up; figures per lifecycle)\n", r.Scenario.Name, r.Scenario.Gap, r.N)
	fmt.Fprintln(tw, "function\toperation\tcalls\ttable WCU\tindex WCU\tRCU\t")
	keys := slices.SortedFunc(maps.Keys(r.Lines), func(a, b [2]string) int { return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1]) })
	for _, k := range keys {
		l := r.Lines[k]
		ix := 0.0
		for _, v := range l.IndexWCU {
			ix += v
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1f\t%.1f\t%.1f\t\n", k[0], k[1], float64(l.Calls)/n, l.TableWCU/n, ix/n, l.RCU/n)
	}
	tw.Flush()
	t := r.Totals(p)
	fmt.Fprintf(w, "DynamoDB: %.1f calls, %.1f WCU (table %.1f, indexes %.1f: %s), %.1f RCU\n", t.DynamoCalls,
		t.TableWCU+t.IndexWCU, t.TableWCU, t.IndexWCU, fmtMap(t.IndexByName), t.RCU)
	fmt.Fprintf(w, "S3: %.1f PUT/COPY/POST, %.1f GET; SQS %.1f; Secrets Manager %.2f; Lambda %.1f invocations, %.4f GB-s; API Gateway %.1f\n",
		t.S3Put, t.S3Get, t.SQS, t.Secrets, t.Invocations, t.GBs, t.API)
	fmt.Fprintf(w, "per 1M lifecycles: $%.2f (%s)\n", t.Total(), fmtMap(t.Dollars))
}

func fmtMap(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
