package fuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Caller is who a request is sent as: a token minted by the local stack for these claims.
type Caller struct {
	Sub    string   `json:"sub"`
	Groups []string `json:"groups"`
	Dept   string   `json:"dept,omitempty"`
}

// Request is one request as sent, and as a reproducer replays it: the token is minted again for As and a
// signed request is signed again (same webhook-id, a fresh timestamp) with SignAs's secret.
type Request struct {
	Method string            `json:"method"`
	Path   string            `json:"path"` // escaped, as sent
	Query  string            `json:"query,omitempty"`
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body,omitempty"`
	As     *Caller           `json:"as,omitempty"`
	SignAs string            `json:"signAs,omitempty"` // a department whose seeded secret signs the body
}

// client sends requests to a stack, minting tokens as needed.
type client struct {
	api     string
	http    *http.Client
	secrets map[string]string // department → whsec_ secret

	mu     sync.Mutex
	tokens map[string]string
}

func newClient(api string, secrets map[string]string) *client {
	return &client{api: strings.TrimSuffix(api, "/"), secrets: secrets, tokens: map[string]string{},
		http: &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) token(ctx context.Context, who Caller) (string, error) {
	key := fmt.Sprint(who.Sub, who.Groups, who.Dept)
	c.mu.Lock()
	tok, ok := c.tokens[key]
	c.mu.Unlock()
	if ok {
		return tok, nil
	}
	body, _ := json.Marshal(who)
	st, data, err := c.raw(ctx, "POST", c.api+"/_local/token", "application/json", nil, body)
	if err != nil || st != 200 {
		return "", fmt.Errorf("mint a token for %s: %d %s %v", who.Sub, st, data, err)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(data, &out); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.tokens[key] = out.Token
	c.mu.Unlock()
	return out.Token, nil
}

// send sends req: the token for req.As, a signature by req.SignAs.
func (c *client) send(ctx context.Context, req Request) (int, []byte, error) {
	h := http.Header{}
	for k, v := range req.Header {
		h.Set(k, v)
	}
	if req.As != nil {
		tok, err := c.token(ctx, *req.As)
		if err != nil {
			return 0, nil, err
		}
		h.Set("Authorization", "Bearer "+tok)
	}
	if req.SignAs != "" {
		secret, ok := c.secrets[req.SignAs]
		if !ok {
			return 0, nil, fmt.Errorf("no seeded secret for %s", req.SignAs)
		}
		// The library itself, not shared/webhook's Signer: that one refuses to sign a bad message id, and
		// a department system (or an attacker with its secret) could send one anyway.
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return 0, nil, err
		}
		now := time.Now()
		sig, err := wh.Sign(req.Header[webhook.HeaderID], now, req.Body)
		if err != nil {
			return 0, nil, err
		}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(webhook.HeaderSignature, sig)
	}
	u := c.api + req.Path
	if req.Query != "" {
		u += "?" + req.Query
	}
	return c.raw(ctx, req.Method, u, "application/json", h, req.Body)
}

func (c *client) raw(ctx context.Context, method, url, contentType string, h http.Header, body []byte) (int, []byte, error) {
	r, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range h {
		r.Header[k] = vs
	}
	if r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}

// call sends a well-formed JSON request during setup and decodes a 2xx answer into out.
func (c *client) call(ctx context.Context, req Request, body, out any) error {
	if body != nil {
		req.Body, _ = json.Marshal(body)
	}
	st, data, err := c.send(ctx, req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.Path, err)
	}
	if st < 200 || st > 299 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.Path, st, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// upload is a presigned POST.
type upload struct {
	Key    string            `json:"key"`
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// uploadTo posts data to S3 with a presigned form, as the app does.
func (c *client) uploadTo(ctx context.Context, up upload, data []byte) error {
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
	st, body, err := c.raw(ctx, "POST", up.URL, mw.FormDataContentType(), nil, form.Bytes())
	if err != nil || st/100 != 2 {
		return fmt.Errorf("upload to S3: %d %s %v", st, body, err)
	}
	return nil
}
