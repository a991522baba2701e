// Package buildersfn builds the builders' home function (建设者之家): employers, jobs, worker profiles,
// matching, applications, invitations and hires, job fairs, transfers and consultations.
package buildersfn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/httpapi"
)

// Function is the built builders' home function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function (TABLE_NAME, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	svc := builders.NewService(b.Store, b.TZ, b.Now)
	hires := builders.NewHireService(b.Store, b.TZ, b.Now)
	fairs := builders.NewFairService(b.Store, b.TZ, b.Now)
	router := httpapi.Builders(svc, hires, fairs, b.Log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "builders")
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
