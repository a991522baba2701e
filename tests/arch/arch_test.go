// Package arch checks the project's dependency rules: domain packages under shared/ import neither the AWS
// SDK nor aws-lambda-go (only adapters may), and function mains stay wiring only.
package arch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// adapters may import AWS; every other package under shared/ is domain.
var adapters = map[string]bool{
	"dynamostore": true, "blobstore": true, "httpapi": true, "awscalls": true, "fnconfig": true,
	"queue": true, "webhook": true, "streamfn": true, "secretstore": true,
}

var forbidden = []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-lambda-go", "github.com/awslabs/aws-lambda-go-api-proxy"}

func TestDomainPackagesImportNoAWS(t *testing.T) {
	pkgs, err := exec.Command("go", "list", "github.com/civicsnap/civicsnap/shared/...").Output()
	if err != nil {
		t.Fatalf("go list shared: %v", err)
	}
	domain := 0
	for _, pkg := range strings.Fields(string(pkgs)) {
		name := strings.TrimPrefix(pkg, "github.com/civicsnap/civicsnap/shared/")
		if adapters[strings.Split(name, "/")[0]] {
			continue
		}
		domain++
		deps, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, d := range strings.Fields(string(deps)) {
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("domain package %s depends on %s", pkg, d)
				}
			}
		}
	}
	if domain < 4 {
		t.Errorf("found only %d domain packages; is the adapter list wrong?", domain)
	}
}

// TestMainsAreWiringOnly keeps functions/<name>/main.go small: build with the constructor, lambda.Start.
func TestMainsAreWiringOnly(t *testing.T) {
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no mains found: %v", err)
	}
	for _, m := range mains {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if !strings.Contains(src, "lambda.Start(") {
			t.Errorf("%s does not call lambda.Start", m)
		}
		if n := strings.Count(src, "\n"); n > 40 {
			t.Errorf("%s has %d lines; wiring belongs in the function's constructor package", m, n)
		}
		for _, bad := range []string{"dynamodb.New", "s3.New", "http.NewServeMux", "func init("} {
			if strings.Contains(src, bad) {
				t.Errorf("%s contains %q: build clients and routes in the constructor package", m, bad)
			}
		}
	}
}
