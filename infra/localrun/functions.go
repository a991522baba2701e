package localrun

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
	"github.com/civicsnap/civicsnap/infra/gateway"
	"github.com/civicsnap/civicsnap/shared/fnconfig"
)

// httpConstructor builds an HTTP API function from its environment, exactly as its main does, but with
// the local AWS configuration.
type httpConstructor func(ctx context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (gateway.Handler, error)

// httpFunctions maps template logical ids to their constructors. A function in the template without an
// entry here is an error at start, so the two cannot drift apart silently.
func httpFunctions() map[string]httpConstructor {
	return map[string]httpConstructor{
		"IntakeFunction": func(_ context.Context, env fnconfig.Env, awsCfg aws.Config, log *slog.Logger) (gateway.Handler, error) {
			cfg, err := intakefn.ConfigFromEnv(env)
			if err != nil {
				return nil, err
			}
			return intakefn.New(cfg, awsCfg, log.With("function", "intake")).Handle, nil
		},
	}
}
