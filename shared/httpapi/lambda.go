package httpapi

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// LambdaHandler adapts h to API Gateway HTTP API (payload 2.0) events.
//
// Two corrections to the adapter: a named stage ("dev") prefixes rawPath with "/dev", which is removed so
// routes are written once, stage-free; and the adapter splits every header value on commas (treating each
// header as a list), which breaks values that contain commas — a Standard Webhooks signature "v1,<base64>",
// or an Idempotency-Key "a,b" that would otherwise read as "a". The event's header values are put back as
// API Gateway delivered them.
func LambdaHandler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	adapter := httpadapter.NewV2(restoreHeaders(h))
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if st := ev.RequestContext.Stage; st != "" && st != "$default" {
			ev.RawPath = strings.TrimPrefix(ev.RawPath, "/"+st)
		}
		return adapter.ProxyWithContext(context.WithValue(ctx, rawHeadersKey{}, ev.Headers), ev)
	}
}

type rawHeadersKey struct{}

func restoreHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw, ok := r.Context().Value(rawHeadersKey{}).(map[string]string); ok {
			for k, v := range raw {
				r.Header[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
			}
		}
		h.ServeHTTP(w, r)
	})
}
