// Package departmentsfn builds the departments function: signed callbacks and uploads from department
// systems, and the staff API for departments without a system of their own.
package departmentsfn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/functions/platform/secrets"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/httpapi"
)

// Function is the built departments function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function (TABLE_NAME, BUCKET_NAME, OUTBOX_QUEUE_URL, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	reports, err := photos.Reports(b)
	if err != nil {
		return nil, err
	}
	outbox, err := queues.Outbox(b, queues.Client(b))
	if err != nil {
		return nil, err
	}
	cw := casework.NewService(b.Store, reports, b.Dir, outbox, secrets.Store(b), b.Now)
	router := httpapi.Departments(cw, reports, b.Log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "departments")
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
