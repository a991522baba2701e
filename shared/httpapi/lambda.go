package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// LambdaHandler adapts h to API Gateway HTTP API (payload 2.0) events. A named stage ("dev") prefixes
// rawPath with "/dev"; it is removed so routes are written once, stage-free.
func LambdaHandler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if st := ev.RequestContext.Stage; st != "" && st != "$default" {
			ev.RawPath = strings.TrimPrefix(ev.RawPath, "/"+st)
		}
		return adapter.ProxyWithContext(ctx, ev)
	}
}
