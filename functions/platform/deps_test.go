package platform_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sdkPrefix is the AWS SDK's module path; the clients below are packages under it. ownPrefix is ours.
const (
	sdkPrefix = "github.com/aws/aws-sdk-go-v2/"
	ownPrefix = "github.com/civicsnap/civicsnap/"
)

// optional are the packages a function links only if it uses them: the SDK's clients (config and the SSO,
// SSO-OIDC, STS and sign-in clients are the config loader's, which no function uses: AWSConfig reads the
// environment) and our adapters of the services called through functions/platform/awsrest rather than
// their SDK clients (issue 11, binaries ≤ 1.5× hello-world: S3, SQS and Secrets Manager).
var optional = []string{
	sdkPrefix + "config", sdkPrefix + "service/sns", sdkPrefix + "service/sso", sdkPrefix + "service/ssooidc",
	sdkPrefix + "service/sts", sdkPrefix + "service/signin",
	sdkPrefix + "service/s3", sdkPrefix + "service/sqs", sdkPrefix + "service/secretsmanager",
	ownPrefix + "functions/platform/awsrest",
	ownPrefix + "shared/blobstore", ownPrefix + "shared/queue", ownPrefix + "shared/secretstore",
}

// The adapters as linked lists name them.
const (
	awsrestPkg = "functions/platform/awsrest"
	s3Pkg      = "shared/blobstore"
	sqsPkg     = "shared/queue"
	secretsPkg = "shared/secretstore"
	snsPkg     = "service/sns"
)

// linked is what each function may link of optional (issue 11, cold start): a new function belongs here.
// No function links the SDK's S3, SQS or Secrets Manager client.
var linked = map[string][]string{
	"account": nil, "dashboard": nil, "kpi": nil, "reconciler": nil, "redeem": nil, "volunteer": nil, "builders": nil,
	"web":         nil, // static files: no AWS SDK package at all (webfn TestLinksNoAWSSDK)
	"admin":       {awsrestPkg, sqsPkg},
	"dispatch":    {awsrestPkg, sqsPkg},
	"accrual":     {awsrestPkg, sqsPkg}, // pushes of the resolution notices (only for users with devices)
	"sweeper":     {awsrestPkg, sqsPkg},
	"photosweep":  {awsrestPkg, s3Pkg},
	"intake":      {awsrestPkg, s3Pkg},
	"open311":     {awsrestPkg, s3Pkg}, // media_url photos go through intake's checks; answers link them presigned
	"notify":      {awsrestPkg, sqsPkg, secretsPkg, snsPkg},
	"departments": {awsrestPkg, s3Pkg, sqsPkg, secretsPkg},
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
				if slices.Contains(optional, p) {
					rest, ok := strings.CutPrefix(p, sdkPrefix)
					if !ok {
						rest = strings.TrimPrefix(p, ownPrefix)
					}
					got = append(got, rest)
				}
			}
			slices.Sort(got)
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(got, want) {
				t.Errorf("links %v of the optional packages, want %v", got, want)
			}
		})
	}
}
