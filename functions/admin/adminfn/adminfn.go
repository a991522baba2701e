// Package adminfn builds the admin function: the city's departments, areas and rules, and the delivery
// log of notifications with a redrive of the dead-letter queue.
package adminfn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/queues"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/open311"
	"github.com/civicsnap/civicsnap/shared/queue"
)

// Function is the built admin function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function (TABLE_NAME, OUTBOX_QUEUE_URL, OUTBOX_DLQ_URL).
func New(b *platform.Base) (*Function, error) {
	queueURL, err := b.Env.Required("OUTBOX_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	dlqURL, err := b.Env.Required("OUTBOX_DLQ_URL")
	if err != nil {
		return nil, err
	}
	client := queues.Client(b)
	redrive := func(ctx context.Context, max int) (int, error) {
		return queue.Redrive(ctx, client, dlqURL, queueURL, max)
	}
	adm := dispatch.NewAdmin(b.Store, b.Dir, b.Egress().CheckURL)
	// Revocation moves no photos and signs nothing: the casework service needs neither here.
	cw := casework.NewService(b.Store, nil, b.Dir, queue.NewOutbox(client, queueURL), nil, b.Now)
	router := httpapi.Admin(httpapi.AdminDeps{
		Config: adm, Deliveries: b.Store, Redrive: redrive, Points: b.Points(), Revoke: cw.Revoke, Market: b.Market(),
	}, b.Log)
	open311Clients(router, open311.NewService(b.Store, nil, b.Dir, nil, nil, open311.Settings{}, b.TZ, b.Now, platform.NewID), b.Log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "admin")
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
