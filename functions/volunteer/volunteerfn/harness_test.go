package volunteerfn_test

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

	"github.com/civicsnap/civicsnap/functions/volunteer/volunteerfn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/volunteer"
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

// harness is one fresh environment with the volunteer function over it; the function's calls are
// counted (e.Calls), the test's own are not.
type harness struct {
	e  *testenv.Env
	t  testing.TB
	fn *volunteerfn.Function
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	e := moto.New(t, testenv.Options{CategoriesOnly: true})
	fn, err := volunteerfn.New(e.Base("VolunteerFunction", nil, slog.New(slog.NewJSONHandler(testLog{t}, nil))))
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

// pathParams matches a route's pattern ("POST /v1/activities/{id}/signups") to a path, as API Gateway
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

// team creates a team organised by organisers (as an admin would).
func (h *harness) team(id string, organisers ...string) {
	h.t.Helper()
	h.must(200, admin, "PUT /v1/admin/teams/{id}", "/v1/admin/teams/"+id,
		volunteer.TeamInput{Name: "队 " + id, Kind: volunteer.KindServiceTeam, Organisers: organisers}, nil)
}

// volunteers opts subs in, concurrently (setup).
func (h *harness) volunteers(subs ...string) {
	h.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(subs))
	for i, s := range subs {
		wg.Go(func() {
			r, err := h.call(citizen(s), "PUT /v1/me/volunteer", "/v1/me/volunteer", volunteer.ProfileInput{Name: "志愿者 " + s, Skills: []string{"清扫"}}, nil)
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

// activityBody is a valid publication for team, starting in a day, at lat,lng.
func activityBody(team string, capacity int, lat, lng float64, start time.Time) map[string]any {
	return map[string]any{
		"teamId": team, "type": volunteer.TypeCleanup, "title": "全民清扫日", "description": "文澜街道",
		"start": start.UTC().Format(time.RFC3339), "end": start.Add(2 * time.Hour).UTC().Format(time.RFC3339),
		"place":    map[string]any{"name": "天马路口", "lat": lat, "lng": lng, "radiusM": 200},
		"capacity": capacity, "skills": []string{"清扫"},
	}
}

// Mengzi's centre.
const lat0, lng0 = 23.3962, 103.3756

// publish publishes body as org and returns the activities.
func (h *harness) publish(org caller, key string, body any) []volunteer.Activity {
	h.t.Helper()
	r := h.must(201, org, "POST /v1/activities", "/v1/activities", body, map[string]string{"Idempotency-Key": key})
	var out struct{ Items []volunteer.Activity }
	r.decode(h.t, &out)
	return out.Items
}

// tomorrow is 10:00 local time the next day.
func tomorrow() time.Time {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	d := time.Now().In(tz).AddDate(0, 0, 1)
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, tz)
}

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
