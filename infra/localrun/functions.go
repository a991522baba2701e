package localrun

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/account/accountfn"
	"github.com/civicsnap/civicsnap/functions/accrual/accrualfn"
	"github.com/civicsnap/civicsnap/functions/admin/adminfn"
	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/functions/dashboard/dashboardfn"
	"github.com/civicsnap/civicsnap/functions/departments/departmentsfn"
	"github.com/civicsnap/civicsnap/functions/dispatch/dispatchfn"
	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
	"github.com/civicsnap/civicsnap/functions/kpi/kpifn"
	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
	"github.com/civicsnap/civicsnap/functions/open311/open311fn"
	"github.com/civicsnap/civicsnap/functions/photosweep/photosweepfn"
	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/reconciler/reconcilerfn"
	"github.com/civicsnap/civicsnap/functions/redeem/redeemfn"
	"github.com/civicsnap/civicsnap/functions/sweeper/sweeperfn"
	"github.com/civicsnap/civicsnap/functions/volunteer/volunteerfn"
	"github.com/civicsnap/civicsnap/functions/web/webfn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
)

// Handler is one built function: exactly one of its fields is set, by trigger.
type Handler struct {
	HTTP     gateway.Handler
	Stream   func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
	Queue    func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	Schedule func(context.Context, json.RawMessage) error
}

// constructor builds a function from its environment, exactly as its main does, but with the local AWS
// configuration.
type constructor func(ctx context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error)

// constructors maps template logical ids to their constructors. A function in the template without an
// entry here is an error at start, so the two cannot drift apart silently.
func (st *Stack) constructors() map[string]constructor {
	base := func(env fnconfig.Env, awsCfg aws.Config, log *slog.Logger, name string) (*platform.Base, error) {
		b, err := platform.New(env, awsCfg, log.With("function", name))
		if err != nil {
			return nil, err
		}
		b.Now = st.clock.Now // the local clock: real time unless `make demo` moves it
		return b, nil
	}
	return map[string]constructor{
		"IntakeFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "intake")
			if err != nil {
				return Handler{}, err
			}
			fn, err := intakefn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"DepartmentsFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "departments")
			if err != nil {
				return Handler{}, err
			}
			fn, err := departmentsfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"AdminFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "admin")
			if err != nil {
				return Handler{}, err
			}
			fn, err := adminfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"Open311Function": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "open311")
			if err != nil {
				return Handler{}, err
			}
			fn, err := open311fn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"DispatchFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "dispatch")
			if err != nil {
				return Handler{}, err
			}
			fn, err := dispatchfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{Stream: fn.Handle}, nil
		},
		"NotifyFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "notify")
			if err != nil {
				return Handler{}, err
			}
			fn, err := notifyfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			fn.ObservePushes(st.push.record) // the push sink (push.go)
			fn.ObserveDeletes(st.push.recordDelete)
			return Handler{Queue: fn.Handle}, nil
		},
		"SweeperFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "sweeper")
			if err != nil {
				return Handler{}, err
			}
			fn, err := sweeperfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{Schedule: fn.Handle}, nil
		},
		"PhotoSweepFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "photosweep")
			if err != nil {
				return Handler{}, err
			}
			fn, err := photosweepfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{Schedule: fn.Handle}, nil
		},
		"AccrualFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "accrual")
			if err != nil {
				return Handler{}, err
			}
			fn, err := accrualfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{Stream: fn.Handle}, nil
		},
		"AccountFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "account")
			if err != nil {
				return Handler{}, err
			}
			fn, err := accountfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"ReconcilerFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "reconciler")
			if err != nil {
				return Handler{}, err
			}
			fn, err := reconcilerfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{Schedule: fn.Handle}, nil
		},
		"RedeemFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "redeem")
			if err != nil {
				return Handler{}, err
			}
			fn, err := redeemfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"VolunteerFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "volunteer")
			if err != nil {
				return Handler{}, err
			}
			fn, err := volunteerfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"BuildersFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "builders")
			if err != nil {
				return Handler{}, err
			}
			fn, err := buildersfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"KpiFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "kpi")
			if err != nil {
				return Handler{}, err
			}
			fn, err := kpifn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{Schedule: fn.Handle}, nil
		},
		"DashboardFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (Handler, error) {
			b, err := base(env, awsCfg, log, "dashboard")
			if err != nil {
				return Handler{}, err
			}
			fn, err := dashboardfn.New(b)
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: fn.Handle}, nil
		},
		"WebFunction": func(_ context.Context, env fnconfig.Env, _ aws.Config, log *slog.Logger) (Handler, error) {
			cfg, err := webfn.ConfigFromEnv(env) // no AWS client: static files and config.json
			if err != nil {
				return Handler{}, err
			}
			return Handler{HTTP: webfn.New(cfg, log.With("function", "web")).Handle}, nil
		},
	}
}
