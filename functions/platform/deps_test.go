package platform_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sdkPrefix is the AWS SDK's module path; the clients below are packages under it.
const sdkPrefix = "github.com/aws/aws-sdk-go-v2/"

// optional are the SDK packages a function links only if it uses them; config and the SSO, SSO-OIDC, STS
// and sign-in clients are the config loader's, which no function uses (AWSConfig reads the environment).
var optional = []string{"config", "service/s3", "service/sqs", "service/sns", "service/secretsmanager", "service/sso", "service/ssooidc", "service/sts", "service/signin"}

// linked is what each function may link of optional (issue 11, cold start): a new function belongs here.
var linked = map[string][]string{
	"account": nil, "dashboard": nil, "kpi": nil, "reconciler": nil, "redeem": nil,
	"admin":       {"service/sqs"},
	"dispatch":    {"service/sqs"},
	"accrual":     {"service/sqs"}, // pushes of the resolution notices (only for users with devices)
	"sweeper":     {"service/sqs"},
	"photosweep":  {"service/s3"},
	"intake":      {"service/s3"},
	"open311":     {"service/s3"}, // media_url photos go through intake's checks; answers link them presigned
	"notify":      {"service/secretsmanager", "service/sns", "service/sqs"},
	"departments": {"service/s3", "service/secretsmanager", "service/sqs"},
}

// TestFunctionsLinkOnlyTheirClients lists each function's dependencies as its binary is built (lambda
// tags) and checks it links no AWS client it does not use, and never the config loader.
func TestFunctionsLinkOnlyTheirClients(t *testing.T) {
	mains, err := filepath.Glob("../*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(mains) < len(linked) {
		t.Fatalf("found %d functions, want at least %d", len(mains), len(linked))
	}
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		t.Run(name, func(t *testing.T) {
			want, ok := linked[name]
			if !ok {
				t.Fatalf("function %s is not in linked: say which clients it may link", name)
			}
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc,timetzdata", "./"+name)
			cmd.Dir = ".."
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			var got []string
			for _, p := range strings.Fields(string(out)) {
				if rest, ok := strings.CutPrefix(p, sdkPrefix); ok && slices.Contains(optional, rest) {
					got = append(got, rest)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("links %v of the optional SDK packages, want %v", got, want)
			}
		})
	}
}
