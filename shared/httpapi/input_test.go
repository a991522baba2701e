package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

func TestDecodeJSONIsStrict(t *testing.T) {
	type body struct {
		S string `json:"s"`
		N int    `json:"n"`
	}
	tests := []struct {
		in   string
		want string // "" for accepted, else the decoded S
		ok   bool
	}{
		{`{"s":"a","n":1}`, "a", true},
		{" \t\r\n{\"s\":\"a\"} \n\t\r ", "a", true},
		{`{"s":"\ud83d\ude00"}`, "😀", true},
		{`{"s":"\\ud800"}`, `\ud800`, true},
		{`{"s":"路灯不亮"}`, "路灯不亮", true},
		{`{"s":"a"}}`, "", false},
		{`{"s":"a"}]`, "", false},
		{`{"s":"a"} {"s":"b"}`, "", false},
		{`{"s":"a"} x`, "", false},
		{"{\"s\":\"a\"}\v", "", false},
		{"{\"s\":\"a\"}\u00a0", "", false},
		{"{\"s\":\"\xff\"}", "", false},
		{"{\"s\":\"\xed\xa0\x80\"}", "", false},
		{`{"s":"\ud800"}`, "", false},
		{`{"s":"\udc00"}`, "", false},
		{`{"s":"\ud800\u0041"}`, "", false},
		{`{"s":"\\\ud800"}`, "", false},
		{`{"s":"\ud800`, "", false},
		{`null`, "", false},
		{`[]`, "", false},
		{`"s"`, "", false},
		{`1`, "", false},
		{``, "", false},
		{`   `, "", false},
		{`{"x":1}`, "", false},
		{`{"n":"1"}`, "", false},
		{`{"n":1.5}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b body
			err := DecodeJSON([]byte(tt.in), &b)
			if tt.ok {
				if err != nil || b.S != tt.want {
					t.Fatalf("DecodeJSON = %v, s %q; want %q", err, b.S, tt.want)
				}
				return
			}
			if e := apperr.As(err); e == nil || e.Code != "invalid_json" {
				t.Fatalf("DecodeJSON = %v, want invalid_json", err)
			}
		})
	}
}

// call sends one API Gateway v2 event through h as Lambda would, with the given claims (none: anonymous).
func call(t *testing.T, h *Router, method, rawPath, query string, headers map[string]string, body string, claims map[string]string) (int, string) {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: rawPath, RawQueryString: query, Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", RequestID: "req-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath}}}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	resp, err := LambdaHandler(h)(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	var e errorBody
	_ = json.Unmarshal([]byte(resp.Body), &e)
	return resp.StatusCode, e.Error.Code
}

// callBody sends a GET as call does and returns the answer's body.
func callBody(t *testing.T, h *Router, method, rawPath, query string, claims map[string]string) string {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: rawPath, RawQueryString: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}}}
	resp, err := LambdaHandler(h)(context.Background(), ev)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %v", method, rawPath, resp.StatusCode, err)
	}
	return resp.Body
}

// routers builds every router over services without stores: a request that reached a store would panic
// (nil interface), which the test reports as a refused request that was not refused at the edge.
func routers(ps points.Store) map[string]*Router {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	now := time.Now
	reports := report.NewService(nil, nil, report.Config{}, now, func() string { return "id" })
	cw := casework.NewService(nil, nil, nil, nil, nil, now)
	mkt := market.NewService(nil, time.UTC, now, func() string { return "id" }, market.Settings{})
	pts := points.NewService(ps, nil, time.UTC, now)
	return map[string]*Router{
		"intake":      Intake(reports, log),
		"departments": Departments(cw, reports, log),
		"admin": Admin(AdminDeps{Config: dispatch.NewAdmin(nil, nil, nil), Points: pts, Market: mkt,
			Revoke: func(context.Context, string, string) (report.Report, error) { panic("revoke reached") }}, log),
		"market":    Market(mkt, log),
		"account":   Account(pts, log),
		"dashboard": Dashboard(kpi.NewService(nil, nil, time.UTC, now, log, 5, "2020-01-01"), nil, nil, log),
	}
}

var (
	citizen = map[string]string{"sub": "u1", "cognito:groups": "[citizen]"}
	staffer = map[string]string{"sub": "s1", "cognito:groups": "[staff]", "custom:dept": "municipal"}
	clerk   = map[string]string{"sub": "k1", "cognito:groups": "[clerk]"}
	adminer = map[string]string{"sub": "a1", "cognito:groups": "[admin]"}
)

// Every path parameter, header, query parameter and key-forming body field over its bound or outside its
// characters is a 400 with a stable code before any service or store is called (finding 5: a 1.5 KB
// webhook-id was a 500, 3,000-character ids reached the store).
func TestBadInputIsRefusedAtTheEdge(t *testing.T) {
	long := strings.Repeat("a", 3000)
	key := map[string]string{"idempotency-key": "k-1"}
	tests := []struct {
		router, method, path, query string
		headers                     map[string]string
		body                        string
		claims                      map[string]string
		code                        string
	}{
		{"market", "POST", "/v1/redemptions/" + long + "/fulfil", "", nil, `{"pickupCode":"123456"}`, clerk, "invalid_path_parameter"},
		{"market", "POST", "/v1/redemptions/" + long + "/cancel", "", nil, "", citizen, "invalid_path_parameter"},
		{"market", "POST", "/v1/redemptions/a%23b/cancel", "", nil, "", citizen, "invalid_path_parameter"},
		{"market", "POST", "/v1/redemptions/%E8%B7%AF/cancel", "", nil, "", citizen, "invalid_path_parameter"},
		{"departments", "POST", "/v1/dept/reports/" + long + "/transitions", "", nil, `{"to":"accepted"}`, staffer, "invalid_path_parameter"},
		{"departments", "POST", "/v1/dept/reports/r1/transitions", "", nil,
			`{"to":"resolved","proofPhotoKeys":["a","b","c","d","e","f","g","h","i","j"]}`, staffer, "invalid_field"},
		{"departments", "POST", "/v1/dept/reports/r1/transitions", "", nil,
			`{"to":"dispatched","toDept":"police","assists":["a","b","c","d","e","f","g","h","i","j","k"]}`, staffer, "invalid_field"},
		{"admin", "POST", "/v1/admin/reports/" + long + "/revoke", "", nil, `{"reason":"fraud"}`, adminer, "invalid_path_parameter"},
		{"admin", "GET", "/v1/admin/catalog/" + long, "", nil, "", adminer, "invalid_path_parameter"},
		{"admin", "PUT", "/v1/admin/catalog/a.b", "", nil, `{}`, adminer, "invalid_path_parameter"},
		{"admin", "PUT", "/v1/admin/departments/" + long, "", nil, `{}`, adminer, "invalid_path_parameter"},
		{"intake", "GET", "/v1/reports/" + long, "", nil, "", citizen, "invalid_path_parameter"},
		{"departments", "POST", "/v1/departments/" + long + "/events", "", nil, `{}`, nil, "invalid_path_parameter"},
		{"departments", "POST", "/v1/departments/municipal/events", "",
			map[string]string{"webhook-id": strings.Repeat("m", 1500), "webhook-timestamp": "1", "webhook-signature": "v1,x"}, `{}`, nil, "invalid_header"},
		{"departments", "POST", "/v1/departments/municipal/events", "",
			map[string]string{"webhook-id": "msg 1", "webhook-timestamp": "1", "webhook-signature": "v1,x"}, `{}`, nil, "invalid_header"},
		{"departments", "POST", "/v1/departments/municipal/uploads", "",
			map[string]string{"webhook-id": "m", "webhook-timestamp": "1e9", "webhook-signature": "v1,x"}, `{}`, nil, "invalid_header"},
		{"departments", "POST", "/v1/departments/municipal/uploads", "",
			map[string]string{"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": strings.Repeat("v1,x ", 300)}, `{}`, nil, "invalid_header"},
		{"intake", "POST", "/v1/reports", "", map[string]string{"idempotency-key": long}, `{}`, citizen, "idempotency_key_invalid"},
		{"intake", "POST", "/v1/reports", "", map[string]string{"idempotency-key": "路灯"}, `{}`, citizen, "idempotency_key_invalid"},
		{"market", "POST", "/v1/redemptions", "", map[string]string{"idempotency-key": "a b"}, `{"itemId":"rice"}`, citizen, "idempotency_key_invalid"},
		{"market", "POST", "/v1/redemptions", "", key, `{"itemId":"` + long + `"}`, citizen, "invalid_field"},
		{"market", "POST", "/v1/redemptions", "", key, `{"itemId":"ri#ce"}`, citizen, "invalid_field"},
		{"market", "POST", "/v1/redemptions", "", key, `{"itemId":""}`, citizen, "invalid_field"},
		{"market", "POST", "/v1/redemptions/r1/fulfil", "", nil, `{"pickupCode":"` + long + `"}`, clerk, "invalid_field"},
		{"intake", "GET", "/v1/me/reports", "cursor=" + long, nil, "", citizen, "invalid_cursor"},
		{"intake", "GET", "/v1/me/reports", "cursor=eyJ9%2B%2F", nil, "", citizen, "invalid_cursor"},
		{"intake", "GET", "/v1/me/reports", "limit=1000000000000", nil, "", citizen, "invalid_limit"},
		{"account", "GET", "/v1/me/ledger", "cursor=" + long, nil, "", citizen, "invalid_cursor"},
		{"market", "GET", "/v1/me/redemptions", "cursor=a&cursor=" + long, nil, "", citizen, "invalid_cursor"},
		{"departments", "GET", "/v1/dept/reports", "status=" + long, nil, "", staffer, "invalid_query"},
		{"departments", "GET", "/v1/dept/reports", "cursor=" + long, nil, "", staffer, "invalid_cursor"},
		{"admin", "GET", "/v1/admin/deliveries", "dept=" + long, nil, "", adminer, "invalid_query"},
		{"admin", "GET", "/v1/admin/redemptions", "itemId=" + long, nil, "", adminer, "invalid_query"},
		{"admin", "GET", "/v1/admin/redemptions", "itemId=rice&cursor=" + long, nil, "", adminer, "invalid_cursor"},
		{"dashboard", "GET", "/v1/kpi/summary", "from=" + long, nil, "", staffer, "invalid_query"},
		{"dashboard", "GET", "/v1/kpi/daily", "to=2026-11-31x", nil, "", staffer, "invalid_query"},
	}
	rs := routers(nil)
	for _, tt := range tests {
		name := fmt.Sprintf("%s %.60s?%.30s %.40s", tt.method, tt.path, tt.query, tt.code)
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("the request reached a service: %v", p)
				}
			}()
			status, code := call(t, rs[tt.router], tt.method, tt.path, tt.query, tt.headers, tt.body, tt.claims)
			if status != 400 || code != tt.code {
				t.Fatalf("got %d %q, want 400 %q", status, code, tt.code)
			}
		})
	}
}

// Values at their bounds pass the checks.
func TestCheckRequestAcceptsValuesAtTheirBounds(t *testing.T) {
	for name, rule := range pathParams {
		if err := rule.Check(name, strings.Repeat("A", 64)); err != nil {
			t.Errorf("path parameter %s of 64 characters: %v", name, err)
		}
		if err := rule.Check(name, "019a-7b_c"); err != nil {
			t.Errorf("path parameter %s: %v", name, err)
		}
	}
	ok := map[string]string{
		"Idempotency-Key": strings.Repeat("~", 128), "Webhook-Id": "msg_" + strings.Repeat("x", 252),
		"Webhook-Timestamp": "1764500000", "Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,abc=",
	}
	for name, v := range ok {
		if err := headers[name].Check(name, v); err != nil {
			t.Errorf("header %s: %v", name, err)
		}
	}
	for name, v := range map[string]string{"cursor": strings.Repeat("A_-z", 256), "limit": "100", "status": "in_progress",
		"dept": "city_mgmt", "itemId": "bus-card-20", "from": "2026-11-01", "to": "2026-11-30"} {
		if err := queryParams[name].Check(name, v); err != nil {
			t.Errorf("query parameter %s: %v", name, err)
		}
	}
}

// Every path parameter of every route has a rule, so none reaches a handler unchecked.
func TestEveryPathParameterHasARule(t *testing.T) {
	for name, rt := range routers(nil) {
		for _, route := range rt.Routes() {
			params, _ := wildcards(strings.ReplaceAll(route.Path, "+}", "...}"))
			for _, p := range params {
				if _, ok := pathParams[p]; !ok && p != "proxy" {
					t.Errorf("%s: %s has parameter %s without a rule", name, route, p)
				}
			}
		}
	}
}

func TestRoutesAreWrittenAsTheTemplateWritesThem(t *testing.T) {
	rt := newRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	for _, p := range []string{"GET /v1/reports/{id}", "POST /v1/departments/{dept}/events", "GET /console/", "GET /console", "GET /files/{path...}"} {
		rt.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {})
	}
	want := []Route{{"GET", "/v1/reports/{id}"}, {"POST", "/v1/departments/{dept}/events"}, {"GET", "/console/{proxy+}"},
		{"GET", "/console"}, {"GET", "/files/{path+}"}}
	if got := rt.Routes(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Routes() = %v, want %v", got, want)
	}
}

// The claims become parts of keys: a sub or department outside their rules is not taken.
func TestPrincipalClaims(t *testing.T) {
	tests := []struct {
		claims    map[string]string
		sub, dept string
	}{
		{map[string]string{"sub": "u1", "custom:dept": "municipal"}, "u1", "municipal"},
		{map[string]string{"sub": "0f8e2c1a-1111-4222-8333-944455556666"}, "0f8e2c1a-1111-4222-8333-944455556666", ""},
		{map[string]string{"sub": strings.Repeat("u", 129)}, "", ""},
		{map[string]string{"sub": "u#1"}, "", ""},
		{map[string]string{"sub": "u1", "custom:dept": strings.Repeat("d", 65)}, "u1", ""},
		{map[string]string{"sub": "u1", "custom:dept": "a#b"}, "u1", ""},
	}
	for _, tt := range tests {
		var got [2]string
		rt := newRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
		rt.HandleFunc("GET /p", func(w http.ResponseWriter, r *http.Request) {
			p := Principal(r)
			got = [2]string{p.Sub, p.Dept}
			w.WriteHeader(http.StatusNoContent)
		})
		call(t, rt, "GET", "/p", "", nil, "", tt.claims)
		if got != [2]string{tt.sub, tt.dept} {
			t.Errorf("claims %.80v: principal %q, want %q %q", tt.claims, got, tt.sub, tt.dept)
		}
	}
}

// rulesStore keeps the point rules in memory and counts writes.
type rulesStore struct {
	points.Store
	rules  points.Rules
	writes int
}

func (s *rulesStore) PointRules(context.Context) (points.Rules, bool, error) {
	return s.rules, true, nil
}
func (s *rulesStore) PutPointRules(_ context.Context, r points.Rules) error {
	s.rules, s.writes = r, s.writes+1
	return nil
}

// PUT /v1/admin/point-rules replaces the rules whole: a body without a field is refused and writes nothing
// (null and {} used to set every cap and award to 0 and drop the honors).
func TestPutPointRulesNeedsEveryField(t *testing.T) {
	full := `{"duplicateAward":2,"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"honors":[{"title":"文明市民","threshold":10}]}`
	tests := []struct {
		body, code string
	}{
		{`null`, "invalid_json"},
		{`{}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":null}`, "invalid_point_rules"},
		{`{"dailyCap":null,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[]}`, "invalid_point_rules"},
		{`{"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[]}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[null]}`, "invalid_point_rules"},
		{full + `}`, "invalid_json"},
		{"{\"dailyCap\":50,\"monthlyCap\":500,\"meritPerReport\":1,\"duplicateAward\":0,\"honors\":[{\"title\":\"\xff\",\"threshold\":1}]}", "invalid_json"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"categoryPoints":{"a#b":1}}`, "invalid_point_rules"},
		// The volunteer part is optional, but whole when given, and checked (issue 15).
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"volunteer":{"pointsPerHour":5}}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"volunteer":{"pointsPerHour":-1,"meritPerHour":1,"stars":[]}}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[{"title":"星","threshold":1}],"volunteer":{"pointsPerHour":5,"meritPerHour":1,"stars":[{"title":"星","threshold":100}]}}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"volunteer":{"pointsPerHour":5,"meritPerHour":1,"stars":[],"extra":1}}`, "invalid_json"},
		// The builders' part likewise (issue 16).
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"builders":{"enabled":true}}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"builders":{"enabled":true,"hireCompleted":-1,"consultation":0}}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"builders":{"enabled":true,"hireCompleted":20,"consultation":1001}}`, "invalid_point_rules"},
		{`{"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"duplicateAward":0,"honors":[],"builders":{"enabled":true,"hireCompleted":20,"consultation":0,"x":1}}`, "invalid_json"},
	}
	for _, tt := range tests {
		st := &rulesStore{rules: points.DefaultRules()}
		status, code := call(t, routers(st)["admin"], "PUT", "/v1/admin/point-rules", "", nil, tt.body, adminer)
		if status != 400 || code != tt.code || st.writes != 0 {
			t.Errorf("%s: %d %q with %d writes, want 400 %q and none", tt.body, status, code, st.writes, tt.code)
		}
	}
	st := &rulesStore{rules: points.DefaultRules()}
	if status, code := call(t, routers(st)["admin"], "PUT", "/v1/admin/point-rules", "", nil, full, adminer); status != 200 {
		t.Fatalf("full rules: %d %s", status, code)
	}
	want := points.Rules{DuplicateAward: 2, DailyCap: 50, MonthlyCap: 500, MeritPerReport: 1, Honors: []points.Honor{{Title: "文明市民", Threshold: 10}}}
	if st.writes != 1 || fmt.Sprint(st.rules) != fmt.Sprint(want) {
		t.Fatalf("wrote %d times: %+v, want %+v", st.writes, st.rules, want)
	}
	// What a GET shows can be PUT back, also without honors (a stored empty list reads back as nil).
	st.rules.Honors = nil
	shown := callBody(t, routers(st)["admin"], "GET", "/v1/admin/point-rules", "", adminer)
	if status, code := call(t, routers(st)["admin"], "PUT", "/v1/admin/point-rules", "", nil, shown, adminer); status != 200 || st.writes != 2 {
		t.Fatalf("PUT of the GET's %s: %d %s", shown, status, code)
	}
	empty := `{"duplicateAward":0,"dailyCap":0,"monthlyCap":0,"meritPerReport":0,"honors":[]}`
	if status, _ := call(t, routers(st)["admin"], "PUT", "/v1/admin/point-rules", "", nil, empty, adminer); status != 200 || st.writes != 3 || len(st.rules.Honors) != 0 {
		t.Fatalf("explicit zero rules: %d, %d writes, %+v", status, st.writes, st.rules)
	}
	vol := `{"duplicateAward":0,"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"honors":[],"volunteer":{"pointsPerHour":6,"meritPerHour":2,"stars":[{"title":"服务之星","threshold":50}]}}`
	if status, _ := call(t, routers(st)["admin"], "PUT", "/v1/admin/point-rules", "", nil, vol, adminer); status != 200 || st.writes != 4 ||
		st.rules.Volunteer == nil || fmt.Sprint(*st.rules.Volunteer) != fmt.Sprint(points.VolunteerRules{PointsPerHour: 6, MeritPerHour: 2, Stars: []points.Honor{{Title: "服务之星", Threshold: 50}}}) {
		t.Fatalf("volunteer rules: %d, %d writes, %+v", status, st.writes, st.rules.Volunteer)
	}
	bld := `{"duplicateAward":0,"dailyCap":50,"monthlyCap":500,"meritPerReport":1,"honors":[],"builders":{"enabled":true,"hireCompleted":30,"consultation":5}}`
	if status, _ := call(t, routers(st)["admin"], "PUT", "/v1/admin/point-rules", "", nil, bld, adminer); status != 200 || st.writes != 5 ||
		st.rules.Builders == nil || *st.rules.Builders != (points.BuildersRules{Enabled: true, HireCompleted: 30, Consultation: 5}) {
		t.Fatalf("builders rules: %d, %d writes, %+v", status, st.writes, st.rules.Builders)
	}
}
