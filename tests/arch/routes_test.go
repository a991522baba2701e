package arch

import (
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/civicsnap/civicsnap/functions/account/accountfn"
	"github.com/civicsnap/civicsnap/functions/admin/adminfn"
	"github.com/civicsnap/civicsnap/functions/builders/buildersfn"
	"github.com/civicsnap/civicsnap/functions/dashboard/dashboardfn"
	"github.com/civicsnap/civicsnap/functions/departments/departmentsfn"
	"github.com/civicsnap/civicsnap/functions/intake/intakefn"
	"github.com/civicsnap/civicsnap/functions/open311/open311fn"
	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/functions/redeem/redeemfn"
	"github.com/civicsnap/civicsnap/functions/volunteer/volunteerfn"
	"github.com/civicsnap/civicsnap/functions/web/webfn"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/httpapi"
)

// routed is a built HTTP function.
type routed interface{ Routes() []httpapi.Route }

// httpFunctions builds each HTTP function, by template logical id, with its real constructor (nothing is
// called: AWS clients are only configured).
var httpFunctions = map[string]func(*platform.Base) (routed, error){
	"IntakeFunction":      func(b *platform.Base) (routed, error) { return intakefn.New(b) },
	"DepartmentsFunction": func(b *platform.Base) (routed, error) { return departmentsfn.New(b) },
	"AdminFunction":       func(b *platform.Base) (routed, error) { return adminfn.New(b) },
	"AccountFunction":     func(b *platform.Base) (routed, error) { return accountfn.New(b) },
	"RedeemFunction":      func(b *platform.Base) (routed, error) { return redeemfn.New(b) },
	"DashboardFunction":   func(b *platform.Base) (routed, error) { return dashboardfn.New(b) },
	"Open311Function":     func(b *platform.Base) (routed, error) { return open311fn.New(b) },
	"VolunteerFunction":   func(b *platform.Base) (routed, error) { return volunteerfn.New(b) },
	"BuildersFunction":    func(b *platform.Base) (routed, error) { return buildersfn.New(b) },
	"WebFunction": func(b *platform.Base) (routed, error) {
		cfg, err := webfn.ConfigFromEnv(b.Env)
		if err != nil {
			return nil, err
		}
		return webfn.New(cfg, b.Log), nil
	},
}

// Routes are declared twice, as HttpApi events in template.yaml (what API Gateway sends to a function) and
// as patterns in the function's router (what the function serves). Each function's two lists must be
// equal: a route only in the template answers 404 from the function; a route only in the router can never
// be called.
func TestTemplateRoutesEqualRouterRoutes(t *testing.T) {
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "CITY_TZ": "Asia/Shanghai",
		"OUTBOX_QUEUE_URL": "http://127.0.0.1/q", "OUTBOX_DLQ_URL": "http://127.0.0.1/dlq"}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	seen := map[string]bool{}
	for _, fn := range tpl.Functions {
		if len(fn.HTTPAPIEvents) == 0 {
			continue
		}
		seen[fn.LogicalID] = true
		build, ok := httpFunctions[fn.LogicalID]
		if !ok {
			t.Errorf("%s has HttpApi events but this test does not know its constructor", fn.LogicalID)
			continue
		}
		b, err := platform.New(func(k string) string { return env[k] }, aws.Config{Region: "us-east-1"}, log)
		if err != nil {
			t.Fatal(err)
		}
		f, err := build(b)
		if err != nil {
			t.Fatalf("build %s: %v", fn.LogicalID, err)
		}
		var declared []string
		for _, ev := range fn.HTTPAPIEvents {
			declared = append(declared, ev.Method+" "+ev.Path)
		}
		var served []string
		for _, r := range f.Routes() {
			served = append(served, r.String())
		}
		for _, d := range declared {
			if !slices.Contains(served, d) {
				t.Errorf("%s: template.yaml declares %s, which the function's router does not serve", fn.LogicalID, d)
			}
		}
		for _, s := range served {
			if !slices.Contains(declared, s) {
				t.Errorf("%s: the router serves %s, which template.yaml does not declare", fn.LogicalID, s)
			}
		}
	}
	for id := range httpFunctions {
		if !seen[id] {
			t.Errorf("%s is built here as an HTTP function but has no HttpApi events in template.yaml", id)
		}
	}
}
