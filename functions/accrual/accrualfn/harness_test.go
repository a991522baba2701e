package accrualfn_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/civicsnap/civicsnap/functions/accrual/accrualfn"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/awscalls"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = testenv.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = moto.Stop()
	os.Exit(code)
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// local is a time on the city's clock.
func local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, shanghai)
}

// harness is one fresh environment (testenv: the template's resources and the seed) with the accrual
// function built over it as main builds it. The function's AWS calls are counted; the test's own reads
// and writes (reports, transitions, snapshots) go through the uncounted client.
type harness struct {
	e         *testenv.Env
	t         testing.TB
	fn        *accrualfn.Function
	db        *dynamodb.Client   // uncounted
	store     *dynamostore.Store // uncounted
	table     string
	streamARN string
	calls     *awscalls.Counter
	tx        *txSizes
}

// newHarness makes the environment; rules, when given, are saved before the function first reads them.
func newHarness(t testing.TB, rules *points.Rules) *harness {
	t.Helper()
	return newHarnessWith(t, testenv.Options{}, rules)
}

// newHarnessWith is newHarness on an environment made with opts (a fault-injecting HTTP client, say).
func newHarnessWith(t testing.TB, opts testenv.Options, rules *points.Rules) *harness {
	t.Helper()
	opts.CategoriesOnly = true // the function reads no other part of the seed
	e := moto.New(t, opts)
	h := &harness{e: e, t: t, db: e.DB, store: e.Store, table: e.Table, streamARN: e.StreamARN, calls: e.Calls, tx: &txSizes{}}
	if rules != nil {
		if err := rules.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := h.store.PutPointRules(context.Background(), *rules); err != nil {
			t.Fatal(err)
		}
	}
	h.tx.attach(&e.Counted)
	var err error
	if h.fn, err = accrualfn.New(e.Base("AccrualFunction", nil, nil)); err != nil {
		t.Fatal(err)
	}
	return h
}

// txSizes records the number of items of every TransactWriteItems call.
type txSizes struct {
	mu    sync.Mutex
	sizes []int
}

func (x *txSizes) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("txsizes",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
					x.mu.Lock()
					x.sizes = append(x.sizes, len(tx.TransactItems))
					x.mu.Unlock()
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

func (x *txSizes) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sizes = nil
}

func (x *txSizes) get() []int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.sizes)
}

// resetCounts forgets the calls counted so far.
func (h *harness) resetCounts() {
	h.calls.Reset()
	h.tx.reset()
}

// handle delivers one stream batch to the function, as the event source mapping does.
func (h *harness) handle(recs ...events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	h.t.Helper()
	resp, err := h.fn.Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		h.t.Fatalf("handler error: %v", err)
	}
	return resp
}

// handleOK delivers a batch and fails the test if any record failed.
func (h *harness) handleOK(recs ...events.DynamoDBEventRecord) {
	h.t.Helper()
	if resp := h.handle(recs...); len(resp.BatchItemFailures) > 0 {
		h.t.Fatalf("batch failures %+v", resp.BatchItemFailures)
	}
}

// submit writes a submitted report as intake does (claimed idempotency key, then one transaction).
func (h *harness) submit(sub, category string, created time.Time) report.Report {
	h.t.Helper()
	return h.e.CreateReport(report.Report{
		Category: category, Description: "井盖缺失 test", Location: report.Location{Lat: 23.3752, Lng: 103.3905},
		ReporterSub: sub, CreatedAt: created,
		Photos: []report.Photo{{Key: "reports/x/1.jpg", ContentType: "image/jpeg", Size: 1234, MetadataStripped: true}},
	})
}

var lead = report.Assignment{Dept: "municipal", Role: report.Lead}

// dispatch routes a submitted report to the municipal works department (as dispatch does).
func (h *harness) dispatch(r report.Report) report.Report {
	h.t.Helper()
	at := r.CreatedAt.Add(time.Minute)
	a := lead
	a.Status, a.AssignedAt, a.SLADeadline = report.Dispatched, at, at.Add(72*time.Hour)
	entry := report.TimelineEntry{At: at, Status: report.Dispatched, Actor: "dispatch"}
	if err := h.store.Dispatch(context.Background(), r, report.Dispatched, a.Dept, []report.Assignment{a}, entry); err != nil {
		h.t.Fatalf("dispatch: %v", err)
	}
	r.Status, r.LeadDept, r.UpdatedAt, r.Assignments = report.Dispatched, a.Dept, at, []report.Assignment{a}
	return r
}

// transition applies a casework change set with the store (as the departments and admin functions do)
// and returns the report as changed, with the stream record of its report item (old and new image).
func (h *harness) transition(r report.Report, to report.Status, at time.Time, reason string) (report.Report, events.DynamoDBEventRecord) {
	h.t.Helper()
	at = at.UTC().Truncate(time.Millisecond)
	old := h.item("REPORT#"+r.ID, "REPORT")
	cs := casework.ChangeSet{Report: r, To: to, LeadDept: r.LeadDept, Reason: reason,
		Entry: report.TimelineEntry{At: at, Status: to, Actor: "dept:" + r.LeadDept, Note: reason}}
	if to == report.Resolved {
		cs.ProofPhotos = []report.Photo{{Key: "reports/" + r.ID + "/proof-1.jpg", ContentType: "image/jpeg", Size: 999, MetadataStripped: true}}
		as := slices.Clone(r.Assignments)
		for i := range as {
			as[i].Status = report.Resolved
		}
		cs.Assignments = as
	}
	if err := h.store.Apply(context.Background(), cs); err != nil {
		h.t.Fatalf("%s report %s: %v", to, r.ID, err)
	}
	r.Status, r.UpdatedAt = to, at
	if to == report.Resolved {
		r.ResolvedAt = &at
	}
	return r, h.record(old, h.item("REPORT#"+r.ID, "REPORT"))
}

// resolved files a report of category by sub and resolves it at at; it returns the report and the stream
// record of the resolution. (It skips dispatch, which accrual does not look at: moto's TransactWriteItems
// copies the whole table, stream included, so every item a test writes slows the ones after it.)
func (h *harness) resolved(sub, category string, at time.Time) (report.Report, events.DynamoDBEventRecord) {
	h.t.Helper()
	r := h.submit(sub, category, at.Add(-2*time.Hour))
	r.LeadDept = lead.Dept
	return h.transition(r, report.Resolved, at, "")
}

// revoke moves a resolved report to revoked (as the admin's revocation does).
func (h *harness) revoke(r report.Report, at time.Time) (report.Report, events.DynamoDBEventRecord) {
	h.t.Helper()
	return h.transition(r, report.Revoked, at, "fraudulent photo")
}

// markDuplicate links a submitted report to original with the store (gsi4 DUPOF#<original>).
func (h *harness) markDuplicate(r report.Report, original string) {
	h.t.Helper()
	entry := report.TimelineEntry{At: r.CreatedAt.Add(time.Second), Status: report.Duplicate, Actor: "dispatch"}
	if err := h.store.MarkDuplicate(context.Background(), r, original, entry); err != nil {
		h.t.Fatalf("mark duplicate: %v", err)
	}
}

// item reads one item consistently (nil if there is none).
func (h *harness) item(pk, sk string) map[string]types.AttributeValue {
	h.t.Helper()
	return h.e.Item(pk, sk)
}

var seq atomic.Int64

// record is the stream record Lambda delivers for a MODIFY of an item from old to new
// (NEW_AND_OLD_IMAGES), with a fresh, increasing SequenceNumber.
func (h *harness) record(old, new map[string]types.AttributeValue) events.DynamoDBEventRecord {
	h.t.Helper()
	n := seq.Add(1)
	newImg, oldImg := streamImage(h.t, new), streamImage(h.t, old)
	name := "MODIFY"
	if old == nil {
		name, oldImg = "INSERT", nil
	}
	return events.DynamoDBEventRecord{
		AWSRegion: h.e.AWS.Region, EventID: fmt.Sprintf("ev-%06d", n), EventName: name, EventSource: "aws:dynamodb",
		EventVersion: "1.1", EventSourceArn: h.streamARN,
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now().Truncate(time.Second)},
			Keys:                        map[string]events.DynamoDBAttributeValue{"pk": newImg["pk"], "sk": newImg["sk"]},
			NewImage:                    newImg, OldImage: oldImg,
			SequenceNumber: fmt.Sprintf("4%020d", n), SizeBytes: 512, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
}

// streamImage converts SDK attribute values to the stream's (aws-lambda-go) representation.
func streamImage(t testing.TB, img map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	return streamfn.Lambda(img)
}

// profile returns sub's stored profile (a zero one, Version 0, if there is none).
func (h *harness) profile(sub string) points.Profile {
	h.t.Helper()
	p, err := h.store.Profile(context.Background(), sub)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// ledger returns sub's whole ledger, newest first.
func (h *harness) ledger(sub string) []points.Entry {
	h.t.Helper()
	var all []points.Entry
	cursor := ""
	for {
		es, next, err := h.store.Ledger(context.Background(), sub, 50, cursor)
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, es...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func sum(es []points.Entry) int64 {
	var s int64
	for _, e := range es {
		s += e.Delta
	}
	return s
}

// balanced checks that sub's ledger sums to the balance and returns the profile and ledger.
func (h *harness) balanced(sub string) (points.Profile, []points.Entry) {
	h.t.Helper()
	p, l := h.profile(sub), h.ledger(sub)
	if s := sum(l); s != p.Balance {
		h.t.Errorf("%s: ledger sums to %d, balance is %d", sub, s, p.Balance)
	}
	if p.Balance < 0 || p.Debt < 0 {
		h.t.Errorf("%s: negative balance or debt: %+v", sub, p)
	}
	return p, l
}

// awards returns a resolved report's award records (its reporter's and its duplicates' reporters'),
// found at their ledger keys.
func (h *harness) awards(r report.Report) []points.Award {
	h.t.Helper()
	ctx := context.Background()
	keys := []points.Award{points.AwardKey(r.ID, r.ReporterSub, points.RuleReport, *r.ResolvedAt)}
	dups, err := h.store.DuplicateReporters(ctx, r.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range dups {
		keys = append(keys, points.AwardKey(r.ID, d.ReporterSub, points.RuleConfirm, *r.ResolvedAt))
	}
	as, err := h.store.Awards(ctx, keys)
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

// snapshot is every item of the table, sorted by key, as plain Go values: the whole state to compare
// before and after a replay. (A test may Scan; request paths never do.)
func (h *harness) snapshot() []map[string]any {
	h.t.Helper()
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: &h.table, ConsistentRead: aws.Bool(true)}
	for {
		out, err := h.db.Scan(context.Background(), in)
		if err != nil {
			h.t.Fatal(err)
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var plain []map[string]any
	if err := attributevalue.UnmarshalListOfMaps(items, &plain); err != nil {
		h.t.Fatal(err)
	}
	key := func(m map[string]any) string { return fmt.Sprint(m["pk"], "\x00", m["sk"]) }
	slices.SortFunc(plain, func(a, b map[string]any) int { return strings.Compare(key(a), key(b)) })
	return plain
}

// deltas maps a ledger's report ids (for awards) to the entry's delta, by kind.
func deltas(es []points.Entry, kind string) map[string]int64 {
	m := map[string]int64{}
	for _, e := range es {
		if e.Kind == kind {
			m[e.ReportID] += e.Delta
		}
	}
	return m
}

func count(es []points.Entry, kind string) int {
	n := 0
	for _, e := range es {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
