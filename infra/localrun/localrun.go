// Package localrun is civicsnap's local stack, behind `make run` and the e2e tests: moto for AWS,
// resources created from template.yaml, seed data, and the HTTP API served by the real function handlers
// through the API Gateway (payload 2.0) event path.
package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/civicsnap/civicsnap/functions/platform"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/pump"
	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/infra/sink"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
)

// Options configure the stack.
type Options struct {
	Addr     string // where the API listens, e.g. 127.0.0.1:3000
	MotoPort int    // 0: a free port
	Template string // path to template.yaml; default: the module root's
	Prefix   string // resource name prefix
	Log      *slog.Logger
	// StateDir keeps the stack's data between runs: Start loads what was saved there, Shutdown saves
	// (state.go). Empty: nothing is loaded or saved, as tests want.
	StateDir string
	// Function, when set, is applied to each function as it is built (its template id, the AWS
	// configuration it gets and the built handler): the cost command counts a function's calls and
	// invocations with it. Nil: functions get the stack's configuration as they are.
	Function func(id string, cfg aws.Config, build func(aws.Config) (Handler, error)) (Handler, error)
}

// Stack is a running local stack.
type Stack struct {
	API      string // base URL of the HTTP API
	Moto     *motoserver.Server
	AWS      aws.Config
	Names    *stack.Resources
	Issuer   *gateway.Issuer
	server   *http.Server
	listener net.Listener
	log      *slog.Logger
	handlers map[string]Handler
	pumps    *pump.Set
	sink     *sink.Sink
	push     pushSink
	streams  streamLog
	cancel   context.CancelFunc
	clock    clock

	// Loaded is what Start loaded from Options.StateDir (Found false on a first run); nil without one.
	Loaded    *motoserver.StateSummary
	stateDir  string
	unlock    func()        // releases the state directory's lock
	pumpsDone chan struct{} // closed when the pumps' Run has returned
	started   bool          // Start completed: only then may Shutdown save over the saved state
	function  func(id string, cfg aws.Config, build func(aws.Config) (Handler, error)) (Handler, error)
}

// Start brings the stack up. Stop it with Close.
func Start(ctx context.Context, opts Options) (st *Stack, err error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if opts.Prefix == "" {
		opts.Prefix = "civicsnap-local"
	}
	if opts.Template == "" {
		root, err := motoserver.ModuleRoot()
		if err != nil {
			return nil, err
		}
		opts.Template = filepath.Join(root, "template.yaml")
	}
	tpl, err := stack.Load(opts.Template)
	if err != nil {
		return nil, err
	}
	var unlock func()
	if opts.StateDir != "" {
		if unlock, err = lockStateDir(opts.StateDir); err != nil {
			return nil, err
		}
	}
	moto, err := motoserver.Start(ctx, motoserver.Options{Port: opts.MotoPort, StateDir: opts.StateDir})
	if err != nil {
		if unlock != nil {
			unlock()
		}
		return nil, err
	}
	st = &Stack{Moto: moto, log: opts.Log, stateDir: opts.StateDir, unlock: unlock, function: opts.Function}
	partial := st // `return nil, err` sets st to nil before deferred calls run
	defer func() {
		if err != nil {
			_ = partial.Close(context.WithoutCancel(ctx))
		}
	}()
	if st.AWS, err = moto.AWSConfig(ctx); err != nil {
		return nil, err
	}
	// The runner's own clients (pumps, seeding, SNS) read answers that arrive while a body is still being
	// written, as the functions' do (functions/platform/bodies.go).
	st.AWS.APIOptions = append(st.AWS.APIOptions, platform.SafeRequestBodies)
	if st.Names, err = tpl.Create(ctx, st.AWS, opts.Prefix, motoserver.S3Options); err != nil {
		return nil, err
	}
	if err := st.createPushApps(ctx); err != nil { // push.go
		return nil, err
	}
	if opts.StateDir != "" {
		if err := st.loadState(ctx); err != nil {
			return nil, err
		}
	}
	if st.Issuer, err = gateway.NewIssuer(LocalIssuer, LocalAudience, 12*time.Hour); err != nil {
		return nil, err
	}
	// Listen first: seeded departments' webhook URLs point at this very server's sink.
	if st.listener, err = net.Listen("tcp", opts.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	st.API = "http://" + st.listener.Addr().String()
	if err := st.seed(ctx); err != nil {
		return nil, err
	}
	st.handlers, err = st.build(ctx, tpl)
	if err != nil {
		return nil, err
	}
	st.keepStreams() // redeliver.go
	routes := st.routes(tpl)
	if st.pumps, err = st.startPumps(tpl); err != nil {
		return nil, err
	}
	go st.superviseMoto()
	st.sink = sink.New()
	extra := st.sink.Routes()
	extra["POST /_local/token"] = http.HandlerFunc(st.mintToken)
	extra["POST /_local/schedules/{function}"] = http.HandlerFunc(st.fireSchedule)
	extra["GET /_local/clock"] = http.HandlerFunc(st.serveClock)
	extra["POST /_local/clock"] = http.HandlerFunc(st.serveClock)
	extra["POST /_local/drain"] = http.HandlerFunc(st.serveDrain)
	extra["GET /_local/push"] = http.HandlerFunc(st.servePushes)
	extra["POST /_local/streams/{function}/redeliver"] = http.HandlerFunc(st.serveRedeliver)
	if opts.StateDir != "" {
		extra["POST /_local/state/save"] = http.HandlerFunc(st.serveSave)
	}
	gw, err := gateway.New(routes, st.Issuer, opts.Log, extra)
	if err != nil {
		return nil, err
	}
	st.server = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := st.server.Serve(st.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Log.Error("api server stopped", "err", err)
		}
	}()
	st.started = true
	return st, nil
}

// Local token settings: the issuer and audience the gateway checks.
const (
	LocalIssuer   = "civicsnap-local"
	LocalAudience = "civicsnap-local-app"
)

// env resolves a function's environment as Lambda would see it, pointed at the local resources.
func (st *Stack) env(fn stack.Function) fnconfig.Env {
	vars, _ := st.Names.Environment(fn)
	vars["S3_PATH_STYLE"] = "true"
	vars["AWS_REGION"] = st.AWS.Region
	vars["ALLOW_LOOPBACK_WEBHOOKS"] = "true" // the seeded departments' sink is on loopback
	vars["CONFIG_TTL_SECONDS"] = "2"         // admin edits show within two seconds locally
	st.pushEnv(vars)
	if _, ok := fn.Environment["PHOTO_ORIGIN"]; ok {
		vars["PHOTO_ORIGIN"] = st.Moto.Endpoint() // presigned photo links and upload forms point at moto
	}
	return func(k string) string { return vars[k] }
}

// build constructs every function the template declares, with its resolved environment.
func (st *Stack) build(ctx context.Context, tpl *stack.Template) (map[string]Handler, error) {
	ctors := st.constructors()
	hs := map[string]Handler{}
	for _, id := range slices.Sorted(maps.Keys(tpl.Functions)) {
		ctor, ok := ctors[id]
		if !ok {
			return nil, fmt.Errorf("template function %s is unknown to the local runner (infra/localrun/functions.go)", id)
		}
		env := st.env(tpl.Functions[id])
		build := func(cfg aws.Config) (Handler, error) { return ctor(ctx, env, cfg, st.log) }
		var h Handler
		var err error
		if st.function != nil {
			h, err = st.function(id, st.AWS, build)
		} else {
			h, err = build(st.AWS)
		}
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", id, err)
		}
		hs[id] = h
	}
	return hs, nil
}

func (st *Stack) routes(tpl *stack.Template) []gateway.Route {
	var routes []gateway.Route
	for _, id := range slices.Sorted(maps.Keys(tpl.Functions)) {
		fn := tpl.Functions[id]
		for _, ev := range fn.HTTPAPIEvents {
			routes = append(routes, gateway.Route{
				Method: ev.Method, Path: ev.Path, Auth: ev.Authorizer != "NONE", Function: id,
				Timeout: time.Duration(fn.Timeout) * time.Second, Handler: st.handlers[id].HTTP,
			})
		}
	}
	return routes
}

func (st *Stack) seed(ctx context.Context) error {
	table, ok := st.Names.Tables["Table"]
	if !ok {
		return errors.New("template has no Table")
	}
	store := dynamostore.New(dynamodb.NewFromConfig(st.AWS), table.Name, time.UTC)
	var into seed.Store = store
	if st.Loaded != nil && st.Loaded.Found {
		into = keepEdits{Store: store}
	}
	sm := secretsmanager.NewFromConfig(st.AWS)
	putSecret := func(ctx context.Context, name, value string) error {
		_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
		var exists *smtypes.ResourceExistsException
		if errors.As(err, &exists) {
			_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &name, SecretString: &value})
		}
		return err
	}
	if err := seed.Load(ctx, into, putSecret, seed.Options{LocalAPI: st.API, SecretPrefix: "civicsnap/local"}); err != nil {
		return err
	}
	// The volunteer teams and their organiser, builders' home's demo employer, worker and desks: only what
	// is missing is written (saved data keeps its edits).
	if err := seed.LoadVolunteers(ctx, store, st.clock.Now()); err != nil {
		return err
	}
	tz, err := time.LoadLocation(st.Names.Parameters["CityTimeZone"])
	if err != nil {
		return fmt.Errorf("seed: the template's CityTimeZone: %w", err)
	}
	return seed.LoadBuilders(ctx, store, tz, st.clock.Now())
}

// mintToken serves POST /_local/token: {"sub","groups",["dept"]} → {"token"}. Local only.
func (st *Stack) mintToken(w http.ResponseWriter, r *http.Request) {
	var req gateway.TokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Sub == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"code":"invalid_body","message":"want {\"sub\":\"…\",\"groups\":[…],\"dept\"?:\"…\"}"}}`)
		return
	}
	tok, err := st.Issuer.Mint(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// Close stops the stack like Shutdown, for callers that do not need to know what was saved.
func (st *Stack) Close(ctx context.Context) error {
	_, err := st.Shutdown(ctx)
	return err
}

// PortFromEnv reads PORT (default 3000).
func PortFromEnv(env fnconfig.Env) (int, error) {
	p := env("PORT")
	if p == "" {
		return 3000, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("PORT=%q is not a port", p)
	}
	return n, nil
}
