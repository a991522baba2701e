// Package awsrest is a small signed HTTP caller for the few S3, SQS and Secrets Manager operations the
// functions make (issue 11: the SDK's generated clients for those services cost a Lambda binary 1.1 MB for
// S3 alone and put four functions over 1.5× hello-world's size). It shapes no request itself: the adapters
// (shared/blobstore, shared/queue, shared/secretstore) do. What it does is the part the SDK clients did for
// every operation, with the SDK's own pieces: the SigV4 signer (aws/signer/v4, which the DynamoDB client
// links anyway) signs, the standard retryer (aws/retry) decides retries, backoff and the retry token bucket,
// and the configuration's APIOptions run on a smithy middleware stack around each call, so the call
// counters and retry checks the tests attach to an aws.Config see these calls as they saw the clients'.
//
// It does not do what those operations do not need here: no FIPS or dual-stack endpoints, no S3 access
// points, Express One Zone or S3 checksum trailers (uploads carry x-amz-content-sha256, DeleteObjects a
// Content-MD5), no clock-skew correction, no endpoint rules beyond the region's default and
// AWS_ENDPOINT_URL.
package awsrest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Service names an AWS service as the SDK does: ID is its service id (what call counters key on, "S3"),
// Name its signing name and endpoint prefix ("s3").
type Service struct {
	ID, Name string
}

// The services called through this package.
var (
	S3             = Service{ID: "S3", Name: "s3"}
	SQS            = Service{ID: "SQS", Name: "sqs"}
	SecretsManager = Service{ID: "Secrets Manager", Name: "secretsmanager"}
)

// emptySHA256 is the SHA-256 of no bytes, the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// UnsignedPayload is the payload hash S3 accepts for a presigned URL.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// Client calls one service with the credentials, region, HTTP client, retryer and APIOptions of an
// aws.Config. It is safe for concurrent use; build it once per container.
type Client struct {
	svc         Service
	cfg         aws.Config
	endpoint    url.URL
	endpointErr error
	http        aws.HTTPClient
	retryer     aws.Retryer
	signer      *v4.Signer
	now         func() time.Time
}

// New returns a client of svc over cfg: the endpoint is cfg.BaseEndpoint (AWS_ENDPOINT_URL) when set, else
// the region's (https://<name>.<region>.amazonaws.com); the retryer is cfg.Retryer's, else the SDK's
// standard one (3 attempts, exponential backoff with jitter, a retry token bucket). It makes no call; an
// endpoint that is no http(s) URL fails every call (platform.AWSConfig refuses one at start).
func New(cfg aws.Config, svc Service) *Client {
	c := &Client{svc: svc, cfg: cfg, http: cfg.HTTPClient, now: time.Now,
		signer: v4.NewSigner(func(o *v4.SignerOptions) {
			// S3 signs the path as sent; the other services escape it once more (SigV4's rule).
			o.DisableURIPathEscaping = svc.Name == S3.Name
		}),
	}
	c.endpoint, c.endpointErr = endpoint(cfg, svc)
	if c.http == nil {
		// The SDK clients' default (its dial and TLS timeouts, 10 idle connections a host), which the DynamoDB
		// client links anyway.
		c.http = awshttp.NewBuildableClient()
	}
	if cfg.Retryer != nil {
		c.retryer = cfg.Retryer()
	} else {
		c.retryer = retry.NewStandard()
	}
	return c
}

func endpoint(cfg aws.Config, svc Service) (url.URL, error) {
	raw := "https://" + svc.Name + "." + cfg.Region + ".amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		raw += ".cn"
	}
	if cfg.BaseEndpoint != nil {
		raw = *cfg.BaseEndpoint
	} else if cfg.Region == "" {
		return url.URL{}, fmt.Errorf("%s client: no region", svc.ID)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return url.URL{}, fmt.Errorf("%s client: endpoint %q is not an http(s) URL", svc.ID, raw)
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	return *u, nil
}

// Err says why the client cannot make calls (its endpoint is no http(s) URL), nil when it can.
func (c *Client) Err() error { return c.endpointErr }

// Endpoint returns the service's endpoint URL (a copy).
func (c *Client) Endpoint() *url.URL {
	u := c.endpoint
	return &u
}

// Region is the signing region.
func (c *Client) Region() string { return c.cfg.Region }

// Request is one operation's HTTP request.
type Request struct {
	Operation string // the API's operation name ("PutObject"): counted, and named in errors
	Method    string
	URL       *url.URL
	Header    http.Header
	Body      []byte
	// Stream leaves a successful response's body to the caller (GetObject); otherwise the body is read
	// within the attempt, so an answer lost half-way is retried like one never received.
	Stream bool
}

// Do sends req, signed, retrying as the standard retryer says within ctx's deadline. A response with a
// status of 300 or more is an *Error (its body decoded); a request with no answer is a
// *smithyhttp.RequestSendError, one cut short by ctx a *smithy.CanceledError — the types the SDK's clients
// return, so the adapters translate them as they did. The caller closes the response's body.
func (c *Client) Do(ctx context.Context, req *Request) (*http.Response, error) {
	if c.endpointErr != nil {
		return nil, c.endpointErr
	}
	ctx = middleware.ClearStackValues(ctx)
	ctx = middleware.WithServiceID(ctx, c.svc.ID)
	ctx = middleware.WithOperationName(ctx, req.Operation)
	ctx = awsmiddleware.SetServiceID(ctx, c.svc.ID)
	ctx = awsmiddleware.SetOperationName(ctx, req.Operation)
	ctx = awsmiddleware.SetSigningName(ctx, c.svc.Name)
	ctx = awsmiddleware.SetSigningRegion(ctx, c.cfg.Region)

	stack := middleware.NewStack(req.Operation, smithyhttp.NewStackRequest)
	if err := stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("awsrest-retry",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			return c.retry(ctx, func(ctx context.Context) (middleware.FinalizeOutput, middleware.Metadata, error) {
				return next.HandleFinalize(ctx, in)
			})
		}), middleware.After); err != nil {
		return nil, err
	}
	for _, fn := range c.cfg.APIOptions {
		if err := fn(stack); err != nil {
			return nil, err
		}
	}
	// The stack's output is what a deserializer would set; there is none, so the answer is kept here (the
	// last attempt's: a failed attempt leaves none).
	var resp *http.Response
	send := middleware.HandlerFunc(func(ctx context.Context, _ any) (any, middleware.Metadata, error) {
		r, err := c.attempt(ctx, req)
		resp = r
		if err != nil {
			return nil, middleware.Metadata{}, err
		}
		return &smithyhttp.Response{Response: r}, middleware.Metadata{}, nil
	})
	if _, _, err := middleware.DecorateHandler(send, stack).Handle(ctx, req); err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// retry runs attempt until it succeeds, fails in a way the retryer does not retry, runs out of attempts or
// retry tokens, or the next backoff would end after ctx's deadline; it returns the last attempt's error.
func (c *Client) retry(ctx context.Context, attempt func(context.Context) (middleware.FinalizeOutput, middleware.Metadata, error)) (middleware.FinalizeOutput, middleware.Metadata, error) {
	var releaseRetry func(error) error
	for n := 1; ; n++ {
		release := c.retryer.GetInitialToken()
		if v2, ok := c.retryer.(aws.RetryerV2); ok {
			r, err := v2.GetAttemptToken(ctx)
			if err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			release = r
		}
		out, md, err := attempt(ctx)
		_ = release(err)
		if releaseRetry != nil {
			_ = releaseRetry(err)
		}
		if err == nil || !c.retryer.IsErrorRetryable(err) || n >= c.retryer.MaxAttempts() {
			return out, md, err
		}
		rel, tokErr := c.retryer.GetRetryToken(ctx, err)
		if tokErr != nil { // the token bucket is empty: S3 or the network is failing, stop adding load
			return out, md, err
		}
		releaseRetry = rel
		delay, delayErr := c.retryer.RetryDelay(n+1, err)
		if delayErr != nil {
			return out, md, err
		}
		if d, ok := ctx.Deadline(); ok && c.now().Add(delay).After(d) {
			return out, md, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, md, err
		case <-t.C:
		}
	}
}

// attempt signs and sends req once.
func (c *Client) attempt(ctx context.Context, req *Request) (*http.Response, error) {
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: credentials: %w", c.svc.ID, req.Operation, err)
	}
	u := *req.URL
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	hr.ContentLength = int64(len(req.Body))
	if len(req.Body) == 0 {
		hr.Body, hr.GetBody = http.NoBody, nil
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	hash := emptySHA256
	if len(req.Body) > 0 {
		hash = sha256Hex(req.Body)
	}
	if c.svc.Name == S3.Name {
		hr.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if err := c.signer.SignHTTP(ctx, creds, hr, hash, c.svc.Name, c.cfg.Region, c.now().UTC()); err != nil {
		return nil, fmt.Errorf("%s.%s: sign: %w", c.svc.ID, req.Operation, err)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, sendError(ctx, err)
	}
	if resp.StatusCode >= 300 {
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if readErr != nil {
			return nil, sendError(ctx, readErr)
		}
		return nil, decodeError(resp, body)
	}
	if !req.Stream {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, sendError(ctx, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// sendError is the SDK's error for a request that got no (whole) answer: canceled when ctx ended it, else
// a send error, which the retryer retries (the request may or may not have been applied).
func sendError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &smithy.CanceledError{Err: errors.Join(ctx.Err(), err)}
	}
	return &smithyhttp.RequestSendError{Err: err}
}
