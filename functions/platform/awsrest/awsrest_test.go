package awsrest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
	"github.com/civicsnap/civicsnap/shared/awscalls"
)

var creds = aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token"}

// config is a configuration against srv, with a retryer whose backoff is fixed (so a test that waits
// waits 1 ms, and one whose deadline is shorter than the backoff sees it honoured).
func config(srv *httptest.Server, backoff time.Duration, opts ...func(*retry.StandardOptions)) aws.Config {
	return aws.Config{
		Region: "ap-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(append([]func(*retry.StandardOptions){func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return backoff, nil })
			}}, opts...)...)
		},
	}
}

// TestSigning: what reaches the service is what was signed (the signature recomputed from the request as
// received matches), S3 requests carry the payload's SHA-256, JSON calls their target and content type.
func TestSigning(t *testing.T) {
	tests := []struct {
		name    string
		svc     awsrest.Service
		call    func(*awsrest.Client) error
		headers map[string]string
	}{
		{"S3 PUT with a body", awsrest.S3, func(c *awsrest.Client) error {
			_, err := c.Do(context.Background(), &awsrest.Request{Operation: "PutObject", Method: http.MethodPut,
				URL: c.ObjectURL("bucket", "photos/2026-11-30/a b+c.jpg", true), Body: []byte("photo"),
				Header: http.Header{"X-Amz-Meta-Owner": {"u1"}}})
			return err
		}, map[string]string{"X-Amz-Content-Sha256": sha("photo"),
			"X-Amz-Security-Token": "token", "X-Amz-Meta-Owner": "u1"}},
		{"S3 GET, no body", awsrest.S3, func(c *awsrest.Client) error {
			_, err := c.Do(context.Background(), &awsrest.Request{Operation: "GetObject", Method: http.MethodGet,
				URL: c.ObjectURL("bucket", "k", true)})
			return err
		}, map[string]string{"X-Amz-Content-Sha256": sha("")}},
		{"SQS JSON", awsrest.SQS, func(c *awsrest.Client) error {
			return c.CallJSON(context.Background(), awsrest.SQSJSON, "SendMessageBatch", map[string]string{"QueueUrl": "q"}, nil)
		}, map[string]string{"X-Amz-Target": "AmazonSQS.SendMessageBatch", "Content-Type": "application/x-amz-json-1.0",
			"X-Amzn-Query-Mode": "true", "X-Amz-Content-Sha256": ""}},
		{"Secrets Manager JSON", awsrest.SecretsManager, func(c *awsrest.Client) error {
			return c.CallJSON(context.Background(), awsrest.SecretsManagerJSON, "GetSecretValue", map[string]string{"SecretId": "s"}, nil)
		}, map[string]string{"X-Amz-Target": "secretsmanager.GetSecretValue", "Content-Type": "application/x-amz-json-1.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var problems []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				for k, v := range tt.headers {
					if got := r.Header.Get(k); got != v {
						problems = append(problems, k+": "+got+", want "+v)
					}
				}
				auth := r.Header.Get("Authorization")
				if !strings.Contains(auth, "/ap-east-1/"+tt.svc.Name+"/aws4_request") {
					problems = append(problems, "scope: "+auth)
				}
				at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
				if err != nil {
					problems = append(problems, "X-Amz-Date: "+err.Error())
				}
				again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
				for k, v := range r.Header {
					if k != "Authorization" && k != "Accept-Encoding" && k != "User-Agent" {
						again.Header[k] = v
					}
				}
				again.ContentLength = int64(len(body))
				signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = tt.svc.Name == "s3" })
				if err := signer.SignHTTP(context.Background(), creds, again, sha(string(body)), tt.svc.Name, "ap-east-1", at); err != nil {
					problems = append(problems, err.Error())
				}
				if got := again.Header.Get("Authorization"); got != auth {
					problems = append(problems, "signature of the request as received:\n"+got+"\nsent:\n"+auth)
				}
				_, _ = w.Write([]byte("{}"))
			}))
			defer srv.Close()
			if err := tt.call(awsrest.New(config(srv, time.Millisecond), tt.svc)); err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// TestErrorDecoding: each protocol's error answer becomes an *Error with the code the adapters match on.
func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		code    string
		message string
	}{
		{"S3 XML", 404, nil, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>R1</RequestId></Error>`, "NoSuchKey", "The specified key does not exist."},
		{"S3 slow down", 503, nil, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`, "SlowDown", "Please reduce your request rate."},
		{"query protocol XML", 400, nil, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`, "AccessDenied", "no"},
		{"JSON __type with namespace", 400, nil, `{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{"JSON __type with a URL suffix", 400, nil, `{"__type":"ThrottlingException:http://internal.amazon.com/","message":"Rate exceeded"}`, "ThrottlingException", "Rate exceeded"},
		{"SQS query-compatible code", 400, map[string]string{"X-Amzn-Query-Error": "AWS.SimpleQueueService.NonExistentQueue;Sender"}, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"gone"}`, "AWS.SimpleQueueService.NonExistentQueue", "gone"},
		{"no body (HEAD, 404)", 404, nil, ``, "NotFound", "Not Found"},
		{"no body, 412", 412, nil, ``, "PreconditionFailed", "Precondition Failed"},
		{"a proxy's HTML", 502, nil, `<html><body>Bad Gateway</body></html>`, "BadGateway", "Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := awsrest.New(config(srv, time.Millisecond, func(o *retry.StandardOptions) { o.MaxAttempts = 1 }), awsrest.S3)
			_, err := c.Do(context.Background(), &awsrest.Request{Operation: "GetObject", Method: http.MethodGet, URL: c.ObjectURL("b", "k", true)})
			var apiErr smithy.APIError
			var e *awsrest.Error
			if !errors.As(err, &apiErr) || !errors.As(err, &e) {
				t.Fatalf("%v (%T): want an *awsrest.Error", err, err)
			}
			if apiErr.ErrorCode() != tt.code || apiErr.ErrorMessage() != tt.message || e.HTTPStatusCode() != tt.status {
				t.Errorf("code %q message %q status %d, want %q %q %d", apiErr.ErrorCode(), apiErr.ErrorMessage(), e.HTTPStatusCode(), tt.code, tt.message, tt.status)
			}
		})
	}
}

func sha(s string) string {
	if s == "" {
		return "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	}
	return awsrest.SHA256Hex([]byte(s))
}

// TestRetries: the standard retryer's decisions, made on this package's errors — counted attempts, no
// timing.
func TestRetries(t *testing.T) {
	const slowDown = `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
	type answer func(w http.ResponseWriter, r *http.Request)
	status := func(code int, body string) answer {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code); _, _ = w.Write([]byte(body)) }
	}
	ok := status(200, "")
	// lost drops the connection after reading the request: the write may have been applied, the answer never
	// arrives (a transport error, which the retryer retries).
	lost := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	tests := []struct {
		name     string
		answers  []answer // the last repeats
		opts     []func(*retry.StandardOptions)
		backoff  time.Duration
		deadline time.Duration
		attempts int
		check    func(error) bool
	}{
		{"throttled, then applied", []answer{status(503, slowDown), ok}, nil, time.Millisecond, 0, 2, func(err error) bool { return err == nil }},
		{"a lost answer is sent again", []answer{lost, ok}, nil, time.Millisecond, 0, 2, func(err error) bool { return err == nil }},
		{"5xx until the attempts run out", []answer{status(500, `<Error><Code>InternalError</Code></Error>`)}, nil, time.Millisecond, 0, 3, func(err error) bool {
			var e *awsrest.Error
			return errors.As(err, &e) && e.Code == "InternalError"
		}},
		{"lost every time: a send error", []answer{lost}, nil, time.Millisecond, 0, 3, func(err error) bool {
			var send *smithyhttp.RequestSendError
			return errors.As(err, &send)
		}},
		{"access denied: not retried", []answer{status(403, `<Error><Code>AccessDenied</Code></Error>`)}, nil, time.Millisecond, 0, 1, func(err error) bool {
			var e *awsrest.Error
			return errors.As(err, &e) && e.Code == "AccessDenied"
		}},
		{"a precondition failed: not retried", []answer{status(412, ``)}, nil, time.Millisecond, 0, 1, func(err error) bool {
			var e *awsrest.Error
			return errors.As(err, &e) && e.Code == "PreconditionFailed"
		}},
		{"backoff past the deadline: the throttle, at once", []answer{status(503, slowDown)}, nil, time.Hour, 10 * time.Second, 1, func(err error) bool {
			var e *awsrest.Error
			return errors.As(err, &e) && e.Code == "SlowDown"
		}},
		{"retry tokens spent: no retry", []answer{status(503, slowDown), ok},
			[]func(*retry.StandardOptions){func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.NewTokenRateLimit(1) }},
			time.Millisecond, 0, 1, func(err error) bool {
				var e *awsrest.Error
				return errors.As(err, &e) && e.Code == "SlowDown"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				tt.answers[min(i, len(tt.answers)-1)](w, r)
			}))
			defer srv.Close()
			var counter awscalls.Counter
			cfg := config(srv, tt.backoff, tt.opts...)
			counter.Attach(&cfg)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			c := awsrest.New(cfg, awsrest.S3)
			resp, err := c.Do(ctx, &awsrest.Request{Operation: "PutObject", Method: http.MethodPut, URL: c.ObjectURL("b", "k", true), Body: []byte("x")})
			if err == nil {
				resp.Body.Close()
			}
			if !tt.check(err) {
				t.Errorf("err = %v (%T)", err, err)
			}
			if got := int(n.Load()); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			if got := counter.Snapshot()["S3.PutObject"]; got != 1 {
				t.Errorf("counted %d calls, want 1 (attempts are not calls)", got)
			}
			if ctx.Err() != nil {
				t.Errorf("returned after the deadline: %v", ctx.Err())
			}
		})
	}
}

// TestDeadline: an answer that does not come before the deadline is a canceled call, which the adapters
// read as an unknown outcome, and is not retried.
func TestDeadline(t *testing.T) {
	var n atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c := awsrest.New(config(srv, time.Millisecond), awsrest.SQS)
	err := c.CallJSON(ctx, awsrest.SQSJSON, "SendMessageBatch", struct{}{}, nil)
	var canceled *smithy.CanceledError
	if !errors.As(err, &canceled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v (%T), want a canceled call with the deadline as cause", err, err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
}
