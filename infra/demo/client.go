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
	"time"

	"github.com/civicsnap/civicsnap/shared/webhook"
)

// client speaks to the local stack's HTTP API as the app, department systems and staff do.
type client struct {
	api  string
	http *http.Client
	// calls counts requests, for the summary; spent adds up their time by route.
	calls int
	spent map[string]*routeTime
}

type routeTime struct {
	n int
	d time.Duration
}

var idInPath = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}|/departments/[a-z_]+/`)

func (c *client) timed(route string, start time.Time) {
	route = idInPath.ReplaceAllStringFunc(route, func(s string) string {
		if strings.HasPrefix(s, "/departments/") {
			return "/departments/{dept}/"
		}
		return "{id}"
	})
	if i := strings.IndexByte(route, '?'); i >= 0 {
		route = route[:i]
	}
	rt := c.spent[route]
	if rt == nil {
		rt = &routeTime{}
		c.spent[route] = rt
	}
	rt.n++
	rt.d += time.Since(start)
}

func newClient(api string) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	return &client{api: api, http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, spent: map[string]*routeTime{}}
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

// call sends a JSON request (body: nil, []byte or a value to encode) and decodes a 2xx answer into out.
func (c *client) call(ctx context.Context, method, path, token string, header http.Header, body, out any) error {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c.calls++
	defer c.timed(method+" "+path, time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(data, &e)
		if e.Error.Code == "" {
			e.Error.Code, e.Error.Message = http.StatusText(resp.StatusCode), string(bytes.TrimSpace(data))
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Path: method + " " + path}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, data, err)
		}
	}
	return nil
}

// token mints a local token (POST /_local/token).
func (c *client) token(ctx context.Context, sub string, groups []string, dept string) (string, error) {
	var out struct{ Token string }
	body := map[string]any{"sub": sub, "groups": groups}
	if dept != "" {
		body["dept"] = dept
	}
	if err := c.call(ctx, "POST", "/_local/token", "", nil, body, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// setClock moves the stack's clock (POST /_local/clock); the zero time resets it to the wall clock.
func (c *client) setClock(ctx context.Context, t time.Time) error {
	body := map[string]any{"now": nil}
	if !t.IsZero() {
		body["now"] = t.UTC().Format(time.RFC3339Nano)
	}
	return c.call(ctx, "POST", "/_local/clock", "", nil, body, nil)
}

// drain waits until the stack's stream and queue pumps are idle (POST /_local/drain).
func (c *client) drain(ctx context.Context) error {
	return c.call(ctx, "POST", "/_local/drain", "", nil, nil, nil)
}

// drainStreams waits until the table's stream consumers (dispatch, accrual) are idle.
func (c *client) drainStreams(ctx context.Context) error {
	return c.call(ctx, "POST", "/_local/drain?scope=streams", "", nil, nil, nil)
}

// fire runs a scheduled function now, with input when it is not nil.
func (c *client) fire(ctx context.Context, function string, input any) error {
	return c.call(ctx, "POST", "/_local/schedules/"+function, "", nil, input, nil)
}

// upload is a presigned POST.
type upload struct {
	Key    string            `json:"key"`
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// send posts data to S3 with the presigned form, as the app does.
func (c *client) send(ctx context.Context, up upload, data []byte) error {
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
	req, err := http.NewRequestWithContext(ctx, "POST", up.URL, &form)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	c.calls++
	defer c.timed("POST (S3 presigned upload)", time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("upload to S3: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("upload to S3: %s", resp.Status)
	}
	return nil
}

// uploadPhoto asks for a presigned POST with a user's token and sends the photo.
func (c *client) uploadPhoto(ctx context.Context, token string, data []byte) (string, error) {
	var up upload
	if err := c.call(ctx, "POST", "/v1/uploads", token, nil, map[string]any{"contentType": "image/jpeg", "size": len(data)}, &up); err != nil {
		return "", err
	}
	return up.Key, c.send(ctx, up, data)
}

// signed sends a department system's signed request: body signed with the department's secret at the
// stack's current moment, under a message id that makes a resend a replay.
func (c *client) signed(ctx context.Context, dept, secret, msgID string, at time.Time, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	h, err := webhook.Sign(secret, msgID, at, raw)
	if err != nil {
		return err
	}
	return c.call(ctx, "POST", "/v1/departments/"+url.PathEscape(dept)+path, "", h, raw, out)
}

// deptUploadPhoto uploads a proof photo for a department system (signed POST …/uploads).
func (c *client) deptUploadPhoto(ctx context.Context, dept, secret, msgID string, at time.Time, data []byte) (string, error) {
	var up upload
	if err := c.signed(ctx, dept, secret, msgID, at, "/uploads", map[string]any{"contentType": "image/jpeg", "size": len(data)}, &up); err != nil {
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

// myReports lists all of a citizen's reports.
func (c *client) myReports(ctx context.Context, token string) ([]apiReport, error) {
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
		if err := c.call(ctx, "GET", path, token, nil, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}
