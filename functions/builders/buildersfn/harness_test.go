package buildersfn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/builders"
)

// One moto per package: it applies requests one at a time (infra/moto/serve.py), so every conditional
// write of a storm sees the previous one's result, as DynamoDB's conditions do.
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

// harness is one fresh environment with the builders function over it; the function's calls are
// counted (e.Calls), the test's own are not.
type harness struct {
	e  *testenv.Env
	t  testing.TB
	fn *buildersfn.Function
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	fn, err := buildersfn.New(e.Base("BuildersFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{e: e, t: t, fn: fn}
}

type caller struct {
	sub    string
	groups string
}

func citizen(sub string) caller { return caller{sub, "[citizen]"} }

var admin = caller{"admin1", "[admin]"}

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

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// pathParams matches a route's pattern ("POST /v1/jobs/{id}/applications") to a path, as API Gateway
// fills pathParameters.
func pathParams(routeKey, path string) map[string]string {
	_, pattern, _ := strings.Cut(routeKey, " ")
	ps, xs := strings.Split(pattern, "/"), strings.Split(strings.SplitN(path, "?", 2)[0], "/")
	out := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && i < len(xs) {
			out[strings.Trim(p, "{}")] = xs[i]
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// call sends a request through the API Gateway v2 event path Lambda uses; safe from any goroutine.
func (h *harness) call(c caller, routeKey, path string, body any, headers map[string]string) (response, error) {
	method, _, _ := strings.Cut(routeKey, " ")
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var claims map[string]string
	if c.sub != "" {
		claims = map[string]string{"sub": c.sub, "cognito:groups": c.groups}
	}
	ev := gateway.Event(req, raw, routeKey, claims)
	ev.PathParameters = pathParams(routeKey, path)
	resp, err := h.fn.Handle(context.Background(), ev)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: handler error %w", method, path, err)
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	return response{Status: resp.StatusCode, Body: b}, nil
}

// must is call that fails the test on a handler error or an answer other than want.
func (h *harness) must(want int, c caller, routeKey, path string, body any, headers map[string]string) response {
	h.t.Helper()
	r, err := h.call(c, routeKey, path, body, headers)
	if err != nil {
		h.t.Fatal(err)
	}
	if r.Status != want {
		h.t.Fatalf("%s %s: got %s, want %d", routeKey, path, r, want)
	}
	return r
}

// Mengzi's centre.
const lat0, lng0 = 23.3962, 103.3756

// licence is a valid unified social credit code (GB 32100-2015, its check character included) made from n:
// different n, different codes.
func licence(n int) string {
	body := fmt.Sprintf("91532500%09d", n)
	for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
		if l := body + string(c); builders.ValidLicence(l) {
			return l
		}
	}
	return body + "?" // unreachable: one of the 31 characters is the check; "?" would fail the registration
}

// employerBody is a valid registration with licence(n).
func employerBody(n int) map[string]any {
	return map[string]any{
		"name": fmt.Sprintf("蒙自建筑公司 %d", n), "licence": licence(n),
		"contact": map[string]any{"name": "李经理", "phone": "0873-3712345"}, "address": "蒙自市天马路 1 号",
	}
}

// employer registers sub as an employer with licence(n) (pending).
func (h *harness) employer(sub string, n int) builders.Employer {
	h.t.Helper()
	var e builders.Employer
	h.must(200, citizen(sub), "PUT /v1/me/employer", "/v1/me/employer", employerBody(n), nil).decode(h.t, &e)
	return e
}

// verifiedEmployer registers sub with licence(n) and has an admin verify it.
func (h *harness) verifiedEmployer(sub string, n int) builders.Employer {
	h.t.Helper()
	h.employer(sub, n)
	var e builders.Employer
	h.must(200, admin, "POST /v1/admin/employers/{sub}/verify", "/v1/admin/employers/"+sub+"/verify", map[string]any{}, nil).decode(h.t, &e)
	return e
}

// workerBody is a valid worker profile: trades (or bricklayer) around Mengzi's centre within 10 km, 200 yuan
// a day, available today.
func workerBody(name, visibility string, trades ...string) map[string]any {
	if len(trades) == 0 {
		trades = []string{"bricklayer"}
	}
	return map[string]any{
		"name": name, "phone": "13800138000", "trades": trades, "years": 5,
		"area":          map[string]any{"lat": lat0, "lng": lng0, "radiusKm": 10, "name": "蒙自城区"},
		"expectedWage":  map[string]any{"min": 200, "unit": builders.UnitDay},
		"availableFrom": today(), "visibility": visibility,
	}
}

// worker opts sub in with workerBody (visibility profile; the given trades or bricklayer).
func (h *harness) worker(sub string, trades ...string) builders.Worker {
	h.t.Helper()
	var w builders.Worker
	h.must(200, citizen(sub), "PUT /v1/me/worker", "/v1/me/worker", workerBody("张"+sub, builders.VisibilityProfile, trades...), nil).decode(h.t, &w)
	return w
}

// workers opts subs in as bricklayers, concurrently (setup).
func (h *harness) workers(subs ...string) {
	h.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(subs))
	for i, s := range subs {
		wg.Go(func() {
			r, err := h.call(citizen(s), "PUT /v1/me/worker", "/v1/me/worker", workerBody("张"+s, builders.VisibilityProfile), nil)
			if err == nil && r.Status != 200 {
				err = fmt.Errorf("opt in %s: %s", s, r)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			h.t.Fatal(err)
		}
	}
}

// cityTZ is the city's time zone (testenv's CITY_TZ, Asia/Shanghai: UTC+8 all year).
func cityTZ() *time.Location { return time.FixedZone("CST", 8*3600) }

// today is the city's local day (YYYY-MM-DD).
func today() string { return day(0) }

// day is the city's local day d days from today.
func day(d int) string { return time.Now().In(cityTZ()).AddDate(0, 0, d).Format("2006-01-02") }

// dump is every item of the table, sorted (the test's own look: a Scan of a test table).
func (h *harness) dump() []string {
	h.t.Helper()
	var out []string
	in := &dynamodb.ScanInput{TableName: &h.e.Table}
	for {
		page, err := h.e.DB.Scan(context.Background(), in)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, it := range testenv.Plain(page.Items) {
			b, _ := json.Marshal(it)
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

// storm runs n requests released together and returns their answers in order.
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

// testLog writes the function's log lines to the test's log (shown when a test fails).
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
