package redeemfn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/civicsnap/civicsnap/functions/redeem/redeemfn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/awscalls"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
)

// One moto per package: it applies requests one at a time (infra/moto/serve.py), which is what makes the
// storms below meaningful — every conditional write sees the previous one's result.
var moto *testenv.Moto

var tz = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

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

// harness is one fresh environment (testenv) with the redeem function over it. The function's AWS calls
// are counted (e.Counted, e.Calls); setup and inspection go through the uncounted client and store.
type harness struct {
	e     *testenv.Env
	t     testing.TB
	fn    *redeemfn.Function
	db    *dynamodb.Client
	store *dynamostore.Store
	table string
	calls *awscalls.Counter
	items map[string]market.Item
}

func newHarness(t testing.TB, items ...market.Item) *harness {
	t.Helper()
	return newHarnessWith(t, testenv.Options{}, items...)
}

// newHarnessWith is newHarness on an environment made with opts (a fault-injecting HTTP client, say).
func newHarnessWith(t testing.TB, opts testenv.Options, items ...market.Item) *harness {
	t.Helper()
	opts.CategoriesOnly = true // the function reads no other part of the seed
	e := moto.New(t, opts)
	h := &harness{e: e, t: t, db: e.DB, store: e.Store, table: e.Table, calls: e.Calls, items: map[string]market.Item{}}
	for _, it := range items {
		h.putItem(it)
	}
	h.fn = h.newFunction()
	return h
}

// newFunction builds another redeem function (another container: its own catalog cache) over the table.
func (h *harness) newFunction() *redeemfn.Function {
	h.t.Helper()
	fn, err := redeemfn.New(h.e.Base("RedeemFunction", nil, nil))
	if err != nil {
		h.t.Fatal(err)
	}
	return fn
}

// putItem saves a catalog item as an admin would (goods: with a restock to it.Stock).
func (h *harness) putItem(it market.Item) {
	h.t.Helper()
	if err := it.Validate(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.PutItem(context.Background(), it, it.Kind == market.Goods); err != nil {
		h.t.Fatal(err)
	}
	h.items[it.ID] = it
}

func goods(id string, cost, stock int64, shards int) market.Item {
	return market.Item{ID: id, Kind: market.Goods, NameZH: id, Active: true, Cost: cost, Stock: stock, Shards: shards, PickupLocation: "天马路"}
}

var grantN atomic.Int64

// give credits pts to sub the way accrual does (points.Service.grant): read the profile, points.Grant, and
// one ApplyAward transaction writing the award, the profile (created by a first award) and its ledger
// entry, so the ledger sums to the balance from the start.
func (h *harness) give(sub string, pts int64) {
	h.t.Helper()
	if err := h.giveErr(sub, pts); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) giveErr(sub string, pts int64) error {
	ctx := context.Background()
	now := time.Now()
	p, err := h.store.Profile(ctx, sub)
	if err != nil {
		return err
	}
	rules := points.Rules{DailyCap: 1 << 40, MonthlyCap: 1 << 40}
	a, n, e := points.Grant(p, fmt.Sprintf("seed-%d", grantN.Add(1)), points.RuleConfirm, pts, 0, rules, now, tz)
	return h.store.ApplyAward(ctx, a, n, p.Version, e)
}

// giveAll credits many users concurrently (setup only).
func (h *harness) giveAll(subs []string, pts int64) {
	h.t.Helper()
	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	for i, sub := range subs {
		wg.Go(func() { errs[i] = h.giveErr(sub, pts) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			h.t.Fatal(err)
		}
	}
}

type caller struct {
	sub    string
	groups string
}

func citizen(sub string) caller { return caller{sub, "[citizen]"} }

var clerk = caller{"clerk1", "[clerk]"}

type response struct {
	Status int
	Body   []byte
}

func (r response) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

func (r response) redemption() market.Redemption {
	var red market.Redemption
	_ = json.Unmarshal(r.Body, &red)
	return red
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// call sends a request through the API Gateway v2 event path Lambda uses; safe from any goroutine.
func (h *harness) call(fn *redeemfn.Function, c caller, method, routeKey, path string, body []byte, headers map[string]string) (response, error) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var claims map[string]string
	if c.sub != "" {
		claims = map[string]string{"sub": c.sub, "cognito:groups": c.groups}
	}
	ev := gateway.Event(req, body, routeKey, claims)
	if strings.Contains(routeKey, "{id}") {
		ev.PathParameters = map[string]string{"id": strings.Split(path, "/")[3]}
	}
	resp, err := fn.Handle(context.Background(), ev)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: handler error %w", method, path, err)
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	return response{Status: resp.StatusCode, Body: b}, nil
}

func (h *harness) must(r response, err error) response {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func redeemBody(itemID string, quantity, amount int64) []byte {
	m := map[string]any{"itemId": itemID}
	if quantity != 0 {
		m["quantity"] = quantity
	}
	if amount != 0 {
		m["amount"] = amount
	}
	b, _ := json.Marshal(m)
	return b
}

func (h *harness) redeem(c caller, key string, body []byte) (response, error) {
	return h.call(h.fn, c, "POST", "POST /v1/redemptions", "/v1/redemptions", body, map[string]string{"Idempotency-Key": key})
}

func (h *harness) fulfil(id, code string) (response, error) {
	body, _ := json.Marshal(map[string]string{"pickupCode": code})
	return h.call(h.fn, clerk, "POST", "POST /v1/redemptions/{id}/fulfil", "/v1/redemptions/"+id+"/fulfil", body, nil)
}

func (h *harness) verify(id, code string) (response, error) {
	body, _ := json.Marshal(map[string]string{"pickupCode": code})
	return h.call(h.fn, clerk, "POST", "POST /v1/redemptions/{id}/verify", "/v1/redemptions/"+id+"/verify", body, nil)
}

func (h *harness) cancel(c caller, id string) (response, error) {
	return h.call(h.fn, c, "POST", "POST /v1/redemptions/{id}/cancel", "/v1/redemptions/"+id+"/cancel", nil, nil)
}

// storm runs n requests at once (released together) and returns their responses in order.
func storm(t testing.TB, n int, req func(i int) (response, error)) []response {
	t.Helper()
	out := make([]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = req(i)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tally counts responses by "status code" (e.g. "201", "409 out_of_stock").
func tally(rs []response) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		k := fmt.Sprint(r.Status)
		if c := r.code(); c != "" {
			k += " " + c
		}
		m[k]++
	}
	return m
}

// --- inspection (test-only reads through the uncounted store and client) ---

func (h *harness) profile(sub string) points.Profile {
	h.t.Helper()
	p, err := h.store.Profile(context.Background(), sub)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) ledger(sub string) []points.Entry {
	h.t.Helper()
	var all []points.Entry
	cursor := ""
	for {
		page, next, err := h.store.Ledger(context.Background(), sub, 100, cursor)
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// byItem lists every redemption of an item (the admins' view, paginated).
func (h *harness) byItem(itemID string) []market.Redemption {
	h.t.Helper()
	var all []market.Redemption
	cursor := ""
	for {
		page, next, err := h.store.ByItem(context.Background(), itemID, 100, cursor)
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func (h *harness) redemption(id string) market.Redemption {
	h.t.Helper()
	r, err := h.store.Redemption(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// stock is an item's remaining stock as the store's Stocks reads it (the catalog's source).
func (h *harness) stock(it market.Item) int64 {
	h.t.Helper()
	stocks, _, err := h.store.Stocks(context.Background(), []market.Item{it})
	if err != nil {
		h.t.Fatal(err)
	}
	return stocks[it.ID]
}

// shards reads each stock shard's count.
func (h *harness) shards(it market.Item) []int64 {
	h.t.Helper()
	out := make([]int64, it.ShardCount())
	for n := range out {
		got, err := h.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &h.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#" + it.ID}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("STOCK#%d", n)}}})
		if err != nil {
			h.t.Fatal(err)
		}
		var v struct {
			Stock int64 `dynamodbav:"stock"`
		}
		if err := attributevalue.UnmarshalMap(got.Item, &v); err != nil {
			h.t.Fatal(err)
		}
		out[n] = v.Stock
	}
	return out
}

// checkBooks asserts the invariants after a storm: every user's ledger sums to the balance and the balance
// is not negative; every goods item's stock plus its units redeemed and not cancelled or expired equals its
// initial stock, and no shard is negative.
func (h *harness) checkBooks(users []string) {
	h.t.Helper()
	ctx := context.Background()
	for _, sub := range users {
		p := h.profile(sub)
		sum, err := h.store.LedgerSum(ctx, sub)
		if err != nil {
			h.t.Fatal(err)
		}
		if sum != p.Balance || p.Balance < 0 {
			h.t.Errorf("%s: ledger sums to %d, balance %d (want equal, ≥ 0)", sub, sum, p.Balance)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(h.items)) {
		it := h.items[id]
		if it.Kind != market.Goods {
			continue
		}
		var redeemed int64
		for _, r := range h.byItem(id) {
			if r.Status != market.Cancelled && r.Status != market.Expired {
				redeemed += r.Quantity
			}
		}
		shards := h.shards(it)
		var left int64
		for n, s := range shards {
			if s < 0 {
				h.t.Errorf("%s: shard %d has stock %d", id, n, s)
			}
			left += s
		}
		if st := h.stock(it); st != left {
			h.t.Errorf("%s: Stocks says %d, the shards sum to %d", id, st, left)
		}
		if left+redeemed != it.Stock {
			h.t.Errorf("%s: stock left %d + redeemed %d = %d, want the initial %d", id, left, redeemed, left+redeemed, it.Stock)
		}
	}
}

// balances returns every balance sub's profile has had, in order.
func (h *harness) balances(sub string) []int64 { return h.history("USER#"+sub, "PROFILE", "balance") }

// history returns every value a number attribute of one item has had, in order, read from the table's
// stream (NEW_AND_OLD_IMAGES; a cancelled transaction leaves no record): the proof that a balance or a
// stock was never negative at any moment, not only at the end.
func (h *harness) history(pkv, skv, attr string) []int64 {
	h.t.Helper()
	ctx := context.Background()
	desc, err := h.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &h.table})
	if err != nil {
		h.t.Fatal(err)
	}
	sc := dynamodbstreams.NewFromConfig(h.e.AWS)
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []int64
	for _, shard := range ds.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: desc.Table.LatestStreamArn,
			ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			h.t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
			if err != nil {
				h.t.Fatal(err)
			}
			for _, rec := range page.Records {
				pk, _ := rec.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS)
				sk, _ := rec.Dynamodb.Keys["sk"].(*streamtypes.AttributeValueMemberS)
				bal, _ := rec.Dynamodb.NewImage[attr].(*streamtypes.AttributeValueMemberN)
				if pk == nil || sk == nil || pk.Value != pkv || sk.Value != skv || bal == nil {
					continue
				}
				var n int64
				if _, err := fmt.Sscan(bal.Value, &n); err != nil {
					h.t.Fatal(err)
				}
				out = append(out, n)
			}
			if len(page.Records) == 0 {
				break // moto's shard never closes: an empty page is its end
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// scan returns every item of the table, canonically encoded and sorted. Scans are fine here: this is a
// test's look at the whole table, to prove that a refused request wrote nothing.
func (h *harness) scan() []string {
	h.t.Helper()
	var out []string
	in := &dynamodb.ScanInput{TableName: &h.table, ConsistentRead: aws.Bool(true)}
	for {
		page, err := h.db.Scan(context.Background(), in)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, raw := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
				h.t.Fatal(err)
			}
			b, _ := json.Marshal(m) // map keys are sorted
			out = append(out, string(b))
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	sort.Strings(out)
	return out
}

// wrongCode returns a pickup code that is not code.
func wrongCode(code string, n int) string {
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (n*7919+i)%1_000_000)
		if c != code {
			return c
		}
	}
}
