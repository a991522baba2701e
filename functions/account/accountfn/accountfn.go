// Package accountfn builds the account function: a citizen's profile (balance, merit, honors) and ledger,
// and the caller's notifications, push devices and notification preferences.
package accountfn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/notify"
)

// Function is the built account function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function (TABLE_NAME, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	router := httpapi.Account(b.Points(), b.Log)
	addInboxRoutes(router, notify.NewInbox(b.Store, nil, nil, b.TZ, b.Now), b.Log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "account")
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
