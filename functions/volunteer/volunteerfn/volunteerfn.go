// Package volunteerfn builds the volunteer function (志愿圈): profiles, teams, activities, sign-ups and
// attendance.
package volunteerfn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Function is the built volunteer function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function (TABLE_NAME, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	svc := volunteer.NewService(b.Store, b.TZ, b.Now).WithAttendance(b.Store)
	att := volunteer.NewAttendanceService(b.Store, b.TZ, b.Now)
	router := httpapi.Volunteer(svc, att, b.Log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "volunteer")
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
