// Package intakefn builds the intake function: report intake, photo uploads and a citizen's own reports.
// Its main and the local runner share this one constructor.
package intakefn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/civicsnap/civicsnap/shared/blobstore"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
	"github.com/civicsnap/civicsnap/shared/httpapi"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Config is the function's typed configuration.
type Config struct {
	Table          string
	Bucket         string
	BBox           report.BBox
	MaxUploadBytes int64
	TZ             *time.Location
	S3Options      func(*s3.Options)
}

// ConfigFromEnv reads TABLE_NAME, BUCKET_NAME, CITY_BBOX, MAX_UPLOAD_BYTES, CITY_TZ and S3_PATH_STYLE.
func ConfigFromEnv(env fnconfig.Env) (Config, error) {
	var c Config
	var err error
	if c.Table, err = env.Required("TABLE_NAME"); err != nil {
		return c, err
	}
	if c.Bucket, err = env.Required("BUCKET_NAME"); err != nil {
		return c, err
	}
	bbox := env("CITY_BBOX")
	if bbox == "" {
		bbox = "23.20,103.15,23.60,103.60"
	}
	if c.BBox, err = report.ParseBBox(bbox); err != nil {
		return c, fmt.Errorf("CITY_BBOX: %w", err)
	}
	if c.MaxUploadBytes, err = env.Int64("MAX_UPLOAD_BYTES", 10<<20); err != nil {
		return c, err
	}
	if c.TZ, err = env.Location("CITY_TZ"); err != nil {
		return c, err
	}
	c.S3Options = env.S3PathStyle()
	return c, nil
}

// Function is the built intake function.
type Function struct {
	lambda func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

// New builds the function: clients once, then the service and routes.
func New(cfg Config, awsCfg aws.Config, log *slog.Logger) *Function {
	db := dynamodb.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, cfg.S3Options)
	svc := report.NewService(
		dynamostore.New(db, cfg.Table, cfg.TZ),
		blobstore.New(s3c, cfg.Bucket),
		report.Config{BBox: cfg.BBox, MaxUploadBytes: cfg.MaxUploadBytes},
		time.Now, newID,
	)
	h := httpapi.Intake(svc, log)
	return &Function{lambda: httpapi.LambdaHandler(h)}
}

// FromEnv builds the function from the process environment, as Lambda runs it.
func FromEnv(ctx context.Context, env fnconfig.Env) (*Function, error) {
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		return nil, err
	}
	awsCfg, err := fnconfig.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return New(cfg, awsCfg, fnconfig.Logger("intake")), nil
}

// Handle is the Lambda handler.
func (f *Function) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return f.lambda(ctx, ev)
}

// newID returns a time-ordered UUID (v7), so ids sort roughly by creation.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
