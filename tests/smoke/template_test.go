// Package smoke checks the deployable pieces without AWS: the event fixtures against the routes
// template.yaml declares (always), and each function's bootstrap under the Lambda Runtime Interface
// Emulator (with SMOKE=1, as `make smoke` runs it).
package smoke

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// route is one HttpApi event of a function.
type route struct {
	Event  string // the event's name in the template
	Key    string // "GET /v1/reports/{id}", as API Gateway spells routeKey
	Public bool   // Auth: { Authorizer: NONE }
}

// function is an AWS::Serverless::Function as far as the fixtures care.
type function struct {
	LogicalID  string
	CodeUri    string
	Routes     []route
	EventTypes map[string]bool // "HttpApi", "DynamoDB", "SQS", "ScheduleV2", ...
}

// Dir is the function's folder under functions/ (and events/): CodeUri "functions/<dir>", else the logical
// id without "Function", lower-cased, as infra/build.mk maps it.
func (f function) Dir() string {
	if d, ok := strings.CutPrefix(filepath.ToSlash(filepath.Clean(f.CodeUri)), "functions/"); ok && !strings.Contains(d, "/") {
		return d
	}
	return strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
}

// repoRoot is the directory holding go.mod, found upwards from the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// loadFunctions reads template.yaml's functions through yaml.Node, so CloudFormation tags (!Ref, !Sub,
// !GetAtt) are just tagged scalars and never break parsing.
func loadFunctions(t testing.TB, path string) []function {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		t.Fatalf("%s: not a single YAML document", path)
	}
	resources := child(doc.Content[0], "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		t.Fatalf("%s: no Resources mapping", path)
	}
	var fns []function
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, resources.Content[i+1]
		if scalar(child(res, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		props := child(res, "Properties")
		fn := function{LogicalID: id, CodeUri: scalar(child(props, "CodeUri")), EventTypes: map[string]bool{}}
		events := child(props, "Events")
		if events != nil && events.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(events.Content); j += 2 {
				name, ev := events.Content[j].Value, events.Content[j+1]
				typ := scalar(child(ev, "Type"))
				fn.EventTypes[typ] = true
				if typ != "HttpApi" {
					continue
				}
				r, err := httpRoute(name, child(ev, "Properties"))
				if err != nil {
					t.Fatalf("%s: %s.Events.%s: %v", path, id, name, err)
				}
				fn.Routes = append(fn.Routes, r)
			}
		}
		fns = append(fns, fn)
	}
	return fns
}

func httpRoute(name string, props *yaml.Node) (route, error) {
	method, p := scalar(child(props, "Method")), scalar(child(props, "Path"))
	if method == "" || p == "" {
		// An HttpApi event without Method and Path is the catch-all $default route.
		if method == "" && p == "" {
			return route{Event: name, Key: "$default"}, nil
		}
		return route{}, fmt.Errorf("Method and Path must both be plain strings")
	}
	public := scalar(child(child(props, "Auth"), "Authorizer")) == "NONE"
	method = strings.ToUpper(method)
	return route{Event: name, Key: method + " " + p, Public: public}, nil
}

// child returns the value under key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar is the value of a plain (untagged) scalar, or "" for anything else, e.g. a !Ref.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "" && !strings.HasPrefix(n.Tag, "!!")) {
		return ""
	}
	return n.Value
}

func TestTemplateParses(t *testing.T) {
	fns := loadFunctions(t, filepath.Join(repoRoot(t), "template.yaml"))
	if len(fns) == 0 {
		t.Fatal("template.yaml declares no AWS::Serverless::Function")
	}
	for _, fn := range fns {
		if _, err := os.Stat(filepath.Join(repoRoot(t), "functions", fn.Dir(), "main.go")); err != nil {
			t.Errorf("%s: functions/%s/main.go: %v", fn.LogicalID, fn.Dir(), err)
		}
		for _, r := range fn.Routes {
			t.Logf("%s %s (public=%v)", fn.LogicalID, r.Key, r.Public)
		}
	}
}
