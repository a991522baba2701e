package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/localrun"
	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Invocations counts the functions' invocations and their time in the handler.
type Invocations struct {
	mu sync.Mutex
	n  map[string]int
	d  map[string]time.Duration
}

func (v *Invocations) add(fn string, d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n == nil {
		v.n, v.d = map[string]int{}, map[string]time.Duration{}
	}
	v.n[fn]++
	// Lambda bills each invocation's duration rounded up to the millisecond.
	v.d[fn] += d.Round(time.Millisecond) + time.Millisecond/2
}

// Reset forgets the counts.
func (v *Invocations) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.n, v.d = nil, nil
}

// Snapshot returns invocations and billed time per function.
func (v *Invocations) Snapshot() (map[string]int, map[string]time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, d := map[string]int{}, map[string]time.Duration{}
	for k, x := range v.n {
		n[k] = x
		d[k] = v.d[k]
	}
	return n, d
}

// Wrap counts a handler's invocations as function fn.
func (v *Invocations) Wrap(fn string, h localrun.Handler) localrun.Handler {
	switch {
	case h.HTTP != nil:
		next := h.HTTP
		h.HTTP = func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			t := time.Now()
			defer func() { v.add(fn, time.Since(t)) }()
			return next(ctx, e)
		}
	case h.Stream != nil:
		next := h.Stream
		h.Stream = func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			t := time.Now()
			defer func() { v.add(fn, time.Since(t)) }()
			return next(ctx, e)
		}
	case h.Queue != nil:
		next := h.Queue
		h.Queue = func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
			t := time.Now()
			defer func() { v.add(fn, time.Since(t)) }()
			return next(ctx, e)
		}
	}
	return h
}

// Driver runs lifecycles against a local stack over its HTTP API, as the app, a department system and a
// citizen would: it counts its own API Gateway requests and S3 form uploads (the clients' calls).
type Driver struct {
	St     *localrun.Stack
	Table  string
	Raw    *dynamodb.Client // uncounted: the driver's own look at the table
	Photo  []byte
	Gap    time.Duration // >0: the functions' clock moves this much before each step (a quiet city)
	API    int           // API Gateway requests made
	S3Post int           // presigned POST uploads made

	n int
}

func (d *Driver) call(method, path, token string, body any, headers map[string]string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.St.API+path, rd)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return d.do(req, out)
}

func (d *Driver) do(req *http.Request, out any) (int, error) {
	d.API++
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s = %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

type upload struct {
	Key    string
	URL    string
	Fields map[string]string
}

func (d *Driver) post(up upload) error {
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	for k, v := range up.Fields {
		if err := w.WriteField(k, v); err != nil {
			return err
		}
	}
	fw, err := w.CreateFormFile("file", "photo.jpg")
	if err != nil {
		return err
	}
	if _, err := fw.Write(d.Photo); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	d.S3Post++
	resp, err := http.Post(up.URL, w.FormDataContentType(), &form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("S3 POST = %d %s", resp.StatusCode, b)
	}
	return nil
}

// now is the functions' clock; step moves it by Gap first.
func (d *Driver) step() (time.Time, error) {
	var c struct{ Now time.Time }
	if d.Gap > 0 {
		var cur struct{ Now time.Time }
		if err := d.local("GET", "/_local/clock", nil, &cur); err != nil {
			return time.Time{}, err
		}
		if err := d.local("POST", "/_local/clock", map[string]any{"now": cur.Now.Add(d.Gap)}, &c); err != nil {
			return time.Time{}, err
		}
		return c.Now, nil
	}
	if err := d.local("GET", "/_local/clock", nil, &c); err != nil {
		return time.Time{}, err
	}
	return c.Now, nil
}

// local calls the stack's own /_local routes (not API Gateway: not counted).
func (d *Driver) local(method, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, d.St.API+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s = %d", method, path, resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func (d *Driver) drain(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return d.St.Drain(ctx)
}

func (d *Driver) signed(dept, path, msgID string, at time.Time, body, out any) error {
	secret, err := deptSecret(dept)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	h, err := webhook.Sign(secret, msgID, at, raw)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", d.St.API+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	_, err = d.do(req, out)
	return err
}

func deptSecret(dept string) (string, error) {
	depts, err := seed.Departments()
	if err != nil {
		return "", err
	}
	for _, x := range depts {
		if x.ID == dept {
			return x.LocalSecret, nil
		}
	}
	return "", fmt.Errorf("no seeded department %s", dept)
}

// Lifecycle runs one report's life: a citizen uploads a photo and files a street-light report, dispatch
// routes it and notify delivers the webhook, the department accepts it, uploads a proof photo and resolves
// it, accrual awards the points, and the citizen redeems an umbrella. Each lifecycle has its own citizen and
// place (so it is neither a duplicate nor over a monthly limit).
func (d *Driver) Lifecycle(ctx context.Context) error {
	d.n++
	sub := fmt.Sprintf("cost-citizen-%d-%d", time.Now().UnixNano()%1e6, d.n)
	tok, err := d.St.Issuer.Mint(gateway.TokenRequest{Sub: sub, Groups: []string{"citizen"}})
	if err != nil {
		return err
	}
	if _, err := d.step(); err != nil {
		return err
	}
	var up upload
	if _, err := d.call("POST", "/v1/uploads", tok, map[string]any{"contentType": "image/jpeg", "size": len(d.Photo)}, nil, &up); err != nil {
		return err
	}
	if err := d.post(up); err != nil {
		return err
	}
	if _, err := d.step(); err != nil {
		return err
	}
	var rep struct{ ID string }
	lat := 23.3400 + 0.003*float64(d.n%40)
	if _, err := d.call("POST", "/v1/reports", tok, map[string]any{
		"category": "street_light", "description": "路灯不亮 street light out",
		"location": map[string]float64{"lat": lat, "lng": 103.3905}, "photoKeys": []string{up.Key},
	}, map[string]string{"Idempotency-Key": "cost-" + sub}, &rep); err != nil {
		return err
	}
	if err := d.drain(ctx); err != nil {
		return err
	}
	dept, err := d.leadDept(ctx, rep.ID)
	if err != nil {
		return err
	}
	events := "/v1/departments/" + dept + "/events"
	at, err := d.step()
	if err != nil {
		return err
	}
	if err := d.signed(dept, events, "cost-accept-"+rep.ID, at, map[string]any{"type": "report.accepted", "reportId": rep.ID}, nil); err != nil {
		return err
	}
	if at, err = d.step(); err != nil {
		return err
	}
	var proof upload
	if err := d.signed(dept, "/v1/departments/"+dept+"/uploads", "cost-upload-"+rep.ID, at, map[string]any{"contentType": "image/jpeg", "size": len(d.Photo)}, &proof); err != nil {
		return err
	}
	if err := d.post(proof); err != nil {
		return err
	}
	if at, err = d.step(); err != nil {
		return err
	}
	if err := d.signed(dept, events, "cost-resolve-"+rep.ID, at, map[string]any{"type": "report.resolved", "reportId": rep.ID, "note": "fixed", "proofPhotoKeys": []string{proof.Key}}, nil); err != nil {
		return err
	}
	if err := d.drain(ctx); err != nil {
		return err
	}
	if _, err := d.step(); err != nil {
		return err
	}
	var red struct{ Status string }
	if _, err := d.call("POST", "/v1/redemptions", tok, map[string]any{"itemId": "umbrella"}, map[string]string{"Idempotency-Key": "cost-redeem-" + sub}, &red); err != nil {
		return err
	}
	if red.Status != "reserved" {
		return fmt.Errorf("redemption is %q, want reserved", red.Status)
	}
	return d.drain(ctx)
}

func (d *Driver) leadDept(ctx context.Context, id string) (string, error) {
	out, err := d.Raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.Table, ConsistentRead: aws.Bool(true), Key: Item{
		"pk": &types.AttributeValueMemberS{Value: "REPORT#" + id}, "sk": &types.AttributeValueMemberS{Value: "REPORT"}}})
	if err != nil {
		return "", err
	}
	v, ok := out.Item["leadDept"].(*types.AttributeValueMemberS)
	if !ok || v.Value == "" {
		return "", fmt.Errorf("report %s was not dispatched: %v", id, out.Item["status"])
	}
	return v.Value, nil
}
