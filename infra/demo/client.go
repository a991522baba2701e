package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Client speaks to the local stack's HTTP API as the app, department systems and staff do, and sends a
// failed request again as its RetryPolicy says (see there for why that is safe). It is safe for
// concurrent use.
type Client struct {
	api     string
	http    *http.Client
	policy  RetryPolicy
	rng     func(int64) int64
	observe func(Attempt)

	mu      sync.Mutex
	calls   int                   // attempts, for the summary
	spent   map[string]*routeTime // time by route
	retries map[string]int        // retried attempts by reason
}

// Attempt is one HTTP request as sent (a retried request is several attempts).
type Attempt struct {
	Route    string // method and path pattern, e.g. "POST /v1/reports/{id}"
	Control  bool   // a local-runner control route (/_local/…): clock, drain, schedules, tokens
	Start    time.Time
	Duration time.Duration
	Status   int // 0 for a transport error
}

type routeTime struct {
	n int
	d time.Duration
}

// NewClient returns a client of the API at api (e.g. http://127.0.0.1:3000) that keeps up to conns
// connections open.
func NewClient(api string, policy RetryPolicy, conns int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(conns, 8)
	tr.MaxIdleConns = max(conns, 8) * 2
	return &Client{api: strings.TrimRight(api, "/"), http: &http.Client{Transport: tr}, policy: policy.withDefaults(),
		rng: jitter, spent: map[string]*routeTime{}, retries: map[string]int{}}
}

// OnAttempt registers f to be told of every attempt (set it before the first request).
func (c *Client) OnAttempt(f func(Attempt)) { c.observe = f }

// Stats returns the attempts sent, time by route and retries by reason so far.
func (c *Client) Stats() (calls int, routes map[string]time.Duration, counts map[string]int, retries map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	routes, counts, retries = map[string]time.Duration{}, map[string]int{}, map[string]int{}
	for k, v := range c.spent {
		routes[k], counts[k] = v.d, v.n
	}
	for k, v := range c.retries {
		retries[k] = v
	}
	return c.calls, routes, counts, retries
}

// Retries returns how many attempts were retries.
func (c *Client) Retries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.retries {
		n += v
	}
	return n
}

var idInPath = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}|/departments/[a-z_]+/|/catalog/[a-z0-9-]+$`)

// routeOf turns a request path into its pattern: ids, departments and query strings taken out.
func routeOf(method, path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	path = idInPath.ReplaceAllStringFunc(path, func(s string) string {
		switch {
		case strings.HasPrefix(s, "/departments/"):
			return "/departments/{dept}/"
		case strings.HasPrefix(s, "/catalog/"):
			return "/catalog/{id}"
		}
		return "{id}"
	})
	return method + " " + path
}

func (c *Client) record(a Attempt) {
	c.mu.Lock()
	c.calls++
	rt := c.spent[a.Route]
	if rt == nil {
		rt = &routeTime{}
		c.spent[a.Route] = rt
	}
	rt.n++
	rt.d += a.Duration
	c.mu.Unlock()
	if c.observe != nil {
		c.observe(a)
	}
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
	Path    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Path, e.Status, e.Code, e.Message)
}

// codeOf returns the API error code of err ("" if it is not an API error).
func codeOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// request is one logical request, sent as one or more attempts.
type request struct {
	method, path string // path under the API, or url for another host (S3)
	url          string
	token        string
	header       http.Header
	contentType  string
	body         []byte
	// sign adds per-attempt headers (a department's signature over the same body and webhook-id, at the
	// stack's current moment).
	sign    func(http.Header) error
	timeout time.Duration // an attempt's deadline, if longer than the policy's
	// applied, for a route without idempotency, says whether an earlier attempt already took effect; it is
	// asked before every re-send, which happens only if it says no.
	applied func(ctx context.Context) (bool, error)
}

// do sends r until it succeeds, fails for good, or the policy gives up. earlier is true when r.applied
// found that a lost attempt had taken effect (data is then nil).
func (c *Client) do(ctx context.Context, r request) (data []byte, earlier bool, err error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		if attempt > 1 && r.applied != nil {
			done, err := r.applied(ctx)
			if err != nil {
				return nil, false, fmt.Errorf("%s %s: did the earlier attempt take effect? %w", r.method, r.path, err)
			}
			if done {
				c.mu.Lock()
				c.retries["(earlier attempt had taken effect)"]++
				c.mu.Unlock()
				return nil, true, nil
			}
		}
		data, header, err := c.attempt(ctx, r)
		if err == nil {
			return data, false, nil
		}
		if ctx.Err() != nil {
			return nil, false, err
		}
		reason := retryReason(statusOf(err), codeOf(err), transportErr(err))
		if reason == "" {
			return nil, false, err
		}
		wait := c.policy.backoff(attempt, c.rng)
		if ra := retryAfter(header, time.Now()); ra > wait {
			wait = ra
		}
		if attempt >= c.policy.MaxAttempts || attempt >= c.policy.MinAttempts && time.Since(start)+wait > c.policy.MaxElapsed {
			return nil, false, fmt.Errorf("%w after %d attempts in %s: %w", ErrGaveUp, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		c.mu.Lock()
		c.retries[reason]++
		c.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-t.C:
		}
	}
}

// transportError is a request that got no HTTP answer (refused, dropped, timed out).
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func transportErr(err error) error {
	var te *transportError
	if errors.As(err, &te) {
		return te
	}
	return nil
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r request) ([]byte, http.Header, error) {
	timeout := max(r.timeout, c.policy.AttemptTimeout)
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := r.url
	if target == "" {
		target = c.api + r.path
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, bytes.NewReader(r.body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	ct := r.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.sign != nil {
		if err := r.sign(req.Header); err != nil {
			return nil, nil, err
		}
	}
	route := routeOf(r.method, r.path)
	if r.url != "" {
		route = r.method + " (S3 presigned upload)"
	}
	a := Attempt{Route: route, Control: strings.HasPrefix(r.path, "/_local/"), Start: time.Now()}
	resp, err := c.http.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	a.Duration = time.Since(a.Start)
	if err != nil {
		c.record(a)
		if ctx.Err() != nil {
			return nil, nil, err
		}
		return nil, nil, &transportError{fmt.Errorf("%s %s: %w", r.method, r.path, err)}
	}
	a.Status = resp.StatusCode
	c.record(a)
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(data, &e)
		if e.Error.Code == "" {
			e.Error.Code, e.Error.Message = http.StatusText(resp.StatusCode), string(bytes.TrimSpace(data))
		}
		return nil, resp.Header, &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Path: r.method + " " + r.path}
	}
	return data, resp.Header, nil
}

func encode(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	default:
		return json.Marshal(b)
	}
}

func decode(method, path string, data []byte, out any) error {
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, data, err)
		}
	}
	return nil
}

// Call sends a JSON request (body: nil, []byte or a value to encode) that is safe to repeat — a read, or
// a write made idempotent by a header such as Idempotency-Key — and decodes a 2xx answer into out.
func (c *Client) Call(ctx context.Context, method, path, token string, header http.Header, body, out any) error {
	raw, err := encode(body)
	if err != nil {
		return err
	}
	data, _, err := c.do(ctx, request{method: method, path: path, token: token, header: header, body: raw})
	if err != nil {
		return err
	}
	return decode(method, path, data, out)
}

// callOnce sends a request whose route has no idempotency: before any re-send, applied is asked whether
// the lost attempt took effect. earlier reports that it had (out is then not filled).
func (c *Client) callOnce(ctx context.Context, method, path, token string, body, out any, applied func(context.Context) (bool, error)) (earlier bool, err error) {
	raw, err := encode(body)
	if err != nil {
		return false, err
	}
	data, earlier, err := c.do(ctx, request{method: method, path: path, token: token, body: raw, applied: applied})
	if err != nil || earlier {
		return earlier, err
	}
	return false, decode(method, path, data, out)
}

// Token mints a local token (POST /_local/token).
func (c *Client) Token(ctx context.Context, sub string, groups []string, dept string) (string, error) {
	var out struct{ Token string }
	body := map[string]any{"sub": sub, "groups": groups}
	if dept != "" {
		body["dept"] = dept
	}
	if err := c.Call(ctx, "POST", "/_local/token", "", nil, body, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// setClock moves the stack's clock (POST /_local/clock); the zero time resets it to the wall clock.
func (c *Client) setClock(ctx context.Context, t time.Time) error {
	body := map[string]any{"now": nil}
	if !t.IsZero() {
		body["now"] = t.UTC().Format(time.RFC3339Nano)
	}
	return c.Call(ctx, "POST", "/_local/clock", "", nil, body, nil)
}

// drain waits until the stack's stream and queue pumps are idle (POST /_local/drain). A 504 (not drained
// within the runner's timeout) is retried: the pumps are still busy.
func (c *Client) drain(ctx context.Context) error {
	return c.Call(ctx, "POST", "/_local/drain", "", nil, nil, nil)
}

// drainStreams waits until the table's stream consumers (dispatch, accrual) are idle.
func (c *Client) drainStreams(ctx context.Context) error {
	return c.Call(ctx, "POST", "/_local/drain?scope=streams", "", nil, nil, nil)
}

// DrainStreams waits until the table's stream consumers have read everything written so far, however
// long that takes (each request waits up to five minutes; a 504 means not yet, and is asked again).
func (c *Client) DrainStreams(ctx context.Context) error {
	for {
		_, _, err := c.do(ctx, request{method: "POST", path: "/_local/drain?scope=streams&timeout=5m", timeout: 6 * time.Minute})
		if statusOf(err) != http.StatusGatewayTimeout || !errors.Is(err, ErrGaveUp) {
			return err
		}
	}
}

// fire runs a scheduled function now, with input when it is not nil; timeout bounds one attempt.
func (c *Client) fire(ctx context.Context, function string, input any, timeout time.Duration) error {
	raw, err := encode(input)
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, request{method: "POST", path: "/_local/schedules/" + function, body: raw, timeout: timeout})
	return err
}

// upload is a presigned POST.
type upload struct {
	Key    string            `json:"key"`
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// send posts data to S3 with the presigned form, as the app does. Sending the same bytes to the same key
// again is harmless.
func (c *Client) send(ctx context.Context, up upload, data []byte) error {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range up.Fields {
		if err := mw.WriteField(k, v); err != nil {
			return err
		}
	}
	fw, err := mw.CreateFormFile("file", "photo.jpg")
	if err != nil {
		return err
	}
	if _, err := fw.Write(data); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	_, _, err = c.do(ctx, request{method: "POST", path: "(S3)", url: up.URL, contentType: mw.FormDataContentType(), body: form.Bytes()})
	if err != nil {
		return fmt.Errorf("upload to S3: %w", err)
	}
	return nil
}

// uploadPhoto asks for a presigned POST with a user's token and sends the photo.
func (c *Client) uploadPhoto(ctx context.Context, token string, data []byte) (string, error) {
	var up upload
	if err := c.Call(ctx, "POST", "/v1/uploads", token, nil, map[string]any{"contentType": "image/jpeg", "size": len(data)}, &up); err != nil {
		return "", err
	}
	return up.Key, c.send(ctx, up, data)
}

// signed sends a department system's signed request under a message id that makes a resend a replay.
// Every attempt is signed again at now() — the stack's current moment — over the same body and id, as a
// webhook sender retries.
func (c *Client) signed(ctx context.Context, dept, secret, msgID string, now func() time.Time, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	sign := func(h http.Header) error {
		sh, err := webhook.Sign(secret, msgID, now(), raw)
		if err != nil {
			return err
		}
		for k, vs := range sh {
			h[k] = vs
		}
		return nil
	}
	p := "/v1/departments/" + url.PathEscape(dept) + path
	data, _, err := c.do(ctx, request{method: "POST", path: p, body: raw, sign: sign})
	if err != nil {
		return err
	}
	return decode("POST", p, data, out)
}

// deptUploadPhoto uploads a proof photo for a department system (signed POST …/uploads).
func (c *Client) deptUploadPhoto(ctx context.Context, dept, secret, msgID string, now func() time.Time, data []byte) (string, error) {
	var up upload
	if err := c.signed(ctx, dept, secret, msgID, now, "/uploads", map[string]any{"contentType": "image/jpeg", "size": len(data)}, &up); err != nil {
		return "", err
	}
	return up.Key, c.send(ctx, up, data)
}

// apiReport is what the loader reads of a report.
type apiReport struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Category  string    `json:"category"`
	LeadDept  string    `json:"leadDept"`
	CreatedAt time.Time `json:"createdAt"`
	Location  struct {
		Lat float64 `json:"lat"`
		Lng float64 `json:"lng"`
	} `json:"location"`
	Timeline []struct {
		Actor string `json:"actor"`
	} `json:"timeline"`
}

// deptSteps counts the department actions in a report's timeline (entries by the citizen, the system —
// dispatch, escalations — and an admin are not).
func (r apiReport) deptSteps() int {
	n := 0
	for _, e := range r.Timeline {
		if e.Actor != "citizen" && e.Actor != "system" && e.Actor != "admin" {
			n++
		}
	}
	return n
}

// myReports lists all of a citizen's reports.
func (c *Client) myReports(ctx context.Context, token string) ([]apiReport, error) {
	var all []apiReport
	cursor := ""
	for {
		var page struct {
			Items      []apiReport `json:"items"`
			NextCursor string      `json:"nextCursor"`
		}
		path := "/v1/me/reports?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.Call(ctx, "GET", path, token, nil, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

// apiRedemption is what the loader reads of a redemption.
type apiRedemption struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	PickupCode string `json:"pickupCode"`
}

// redemptionStatus finds one of a citizen's redemptions in their list ("" if it is not there).
func (c *Client) redemptionStatus(ctx context.Context, token, id string) (string, error) {
	cursor := ""
	for {
		var page struct {
			Items      []apiRedemption `json:"items"`
			NextCursor string          `json:"nextCursor"`
		}
		path := "/v1/me/redemptions?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.Call(ctx, "GET", path, token, nil, nil, &page); err != nil {
			return "", err
		}
		for _, r := range page.Items {
			if r.ID == id {
				return r.Status, nil
			}
		}
		if page.NextCursor == "" {
			return "", nil
		}
		cursor = page.NextCursor
	}
}
