// Package webfn builds the web function: the web clients (shared/webclient) at /app/, /dept/ and /counter/,
// with config.json from the environment. It calls no AWS service and links no AWS client.
package webfn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/fnconfig"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/webclient"
)

// Function is the built web function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// ConfigFromEnv reads the clients' settings: COGNITO_DOMAIN (the hosted UI's origin; empty signs in with
// the local stack's token route), COGNITO_CLIENT_ID, TILE_URL_TEMPLATE and TILE_ATTRIBUTION (empty: the
// bundled offline map), PHOTO_ORIGIN (the photo bucket's origin). Each is checked (webclient.Config.Validate).
func ConfigFromEnv(env fnconfig.Env) (webclient.Config, error) {
	cfg := webclient.Config{
		CognitoDomain:   env("COGNITO_DOMAIN"),
		CognitoClientID: env("COGNITO_CLIENT_ID"),
		TileURL:         env("TILE_URL_TEMPLATE"),
		TileAttribution: env("TILE_ATTRIBUTION"),
		PhotoOrigin:     env("PHOTO_ORIGIN"),
	}
	if err := cfg.Validate(); err != nil {
		return webclient.Config{}, fmt.Errorf("web clients' configuration: %w", err)
	}
	return cfg, nil
}

// New builds the function.
func New(cfg webclient.Config, log *slog.Logger) *Function {
	router := httpapi.Web(webclient.Handlers(cfg), log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(env fnconfig.Env) (*Function, error) {
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		return nil, err
	}
	return New(cfg, fnconfig.Logger("web")), nil
}

// Handle is the Lambda handler.
func (f *Function) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return f.lambda(ctx, ev)
}

// Routes lists the routes the function serves; tests/arch checks them against template.yaml.
func (f *Function) Routes() []httpapi.Route { return f.routes }
