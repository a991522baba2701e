// Package dashboardfn builds the dashboard function: the KPI API for staff, the public stats, the
// command-center console's static files and the API's OpenAPI document (both embedded).
package dashboardfn

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/apidoc"
	"github.com/civicsnap/civicsnap/shared/httpapi"
)

// Function is the built dashboard function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function (TABLE_NAME, CITY_TZ, CITY_BBOX).
func New(b *platform.Base) (*Function, error) {
	svc, err := b.KPI()
	if err != nil {
		return nil, err
	}
	bbox, err := b.BBox()
	if err != nil {
		return nil, err
	}
	layer := func(ctx context.Context) (httpapi.MapLayer, error) {
		areas, err := b.Store.Areas(ctx)
		if err != nil {
			return httpapi.MapLayer{}, err
		}
		out := make([]map[string]any, len(areas))
		for i, a := range areas {
			out[i] = map[string]any{"id": a.ID, "name": a.Name, "geometry": json.RawMessage(a.Geometry)}
		}
		return httpapi.MapLayer{Areas: out, BBox: [4]float64{bbox.MinLat, bbox.MinLng, bbox.MaxLat, bbox.MaxLng}}, nil
	}
	router := httpapi.Dashboard(svc, consoleHandler(), layer, b.Log)
	router.Handle("GET /v1/openapi.json", apidoc.Handler()) // public and static, like the console
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "dashboard")
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
