package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every function has a trigger, so make coldstart measures a new function instead of failing on it.
func TestEveryFunctionHasATrigger(t *testing.T) {
	mains, err := filepath.Glob("../../../functions/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions found: %v", err)
	}
	for _, m := range mains {
		if name := filepath.Base(filepath.Dir(m)); !hasTrigger(name) {
			t.Errorf("function %s has no trigger in triggers", name)
		}
	}
	for name := range floors {
		if hasTrigger(name) {
			t.Errorf("floor %s is also in triggers", name)
		}
	}
}

// Each floor links exactly the AWS plumbing its name says and none of the app's other packages, so it is
// the AWS part of a function and nothing else: the SDK's DynamoDB client, and awsrest for S3, SQS and
// Secrets Manager, which the functions call through it rather than through the SDK's clients.
func TestFloorsLinkTheirClientsOnly(t *testing.T) {
	const awsrest = "functions/platform/awsrest"
	want := map[string][]string{
		"floor-dynamodb":      {"service/dynamodb"},
		"floor-dynamodb-call": {"service/dynamodb"},
		"floor-photos":        {awsrest, "service/dynamodb"},
		"floor-departments":   {awsrest, "service/dynamodb"},
	}
	for name, tag := range floors {
		out, err := exec.Command("go", "list", "-deps", "-tags", strings.Trim("lambda.norpc,timetzdata,"+tag, ","), "./floor").Output()
		if err != nil {
			t.Fatalf("%s: go list: %v", name, err)
		}
		var clients []string
		for _, p := range strings.Fields(string(out)) {
			if rest, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(rest, "/") {
				clients = append(clients, "service/"+rest)
			}
			if p == "github.com/civicsnap/civicsnap/"+awsrest {
				clients = append(clients, awsrest)
			} else if strings.HasPrefix(p, "github.com/civicsnap/civicsnap/") && !strings.HasSuffix(p, "/coldstart/floor") {
				t.Errorf("%s links %s", name, p)
			}
		}
		slices.Sort(clients)
		if !slices.Equal(clients, want[name]) {
			t.Errorf("%s links %v, want %v", name, clients, want[name])
		}
	}
}

func hasTrigger(name string) bool {
	_, ok := triggers[name]
	return ok
}
