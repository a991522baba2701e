package smoke

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// requiredFixtures are the fixtures each function must have, by file under events/, with their route.
var requiredFixtures = map[string]string{
	"intake/health.json":        "GET /v1/health",
	"intake/categories.json":    "GET /v1/categories",
	"intake/create-upload.json": "POST /v1/uploads",
	"intake/create-report.json": "POST /v1/reports",
	"intake/get-report.json":    "GET /v1/reports/{id}",
	"intake/my-reports.json":    "GET /v1/me/reports",
}

// TestEventFixtures checks every events/<function>/*.json of a function with HttpApi events: it is an API
// Gateway HTTP API payload 2.0 event of a route the template declares for that function, consistent in
// itself (routeKey, method, path, path parameters, stage) and authorized the way the route is.
func TestEventFixtures(t *testing.T) {
	root := repoRoot(t)
	byDir := map[string]function{}
	for _, fn := range loadFunctions(t, filepath.Join(root, "template.yaml")) {
		byDir[fn.Dir()] = fn
	}
	seen := map[string]events.APIGatewayV2HTTPRequest{} // by file under events/
	covered := map[string]bool{}
	eventsDir := filepath.Join(root, "events")
	err := filepath.WalkDir(eventsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		rel, _ := filepath.Rel(eventsDir, path)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			dir, _, ok := strings.Cut(rel, "/")
			if !ok {
				t.Fatalf("fixtures live in events/<function>/, not directly in events/")
			}
			fn, ok := byDir[dir]
			if !ok {
				t.Fatalf("no function in template.yaml has folder %q (CodeUri functions/%s)", dir, dir)
			}
			raw := readFile(t, path)
			if !fn.EventTypes["HttpApi"] || (len(fn.EventTypes) > 1 && !looksHTTP(raw)) {
				t.Skipf("%s: not an HTTP API fixture (function events: %v)", rel, keys(fn.EventTypes))
			}
			ev := decodeHTTPEvent(t, raw)
			r := checkHTTPEvent(t, fn, ev)
			seen[rel] = ev
			if r != nil {
				covered[fn.LogicalID+" "+r.Key] = true
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, key := range requiredFixtures {
		if ev, ok := seen[file]; !ok {
			t.Errorf("events/%s: missing or invalid (want a fixture for %s)", file, key)
		} else if ev.RouteKey != key {
			t.Errorf("events/%s: routeKey %q, want %q", file, ev.RouteKey, key)
		}
	}
	// Creating POSTs take an Idempotency-Key (ARCHITECTURE.md); the fixture shows how it arrives.
	if ev, ok := seen["intake/create-report.json"]; ok && ev.Headers["idempotency-key"] == "" {
		t.Errorf("events/intake/create-report.json: no idempotency-key header")
	}
	for _, fn := range byDir {
		for _, r := range fn.Routes {
			if !covered[fn.LogicalID+" "+r.Key] {
				t.Logf("note: %s %s has no fixture under events/%s/", fn.LogicalID, r.Key, fn.Dir())
			}
		}
	}
}

// decodeHTTPEvent decodes strictly: a misspelt field would otherwise be dropped silently.
func decodeHTTPEvent(t *testing.T, raw []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ev events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("not an events.APIGatewayV2HTTPRequest: %v", err)
	}
	if dec.More() {
		t.Fatalf("data after the JSON value")
	}
	return ev
}

// checkHTTPEvent reports every inconsistency of ev and returns the template route it is for.
func checkHTTPEvent(t *testing.T, fn function, ev events.APIGatewayV2HTTPRequest) *route {
	t.Helper()
	if ev.Version != "2.0" {
		t.Errorf("version %q, want \"2.0\" (HTTP API payload format 2.0)", ev.Version)
	}
	i := slices.IndexFunc(fn.Routes, func(r route) bool { return r.Key == ev.RouteKey })
	if i < 0 {
		t.Fatalf("routeKey %q is not a route of %s; it has %v", ev.RouteKey, fn.LogicalID, routeKeys(fn))
	}
	r := fn.Routes[i]
	rc := ev.RequestContext
	if rc.RouteKey != ev.RouteKey {
		t.Errorf("requestContext.routeKey %q != routeKey %q", rc.RouteKey, ev.RouteKey)
	}
	if rc.Stage == "" {
		t.Errorf("requestContext.stage is empty (\"$default\" for the default stage)")
	}
	if rc.RequestID == "" || rc.APIID == "" || rc.AccountID == "" || rc.DomainName == "" || rc.TimeEpoch == 0 {
		t.Errorf("requestContext lacks requestId, apiId, accountId, domainName or timeEpoch")
	}
	if r.Key == "$default" {
		return &r // the catch-all route: any method, any path
	}
	method, pattern, _ := strings.Cut(r.Key, " ")
	if method != "ANY" && rc.HTTP.Method != method {
		t.Errorf("requestContext.http.method %q, route method %q", rc.HTTP.Method, method)
	}
	if rc.HTTP.Path != ev.RawPath {
		t.Errorf("requestContext.http.path %q != rawPath %q", rc.HTTP.Path, ev.RawPath)
	}
	path := ev.RawPath
	if rc.Stage != "$default" {
		// A named stage prefixes rawPath with "/<stage>".
		var ok bool
		if path, ok = strings.CutPrefix(path, "/"+rc.Stage); !ok {
			t.Errorf("rawPath %q does not start with stage /%s", ev.RawPath, rc.Stage)
		}
	}
	params, ok := matchPath(pattern, path)
	if !ok {
		t.Errorf("rawPath %q does not match the route path %s", ev.RawPath, pattern)
	} else if len(params) != len(ev.PathParameters) {
		t.Errorf("pathParameters %v, want %v", ev.PathParameters, params)
	}
	for k, v := range params {
		if ev.PathParameters[k] != v {
			t.Errorf("pathParameters[%q] = %q, rawPath has %q", k, ev.PathParameters[k], v)
		}
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: API Gateway passes header names in lower case", k)
		}
	}
	if ev.RawQueryString == "" && len(ev.QueryStringParameters) > 0 {
		t.Errorf("queryStringParameters without rawQueryString")
	}
	var jwt *events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription
	if rc.Authorizer != nil {
		jwt = rc.Authorizer.JWT
	}
	switch {
	case r.Public && jwt != nil:
		t.Errorf("route %s is public (Authorizer: NONE): API Gateway passes no JWT claims", r.Key)
	case !r.Public && jwt == nil:
		t.Errorf("route %s uses the JWT authorizer: requestContext.authorizer.jwt.claims is missing", r.Key)
	case !r.Public:
		if jwt.Claims["sub"] == "" {
			t.Errorf("JWT claims have no sub")
		}
		// HTTP APIs flatten every claim to a string: a list arrives as "[citizen staff]", not as JSON.
		if g := jwt.Claims["cognito:groups"]; !strings.HasPrefix(g, "[") || !strings.HasSuffix(g, "]") || strings.Contains(g, `"`) {
			t.Errorf("cognito:groups %q is not flattened the way API Gateway does (\"[citizen]\")", g)
		}
		if !strings.HasPrefix(ev.Headers["authorization"], "Bearer ") {
			t.Errorf("authorized route without an authorization: Bearer header")
		}
	}
	if m := rc.HTTP.Method; m == "POST" || m == "PUT" || m == "PATCH" {
		if ev.Body == "" {
			t.Errorf("%s without a body", rc.HTTP.Method)
		} else if !ev.IsBase64Encoded && strings.HasPrefix(ev.Headers["content-type"], "application/json") && !json.Valid([]byte(ev.Body)) {
			t.Errorf("body is not valid JSON")
		}
	}
	return &r
}

// matchPath matches an API Gateway route path ("/v1/reports/{id}", "/files/{proxy+}") against path.
func matchPath(pattern, path string) (map[string]string, bool) {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	params := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i >= len(xs) {
				return nil, false
			}
			params[strings.TrimSuffix(strings.TrimPrefix(p, "{"), "+}")] = strings.Join(xs[i:], "/")
			return params, true
		}
		if i >= len(xs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return nil, false
			}
			params[strings.Trim(p, "{}")] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	return params, len(ps) == len(xs)
}

// looksHTTP tells an HTTP API event from a stream, queue or scheduled one for functions that have both.
func looksHTTP(raw []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil {
		return true // let the strict decode report it
	}
	_, hasRoute := probe["routeKey"]
	_, hasRecords := probe["Records"]
	return hasRoute || !hasRecords
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func routeKeys(fn function) []string {
	var ks []string
	for _, r := range fn.Routes {
		ks = append(ks, r.Key)
	}
	return ks
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
