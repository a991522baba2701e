// Package testenv gives the functions' integration tests a fresh civicsnap environment on one shared moto
// per test binary: the template's table, bucket and queues under a unique prefix, the seed (categories,
// departments with their signing secrets in Secrets Manager, areas, rules), and each function's environment
// resolved from template.yaml, so a test builds a function exactly as main and the local runner do.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/awscalls"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
)

// Moto is a moto server shared by the tests of one package; each test makes its own Env on it.
type Moto struct {
	srv      *motoserver.Server
	template string
	n        atomic.Int64
	// http is the HTTP client of every Env's AWS clients: one connection pool per moto, so the Envs of a
	// package reuse moto's kept-alive connections instead of each holding idle ones of its own.
	http *awshttp.BuildableClient
}

// Start starts moto on a free loopback port. Call it from TestMain and Stop it after m.Run.
func Start(ctx context.Context) (*Moto, error) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		return nil, err
	}
	srv, err := motoserver.Start(ctx, motoserver.Options{})
	if err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	return &Moto{srv: srv, template: filepath.Join(root, "template.yaml"), http: awshttp.NewBuildableClient()}, nil
}

// Stop stops moto.
func (m *Moto) Stop() error { return m.srv.Stop() }

// Options shape a new Env.
type Options struct {
	// Params overrides template parameters (e.g. NotifyMaxAttempts, which sets the outbox's maxReceiveCount).
	Params map[string]string
	// LocalAPI replaces {LOCAL_API} in the seeded departments' webhook URLs (an httptest server's URL).
	LocalAPI string
	// WrapHTTP, when set, wraps the HTTP client of Counted (the configuration the function under test gets;
	// not AWS, the test's own setup and inspection), so a fault-injecting client sees every call the
	// function makes. The function's retries are then expected; the test's own still fail it unless
	// ExpectRetries is set too.
	WrapHTTP func(aws.HTTPClient) aws.HTTPClient
	// CategoriesOnly seeds only the report categories, not the rest of the seed (departments with their
	// secrets, areas, rules, the catalog): for tests of functions that read nothing else, whose Envs are
	// then ready sooner (the seed is about half of a fresh Env's calls). DeptSecrets stays empty.
	CategoriesOnly bool
	// ExpectRetries says the test provokes SDK retries, so a retried attempt does not fail it (see
	// retries.go).
	ExpectRetries bool
}

// Env is one fresh set of resources with the seed loaded.
type Env struct {
	T      testing.TB
	Prefix string
	// AWS talks to moto uncounted (the test's own look); Counted counts every call on Calls (give it to
	// the function under test).
	AWS     aws.Config
	Counted aws.Config
	Calls   *awscalls.Counter

	Template  *stack.Template
	Resources *stack.Resources
	Table     string
	StreamARN string
	Bucket    string
	OutboxURL string
	OutboxARN string
	DLQURL    string

	DB      *dynamodb.Client
	SQS     *sqs.Client
	S3      *s3.Client
	Secrets *secretsmanager.Client
	Store   *dynamostore.Store
	TZ      *time.Location

	// SecretPrefix names the departments' secrets: <SecretPrefix>/dept/<id>.
	SecretPrefix string
	// DeptSecrets holds each seeded department's signing secret, to sign callbacks and verify deliveries.
	DeptSecrets map[string]string

	// retriesExpected: the test provokes SDK retries (Options.WrapHTTP or ExpectRetries), so a second
	// copy of a message is one of their effects, not a double send (Drain).
	retriesExpected bool
}

// New creates the template's resources under a unique prefix and loads the seed. It fails the test if
// anything goes wrong.
func (m *Moto) New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	tpl, err := stack.Load(m.template)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range opts.Params {
		p, ok := tpl.Parameters[k]
		if !ok {
			t.Fatalf("template has no parameter %s", k)
		}
		p.Default, p.HasDefault = v, true
		tpl.Parameters[k] = p
	}
	// stack.Load resolves numeric resource properties (such as the outbox's maxReceiveCount, a !Ref of
	// NotifyMaxAttempts) with the parameters' defaults as it parses, so a later override of the parameter
	// reaches the functions' environment but not the queue: apply it to the queue here too.
	if v, ok := opts.Params["NotifyMaxAttempts"]; ok {
		q := tpl.Queues["OutboxQueue"]
		if q.RedrivePolicy == nil {
			t.Fatal("template: OutboxQueue has no RedrivePolicy")
		}
		rp := *q.RedrivePolicy
		if rp.MaxReceiveCount, err = strconv.Atoi(v); err != nil {
			t.Fatalf("NotifyMaxAttempts=%q: %v", v, err)
		}
		q.RedrivePolicy = &rp
		tpl.Queues["OutboxQueue"] = q
	}
	cfg, err := m.srv.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient = m.http
	// The test's own SDK clients too send request bodies as the functions' do (platform.New adds it to
	// theirs): without it an answer can be cut off under load ("use of closed network connection").
	cfg.APIOptions = append(cfg.APIOptions, platform.SafeRequestBodies)
	// The function's configuration goes through opts.WrapHTTP; the test's own (setup, inspection) never
	// does, so a retry there is unexpected unless the test says otherwise (retries.go).
	counted := cfg.Copy()
	counted.APIOptions = slices.Clone(cfg.APIOptions)
	if opts.WrapHTTP != nil {
		counted.HTTPClient = opts.WrapHTTP(cfg.HTTPClient)
	}
	newRetryCheck(t, cfg, "setup", opts.ExpectRetries).attach(&cfg)
	newRetryCheck(t, counted, "function", opts.ExpectRetries || opts.WrapHTTP != nil).attach(&counted)
	prefix := fmt.Sprintf("t%s-%d", strconv.FormatInt(time.Now().UnixNano()%1e9, 36), m.n.Add(1))
	res, err := tpl.Create(ctx, cfg, prefix, motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{
		T: t, Prefix: prefix, AWS: cfg, Calls: &awscalls.Counter{}, Template: tpl, Resources: res,
		Table: res.Tables["Table"].Name, StreamARN: res.Tables["Table"].StreamARN, Bucket: res.Buckets["PhotoBucket"].Name,
		OutboxURL: res.Queues["OutboxQueue"].URL, OutboxARN: res.Queues["OutboxQueue"].ARN, DLQURL: res.Queues["OutboxDLQ"].URL,
		DB: dynamodb.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg, motoserver.S3Options),
		Secrets: secretsmanager.NewFromConfig(cfg), TZ: tz,
		SecretPrefix: "civicsnap/" + prefix, DeptSecrets: map[string]string{},
		retriesExpected: opts.ExpectRetries || opts.WrapHTTP != nil,
	}
	e.Counted = counted
	e.Calls.Attach(&e.Counted)
	// aws.Config.Copy is shallow: clip both middleware lists, so that a test appending to one (another
	// counter, say) never writes into the other's backing array.
	e.AWS.APIOptions = slices.Clip(e.AWS.APIOptions)
	e.Counted.APIOptions = slices.Clip(e.Counted.APIOptions)
	e.Store = dynamostore.New(e.DB, e.Table, tz)

	if opts.CategoriesOnly {
		if err := seed.LoadCategories(ctx, e.Store); err != nil {
			t.Fatal(err)
		}
		return e
	}
	depts, err := seed.Departments()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range depts {
		e.DeptSecrets[d.ID] = d.LocalSecret
	}
	if err := seed.Load(ctx, e.Store, e.PutSecret, seed.Options{LocalAPI: opts.LocalAPI, SecretPrefix: e.SecretPrefix}); err != nil {
		t.Fatal(err)
	}
	return e
}

// PutSecret creates or replaces a secret in Secrets Manager (a seed.SecretWriter).
func (e *Env) PutSecret(ctx context.Context, name, value string) error {
	_, err := e.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
	var exists *smtypes.ResourceExistsException
	if errors.As(err, &exists) {
		_, err = e.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &name, SecretString: &value})
	}
	return err
}

// FuncEnv is the environment the template gives function id (a logical id such as "DispatchFunction"),
// resolved to this Env's resources, with S3_PATH_STYLE for moto and extra on top (an empty value unsets).
func (e *Env) FuncEnv(id string, extra map[string]string) fnconfig.Env {
	e.T.Helper()
	fn, ok := e.Template.Functions[id]
	if !ok {
		e.T.Fatalf("template has no function %s", id)
	}
	vars, unresolved := e.Resources.Environment(fn)
	if len(unresolved) > 0 {
		e.T.Fatalf("%s: unresolved environment %v", id, unresolved)
	}
	vars["S3_PATH_STYLE"] = "true"
	maps.Copy(vars, extra)
	return func(k string) string { return vars[k] }
}

// Base builds the platform base of function id as main does, on the counted configuration. log nil
// discards the function's logs.
func (e *Env) Base(id string, extra map[string]string, log *slog.Logger) *platform.Base {
	e.T.Helper()
	return e.BaseOn(e.Counted, id, extra, log)
}

// BaseOn is Base on another AWS configuration (e.AWS for a helper function whose calls are not counted).
func (e *Env) BaseOn(cfg aws.Config, id string, extra map[string]string, log *slog.Logger) *platform.Base {
	e.T.Helper()
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	b, err := platform.New(e.FuncEnv(id, extra), cfg, log)
	if err != nil {
		e.T.Fatal(err)
	}
	return b
}

// With returns a copy of e that reports to t (a subtest) and shares everything else.
func (e *Env) With(t testing.TB) *Env {
	c := *e
	c.T = t
	return &c
}
