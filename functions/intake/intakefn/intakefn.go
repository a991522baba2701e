// Package intakefn builds the intake function: report intake, photo uploads and a citizen's own reports.
// Its main and the local runner share this one constructor.
package intakefn

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/platform/photos"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/report"
)

// AnswerWindow reads ANSWER_WINDOW_HOURS (the template's AnswerWindowHours, default 168: 7 days): how long
// after a resolution its reporter may confirm or contest it. The sweeper reads it too.
func AnswerWindow(b *platform.Base) (time.Duration, error) {
	h, err := b.Env.Int64("ANSWER_WINDOW_HOURS", int64(report.DefaultAnswerWindow/time.Hour))
	if err != nil {
		return 0, err
	}
	return time.Duration(h) * time.Hour, nil
}

// Function is the built intake function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	routes []httpapi.Route
}

// New builds the function from a Base (TABLE_NAME, BUCKET_NAME, CITY_BBOX, MAX_UPLOAD_BYTES, CITY_TZ,
// S3_PATH_STYLE, ANSWER_WINDOW_HOURS).
func New(b *platform.Base) (*Function, error) {
	reports, err := photos.Reports(b)
	if err != nil {
		return nil, err
	}
	window, err := AnswerWindow(b)
	if err != nil {
		return nil, err
	}
	public, err := publicMap(b)
	if err != nil {
		return nil, err
	}
	router := httpapi.Intake(reports, b.Log)
	httpapi.PublicMap(router, public, b.Now, b.Log)
	httpapi.Answers(router, report.NewAnswers(b.Store, reports, nil, window, b.Now), b.Log)
	return &Function{lambda: httpapi.LambdaHandler(router), routes: router.Routes()}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "intake")
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
