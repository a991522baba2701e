// Package open311fn builds the Open311 function: GeoReport v2 under /open311/v2/ and mySociety's service
// request updates extension. Its main and the local runner share this one constructor.
package open311fn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/open311"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Function is the built Open311 function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
	// Handler is the HTTP handler behind the Lambda adapter (tests drive it directly).
	Handler http.Handler
	// Service is the Open311 service (tests issue keys with it).
	Service *open311.Service
}

// PhotoLinkTTL is how long a media_url in an answer stays valid: the bucket is private, so a report's
// photo is shown as a presigned GET of its stored, stripped version.
const PhotoLinkTTL = time.Hour

// MediaTimeout bounds the fetch of a POSTed media_url.
const MediaTimeout = 10 * time.Second

// New builds the function from a Base (TABLE_NAME, BUCKET_NAME, CITY_BBOX, MAX_UPLOAD_BYTES, CITY_TZ,
// S3_PATH_STYLE, JURISDICTION_ID: the city's jurisdiction_id, "mengzi" by default; OPEN311_CONTACT: the
// discovery document's contact; OPEN311_BASE_URL: the public base URL when a custom domain maps the API
// (else the request's host and stage); ALLOW_LOOPBACK_WEBHOOKS only in the local stack, for loopback
// media_urls).
func New(b *platform.Base) (*Function, error) {
	reports, err := photos.Reports(b)
	if err != nil {
		return nil, err
	}
	jurisdiction := b.Env("JURISDICTION_ID")
	if jurisdiction == "" {
		jurisdiction = "mengzi"
	}
	links, err := photos.Links(b, PhotoLinkTTL)
	if err != nil {
		return nil, err
	}
	media := fetcher{client: b.Egress().Client(MediaTimeout)}
	svc := open311.NewService(b.Store, reports, b.Dir, links, media,
		open311.Settings{Jurisdiction: jurisdiction, Contact: b.Env("OPEN311_CONTACT")}, b.TZ, b.Now, platform.NewID)
	public := b.Env("OPEN311_BASE_URL")
	h := open311.NewHandler(svc, b.Log).WithBaseURL(func(r *http.Request) string {
		if public != "" {
			return public
		}
		// A named stage prefixes the public path (the Lambda adapter removed it from the route's).
		if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.Stage != "" && rc.Stage != "$default" {
			return open311.RequestBase(r, "/"+rc.Stage)
		}
		return open311.RequestBase(r, "")
	})
	var routes []httpapi.Route
	for _, r := range h.Routes() {
		routes = append(routes, httpapi.Route{Method: r.Method, Path: r.Path})
	}
	return &Function{lambda: httpapi.LambdaHandler(h), routes: routes, Handler: h, Service: svc}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "open311")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Handle is the Lambda handler.
func (f *Function) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return f.lambda(ctx, ev)
}

// Routes lists the routes the function serves; tests/arch checks them against template.yaml.
func (f *Function) Routes() []httpapi.Route { return f.routes }

// fetcher reads a media_url through the egress guard: https to a public address only (loopback in the
// local stack), no redirects followed, at most max bytes (a larger Content-Length is refused before the
// body is read).
type fetcher struct{ client *http.Client }

func (f fetcher) Fetch(ctx context.Context, url string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, open311.ErrMediaURL
	}
	req.Header.Set("Accept", "image/jpeg, image/png, image/webp, image/heic")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, webhook.ErrEgressRefused) || errors.Is(err, webhook.ErrInvalidURL) {
			return nil, open311.ErrMediaURL.With("media_url is refused: it must be an https URL of a public host")
		}
		return nil, open311.ErrMediaURL.With("media_url could not be fetched")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, open311.ErrMediaURL.With("media_url answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > max {
		return nil, report.ErrMediaTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, open311.ErrMediaURL.With("media_url could not be read")
	}
	if int64(len(data)) > max {
		return nil, report.ErrMediaTooLarge
	}
	return data, nil
}
