// Package platform builds what every function shares from its environment: the AWS configuration, the
// DynamoDB client and table store, the cached city configuration and the services over the table alone.
// Each function's constructor package takes what it needs from a Base; main and the local runner call the
// same constructors. The other AWS clients are in packages of their own (platform/queues for SQS,
// platform/secrets for Secrets Manager, platform/photos for S3), so a function links and initialises
// only the clients it uses (issue 11, cold start).
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Base is the shared part of a function.
type Base struct {
	Env   fnconfig.Env
	AWS   aws.Config
	Log   *slog.Logger
	TZ    *time.Location
	Table string
	DB    *dynamodb.Client
	Store *dynamostore.Store
	Dir   *dispatch.Directory
	// ConfigTTL is how long a container caches configuration (departments, rules, point rules):
	// CONFIG_TTL_SECONDS, 60 by default; the local stack uses 2 so admin edits show at once.
	ConfigTTL time.Duration
	Now       func() time.Time
}

// New reads TABLE_NAME and CITY_TZ and builds the DynamoDB client and store.
func New(env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (*Base, error) {
	table, err := env.Required("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	tz, err := env.Location("CITY_TZ")
	if err != nil {
		return nil, err
	}
	ttl, err := env.Int64("CONFIG_TTL_SECONDS", 60)
	if err != nil || ttl < 0 {
		return nil, fmt.Errorf("CONFIG_TTL_SECONDS: want a whole number of seconds ≥ 0")
	}
	// Whoever built awsCfg (AWSConfig, a test's moto, the local runner), the clients send their request
	// bodies without io.WriterTo (SafeRequestBodies; a second copy of it adds nothing).
	awsCfg.APIOptions = append(slices.Clip(awsCfg.APIOptions), SafeRequestBodies)
	db := dynamodb.NewFromConfig(awsCfg)
	store := dynamostore.New(db, table, tz)
	b := &Base{
		Env: env, AWS: awsCfg, Log: log, TZ: tz, Table: table, DB: db, Store: store,
		ConfigTTL: time.Duration(ttl) * time.Second, Now: time.Now,
	}
	// The directory reads b.Now when it checks its age, so a clock set after New (the local stack's) is
	// the one its cache expires by.
	b.Dir = dispatch.NewDirectory(store, b.ConfigTTL, tz, func() time.Time { return b.Now() })
	return b, nil
}

// FromEnv builds a Base as Lambda runs it: the AWS configuration from the variables Lambda sets (see
// AWSConfig). ctx is kept for the constructors' signatures; building the configuration makes no calls.
func FromEnv(_ context.Context, env fnconfig.Env, function string) (*Base, error) {
	awsCfg, err := AWSConfig(env)
	if err != nil {
		return nil, err
	}
	return New(env, awsCfg, fnconfig.Logger(function))
}

// Egress returns the webhook egress policy. ALLOW_LOOPBACK_WEBHOOKS=true is set only by the local stack.
func (b *Base) Egress() webhook.EgressPolicy {
	return webhook.EgressPolicy{AllowLoopbackHTTP: b.Env("ALLOW_LOOPBACK_WEBHOOKS") == "true"}
}

// BBox is the city's bounding box (CITY_BBOX; default Mengzi).
func (b *Base) BBox() (report.BBox, error) {
	text := b.Env("CITY_BBOX")
	if text == "" {
		text = "23.20,103.15,23.60,103.60"
	}
	bbox, err := report.ParseBBox(text)
	if err != nil {
		return report.BBox{}, fmt.Errorf("CITY_BBOX: %w", err)
	}
	return bbox, nil
}

// NewID returns a time-ordered UUID (v7), so ids sort roughly by creation.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// Points returns the points service; a category's default points come from the cached configuration.
func (b *Base) Points() *points.Service {
	catPts := func(ctx context.Context, category string) (int64, error) {
		cfg, err := b.Dir.Get(ctx)
		if err != nil {
			return 0, err
		}
		return int64(cfg.Categories[category].Points), nil
	}
	return points.NewService(b.Store, catPts, b.TZ, b.Now).WithRulesTTL(b.ConfigTTL)
}

// Market returns the honor supermarket service.
func (b *Base) Market() *market.Service {
	return market.NewService(b.Store, b.TZ, b.Now, NewID, market.Settings{})
}

// KPI returns the KPI service (KPI_MIN_CASES: cases a department needs to be ranked, default 5;
// KPI_LAUNCH_DAY: the first day of the public totals).
func (b *Base) KPI() (*kpi.Service, error) {
	minCases, err := b.Env.Int64("KPI_MIN_CASES", 5)
	if err != nil {
		return nil, err
	}
	return kpi.NewService(b.Store, departmentNames{b.Dir}, b.TZ, b.Now, b.Log, int(minCases), b.Env("KPI_LAUNCH_DAY")), nil
}

// departmentNames adapts the cached configuration to the KPI service: departments that handle reports
// (the credit platform and the national volunteer service system only receive webhooks).
type departmentNames struct{ dir *dispatch.Directory }

func (d departmentNames) DepartmentNames(ctx context.Context) (map[string][2]string, error) {
	cfg, err := d.dir.Get(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][2]string, len(cfg.Departments))
	for id, dep := range cfg.Departments {
		if id != market.CreditPlatform && id != points.VolunteerRegistry {
			out[id] = [2]string{dep.NameZH, dep.NameEN}
		}
	}
	return out, nil
}
