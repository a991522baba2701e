package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/civicsnap/civicsnap/shared/apidoc"
)

// Every request the suite sends to the /v1 API, and the response it gets, is checked against the OpenAPI
// document (shared/apidoc/openapi.json) with pb33f's libopenapi-validator, which implements OpenAPI 3.1's
// JSON Schema 2020-12. A mismatch fails the test that made the request:
//   - the response must be one the document lists for the route and status: its body valid against the
//     schema, with no property the schema does not name (strict mode), its required headers present;
//   - a request the document refuses (a test sending bad input on purpose) must be answered with a 4xx: a
//     2xx or 5xx means the document and the API disagree about what is valid;
//   - a route the document does not name must answer 404 (a test probing an unknown path).
//
// Requests outside /v1 (the local stack's /_local/ helpers, S3's presigned POSTs, the console) are not
// part of the contract and pass unchecked.

// contract validates request/response pairs; newContract builds it once, in TestMain.
type contract struct {
	mu sync.Mutex // the validators' caches are not documented as safe for concurrent use
	// plain checks requests: the document's rules as written (request bodies are closed with
	// additionalProperties: false; a query parameter or header the document does not name is ignored, as
	// the API ignores it).
	plain validator.Validator
	// strict checks responses: strict mode besides, so a property the schema does not name fails — a
	// response that gained a field the document lacks.
	strict validator.Validator

	routes    []docRoute      // the document's operations
	exercised map[string]bool // "METHOD /path/{template}" answered by the API during the run
}

// docRoute is one operation of the document, with its path template as a regular expression.
type docRoute struct {
	key string // "GET /v1/reports/{id}"
	re  *regexp.Regexp
}

func newContract() (*contract, error) {
	build := func(opts ...config.Option) (validator.Validator, error) {
		doc, err := libopenapi.NewDocument(apidoc.Document())
		if err != nil {
			return nil, fmt.Errorf("openapi document: %w", err)
		}
		v, errs := validator.NewValidator(doc, append(opts, config.WithFormatAssertions())...)
		if len(errs) > 0 {
			return nil, fmt.Errorf("openapi validator: %v", errs)
		}
		return v, nil
	}
	plain, err := build()
	if err != nil {
		return nil, err
	}
	strict, err := build(config.WithStrictMode())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(apidoc.Document(), &doc); err != nil {
		return nil, err
	}
	c := &contract{plain: plain, strict: strict, exercised: map[string]bool{}}
	param := regexp.MustCompile(`\\\{[^/]+\\\}`)
	for path, ops := range doc.Paths {
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(path), "[^/]+") + "$")
		for method := range ops {
			c.routes = append(c.routes, docRoute{key: strings.ToUpper(method) + " " + path, re: re})
		}
	}
	return c, nil
}

// unexercised lists the document's operations no request of the run reached, sorted.
func (c *contract) unexercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.routes {
		if !c.exercised[r.key] {
			out = append(out, r.key)
		}
	}
	sort.Strings(out)
	return out
}

// check returns what is wrong with the exchange; req and resp carry their full bodies.
func (c *contract) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	reset := func() {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
	}
	reset()
	for _, r := range c.routes {
		if method, _, _ := strings.Cut(r.key, " "); method == req.Method && r.re.MatchString(req.URL.Path) {
			c.exercised[r.key] = true
		}
	}
	// The API reads a body as JSON whatever its Content-Type (curl -d sends a form's): validate it as read.
	asRead := req.Clone(req.Context())
	if len(reqBody) > 0 && !strings.Contains(req.Header.Get("Content-Type"), "json") {
		asRead.Header.Set("Content-Type", "application/json")
	}
	asRead.Body = io.NopCloser(bytes.NewReader(reqBody))
	reqOK, reqErrs := c.plain.ValidateHttpRequestSync(asRead)
	for _, e := range reqErrs {
		if e.IsPathMissingError() || e.IsOperationMissingError() {
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
				return nil // no such route, and the API agrees
			}
			return []string{"the API serves a route the document does not name"}
		}
	}
	if resp.StatusCode == http.StatusNotFound && string(bytes.TrimSpace(respBody)) == `{"message":"Not Found"}` {
		// API Gateway's own answer: no route matched (a path parameter holding an encoded slash, say).
		return nil
	}
	reset()
	v := c.strict
	if req.URL.Path == "/v1/openapi.json" {
		v = c.plain // the document's own insides: TestServedDocument compares them byte for byte
	}
	respOK, respErrs := v.ValidateHttpResponse(req, resp)
	reset()
	var problems []string
	if !respOK {
		problems = append(problems, "the response does not match the document:"+describe(respErrs))
	}
	if !reqOK && resp.StatusCode/100 != 4 {
		problems = append(problems, fmt.Sprintf("the document refuses the request, but the API answered %d:%s", resp.StatusCode, describe(reqErrs)))
	}
	return problems
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s (at %s, schema %s)", se.Reason, se.FieldPath, se.KeywordLocation)
		}
	}
	return b.String()
}

// checkedTransport sends requests with next and checks each /v1 exchange with the API against the
// contract, failing t on a mismatch.
type checkedTransport struct {
	t        testing.TB
	contract *contract
	apiHost  string
	next     http.RoundTripper
}

func (c checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != c.apiHost || !strings.HasPrefix(req.URL.Path, "/v1/") {
		return c.next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	for _, p := range c.contract.check(req.Clone(req.Context()), reqBody, resp, respBody) {
		c.t.Errorf("OpenAPI contract: %s %s → %d: %s\n\tresponse: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, p, clip(respBody))
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	return resp, nil
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// httpClient is the suite's HTTP client for test t: every /v1 exchange it makes is checked against the
// contract.
func httpClient(t testing.TB) *http.Client {
	u, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: checkedTransport{t: t, contract: apiContract, apiHost: u.Host, next: http.DefaultTransport}}
}

// checkedProxy serves the API through a reverse proxy that checks every exchange, for clients the suite
// does not build (the README walk-through's curl); it returns the proxy's base URL.
func checkedProxy(t *testing.T) string {
	target, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = httpClient(t).Transport
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestServedDocument: GET /v1/openapi.json serves the embedded document, publicly and cacheably, and a
// revalidation with its ETag costs no body. The public categories are read too (no other test does), so
// the run exercises them against the document.
func TestServedDocument(t *testing.T) {
	c := httpClient(t)
	resp, err := c.Get(api + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !bytes.Equal(body, apidoc.Document()) || etag == "" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public") {
		t.Fatalf("GET /v1/openapi.json = %d, ETag %q, Cache-Control %q, %d bytes (want the embedded %d)",
			resp.StatusCode, etag, resp.Header.Get("Cache-Control"), len(body), len(apidoc.Document()))
	}
	req, _ := http.NewRequest("GET", api+"/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	again, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, again.Body)
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified || n != 0 {
		t.Errorf("revalidation = %d with %d bytes, want 304 without a body", again.StatusCode, n)
	}

	var cats struct{ Items []struct{ Code string } }
	if st := (&client{t: t}).call("GET", "/v1/categories", nil, nil, &cats); st != 200 || len(cats.Items) == 0 {
		t.Errorf("categories = %d with %d items", st, len(cats.Items))
	}
}

// TestAdminWritesRoundTrip reaches the admin operations no other test does, so every operation of the
// document is exercised against it: an area and a catalog item (inactive, so no other test sees it) are
// created and read back as sent, the item's redemptions listed, the Open311 client applications listed.
func TestAdminWritesRoundTrip(t *testing.T) {
	adm := login(t, "e2e-contract-admin", []string{"admin"}, "")
	var e struct{ Error struct{ Code string } }

	var area map[string]any
	if st := adm.call("GET", "/v1/admin/areas/university_town", nil, nil, &area); st != 200 {
		t.Fatalf("GET area = %d", st)
	}
	area["id"], area["name"] = "e2e-contract-area", "合同测试区 Contract test area"
	var put, got map[string]any
	if st := adm.call("PUT", "/v1/admin/areas/e2e-contract-area", area, nil, &put); st != 200 || put["name"] != area["name"] {
		t.Errorf("PUT area = %d %v", st, put)
	}
	if st := adm.call("GET", "/v1/admin/areas/e2e-contract-area", nil, nil, &got); st != 200 || got["name"] != area["name"] || got["geometry"] == nil {
		t.Errorf("GET the new area = %d %v", st, got)
	}

	item := map[string]any{"id": "e2e-contract-cause", "kind": "charity", "nameZh": "合同测试", "nameEn": "Contract test cause",
		"minAmount": 5, "active": false}
	if st := adm.call("PUT", "/v1/admin/catalog/e2e-contract-cause", item, nil, &put); st != 200 || put["minAmount"] != float64(5) {
		t.Errorf("PUT item = %d %v", st, put)
	}
	if st := adm.call("GET", "/v1/admin/catalog/e2e-contract-cause", nil, nil, &got); st != 200 || got["kind"] != "charity" || got["active"] != false {
		t.Errorf("GET the new item = %d %v", st, got)
	}
	if st := adm.call("PUT", "/v1/admin/catalog/e2e-contract-cause", map[string]any{"kind": "charity", "nameEn": "no minimum"}, nil, &e); st != 400 || e.Error.Code != "invalid_item" {
		t.Errorf("PUT an invalid item = %d %s, want 400 invalid_item", st, e.Error.Code)
	}
	var reds struct {
		Items      []any
		NextCursor *string
	}
	if st := adm.call("GET", "/v1/admin/redemptions?itemId=e2e-contract-cause&limit=5", nil, nil, &reds); st != 200 || len(reds.Items) != 0 || reds.NextCursor == nil {
		t.Errorf("redemptions of a new item = %d %+v", st, reds)
	}
	var clients struct{ Items []struct{ ID string } }
	if st := adm.call("GET", "/v1/admin/open311/clients", nil, nil, &clients); st != 200 || clients.Items == nil {
		t.Errorf("Open311 clients = %d %+v", st, clients)
	}
}
