package intakefn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/testenv"
	"github.com/civicsnap/civicsnap/shared/awscalls"
	"github.com/civicsnap/civicsnap/shared/report"
)

const maxUpload = 256 << 10 // small, so the too-large case is cheap

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

// harness is one fresh environment (testenv: the template's resources and the seed) with the intake
// function over it, built as main builds it but with a small MAX_UPLOAD_BYTES.
type harness struct {
	e      *testenv.Env
	t      testing.TB
	fn     *intakefn.Function
	db     *dynamodb.Client
	s3     *s3.Client
	table  string
	bucket string
	calls  *awscalls.Counter
	seeded map[string]string // the table's items before any request, by key (see written)

	mu       sync.Mutex
	uploaded map[string]bool // "<key> <version id>" of every version the test uploaded (see written)
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, testenv.Options{})
}

// newHarnessWith is newHarness on an environment made with opts (a fault-injecting HTTP client, say).
func newHarnessWith(t testing.TB, opts testenv.Options) *harness {
	t.Helper()
	opts.CategoriesOnly = true // the function reads no other part of the seed
	e := moto.New(t, opts)
	h := &harness{e: e, t: t, db: e.DB, s3: e.S3, table: e.Table, bucket: e.Bucket, calls: e.Calls, uploaded: map[string]bool{}}
	h.seeded = h.items()
	var err error
	if h.fn, err = intakefn.New(e.Base("IntakeFunction", map[string]string{"MAX_UPLOAD_BYTES": fmt.Sprint(maxUpload)}, nil)); err != nil {
		t.Fatal(err)
	}
	return h
}

type caller struct {
	sub    string
	groups string
}

var (
	alice   = caller{"alice", "[citizen]"}
	bob     = caller{"bob", "[citizen]"}
	staff   = caller{"staff1", "[staff]"}
	admin   = caller{"admin1", "[admin]"}
	nobody  = caller{}
	clerkOn = caller{"clerk1", "[clerk]"}
)

type response struct {
	Status int
	Header map[string]string
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) code(t testing.TB) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// do sends a request through the same API Gateway v2 event path the local runner and Lambda use.
func (h *harness) do(c caller, method, routeKey, path string, body []byte, headers map[string]string) response {
	h.t.Helper()
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
	if strings.HasPrefix(routeKey, "GET /v1/reports/") {
		ev.PathParameters = map[string]string{"id": strings.TrimPrefix(path, "/v1/reports/")}
	}
	resp, err := h.fn.Handle(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("%s %s: handler error %v", method, path, err)
	}
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	return response{Status: resp.StatusCode, Header: resp.Headers, Body: b}
}

func jpegBytes(t testing.TB, withEXIF bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		img.Set(x, x, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if !withEXIF {
		return raw
	}
	payload := []byte("Exif\x00\x00GPSLatitude 23.37 GPSLongitude 103.38")
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, raw[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, raw[2:]...)
}

// presign asks the API for an upload and POSTs data to S3 with it, as the app would.
func (h *harness) presign(c caller, contentType string, data []byte) string {
	h.t.Helper()
	resp := h.do(c, "POST", "POST /v1/uploads", "/v1/uploads", fmt.Appendf(nil, `{"contentType":%q,"size":%d}`, contentType, len(data)), nil)
	if resp.Status != 201 {
		h.t.Fatalf("presign: %d %s", resp.Status, resp.Body)
	}
	var up report.Upload
	resp.json(h.t, &up)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range up.Fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "photo")
	_, _ = fw.Write(data)
	_ = mw.Close()
	post, err := http.Post(up.URL, mw.FormDataContentType(), &form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer post.Body.Close()
	if post.StatusCode/100 != 2 {
		b, _ := io.ReadAll(post.Body)
		h.t.Fatalf("S3 POST upload: %d %s", post.StatusCode, b)
	}
	head, err := h.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &h.bucket, Key: &up.Key})
	if err != nil {
		h.t.Fatal(err)
	}
	h.upload(up.Key, aws.ToString(head.VersionId))
	return up.Key
}

// upload records a version the test (a client) uploaded, so written does not count it.
func (h *harness) upload(key, version string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uploaded[key+" "+version] = true
}

// uploadKey is where an upload named name, handed out today (the city's day), lives.
func (h *harness) uploadKey(name string) string {
	return "photos/" + time.Now().In(h.e.TZ).Format("2006-01-02") + "/" + name
}

// putPending puts an object of sub's straight at an upload key of today's, with the owner metadata the
// presigned POST's policy fixes (a faster stand-in for presign).
func (h *harness) putPending(sub, name, contentType string, data []byte) string {
	h.t.Helper()
	key := h.uploadKey(name)
	out, err := h.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &h.bucket, Key: &key, Body: bytes.NewReader(data), ContentType: &contentType,
		Metadata: map[string]string{"owner": sub}})
	if err != nil {
		h.t.Fatal(err)
	}
	h.upload(key, aws.ToString(out.VersionId))
	return key
}

func reportBody(category string, keys ...string) []byte {
	b, _ := json.Marshal(map[string]any{
		"category": category, "description": "路边垃圾堆积 rubbish piling up", "location": map[string]float64{"lat": 23.37, "lng": 103.38},
		"address": "天马路 12号", "photoKeys": keys,
	})
	return b
}

// items returns every item of the table, canonically rendered, by key. Scans are fine here: this is a
// test's look at the whole table.
func (h *harness) items() map[string]string {
	h.t.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: &h.table, ConsistentRead: aws.Bool(true)}
	for {
		page, err := h.db.Scan(context.Background(), in)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, it := range testenv.Plain(page.Items) {
			out[fmt.Sprint(it["pk"], " ", it["sk"])] = fmt.Sprint(it)
		}
		if page.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// written returns what requests have written: the keys of the table's items that are new or changed since
// the seed, sorted, and every stored version ("<key> <version id>") the test did not upload.
func (h *harness) written() (items []string, objects []string) {
	h.t.Helper()
	for k, v := range h.items() {
		if h.seeded[k] != v {
			items = append(items, k)
		}
	}
	slices.Sort(items)
	list, err := h.s3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &h.bucket})
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range list.Versions {
		if v := aws.ToString(o.Key) + " " + aws.ToString(o.VersionId); !h.uploaded[v] {
			objects = append(objects, v)
		}
	}
	for _, o := range list.DeleteMarkers {
		objects = append(objects, aws.ToString(o.Key)+" "+aws.ToString(o.VersionId)+" (deletion marker)")
	}
	return items, objects
}

func (h *harness) assertNothingWritten() {
	h.t.Helper()
	items, objects := h.written()
	if len(items) != 0 || len(objects) != 0 {
		h.t.Errorf("a rejected request wrote: items %v objects %v", items, objects)
	}
}
