package arch

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/apidoc"
)

// apiPrefix is what the OpenAPI document describes: the /v1 API. The console's static files are not an
// API, and Open311 (/open311/v2/) follows its own specification.
const apiPrefix = "/v1/"

// openapiDoc is the part of the document these tests read.
type openapiDoc struct {
	Paths map[string]map[string]struct {
		Security  []map[string][]string      `json:"security"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"paths"`
}

func loadDoc(t *testing.T) openapiDoc {
	t.Helper()
	var doc openapiDoc
	if err := json.Unmarshal(apidoc.Document(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// servedRoute is a route a function's router serves, with the template's authorizer for it.
type servedRoute struct {
	function, authorizer string
}

// servedRoutes builds every HTTP function (httpFunctions, as TestTemplateRoutesEqualRouterRoutes does) and
// returns its router's routes under apiPrefix, by "METHOD /path", with the template's authorizer.
func servedRoutes(t *testing.T) map[string]servedRoute {
	t.Helper()
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TABLE_NAME": "t", "BUCKET_NAME": "b", "CITY_TZ": "Asia/Shanghai",
		"OUTBOX_QUEUE_URL": "http://127.0.0.1/q", "OUTBOX_DLQ_URL": "http://127.0.0.1/dlq"}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	out := map[string]servedRoute{}
	for _, fn := range tpl.Functions {
		build, ok := httpFunctions[fn.LogicalID]
		if !ok {
			continue // TestTemplateRoutesEqualRouterRoutes names functions it cannot build
		}
		authorizer := map[string]string{}
		for _, ev := range fn.HTTPAPIEvents {
			authorizer[ev.Method+" "+ev.Path] = ev.Authorizer
		}
		b, err := platform.New(func(k string) string { return env[k] }, aws.Config{Region: "us-east-1"}, log)
		if err != nil {
			t.Fatal(err)
		}
		f, err := build(b)
		if err != nil {
			t.Fatalf("build %s: %v", fn.LogicalID, err)
		}
		for _, r := range f.Routes() {
			if strings.HasPrefix(r.Path, apiPrefix) {
				out[r.String()] = servedRoute{function: fn.LogicalID, authorizer: authorizer[r.String()]}
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d /v1 routes: is httpFunctions complete?", len(out))
	}
	return out
}

// The document and the routers name the same routes: a route the functions serve but the document leaves
// out is a contract the clients do not have, and a route only in the document cannot be called. Each
// route's security matches the template's authorizer: an open route (NONE) is public or signed, every
// other one needs the bearer token and names the roles it admits.
func TestOpenAPIDocumentNamesEveryRoute(t *testing.T) {
	doc := loadDoc(t)
	served := servedRoutes(t)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			r, ok := served[key]
			if !ok {
				t.Errorf("the document names %s, which no function's router serves", key)
				continue
			}
			var schemes []string
			for _, req := range op.Security {
				for name, roles := range req {
					schemes = append(schemes, name)
					if name == "bearer" && len(roles) == 0 {
						t.Errorf("%s: the bearer requirement names no role (cognito:groups)", key)
					}
				}
			}
			public := len(schemes) == 0 || slices.Equal(schemes, []string{"departmentSignature"})
			if open := r.authorizer == "NONE"; open != public {
				t.Errorf("%s: template.yaml's authorizer is %q but the document's security is %v", key, r.authorizer, op.Security)
			}
		}
	}
	for key, r := range served {
		if !documented[key] {
			t.Errorf("%s (%s) is served but missing from shared/apidoc/openapi.json", key, r.function)
		}
	}
}

// The document is a valid OpenAPI 3.1 document (checked against the specification's own schema, with
// every $ref resolved).
func TestOpenAPIDocumentIsValid(t *testing.T) {
	d, err := libopenapi.NewDocument(apidoc.Document())
	if err != nil {
		t.Fatal(err)
	}
	if v := d.GetVersion(); v != "3.1.0" {
		t.Errorf("version %s, want 3.1.0", v)
	}
	model, err := d.BuildV3Model()
	if err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s (line %d)", se.Reason, se.KeywordLocation, se.Line)
			}
		}
	}

	// The document's meta-schema check does not compile the JSON Schemas inside it: compile each one (a
	// schema the validator cannot compile fails every exchange that meets it).
	sv := schema_validation.NewSchemaValidator()
	compiles := func(where string, proxy *base.SchemaProxy) {
		if proxy == nil {
			return
		}
		sch := proxy.Schema()
		if sch == nil {
			t.Errorf("%s: the schema does not resolve: %v", where, proxy.GetBuildError())
			return
		}
		_, errs := sv.ValidateSchemaString(sch, "null")
		for _, e := range errs {
			if e.Message == "schema compilation failed" {
				t.Errorf("%s: %s", where, e.Reason)
			}
		}
	}
	n := 0
	for pair := model.Model.Components.Schemas.First(); pair != nil; pair = pair.Next() {
		compiles("components/schemas/"+pair.Key(), pair.Value())
		n++
	}
	for path := model.Model.Paths.PathItems.First(); path != nil; path = path.Next() {
		for op := path.Value().GetOperations().First(); op != nil; op = op.Next() {
			where := op.Key() + " " + path.Key()
			if rb := op.Value().RequestBody; rb != nil {
				for mt := rb.Content.First(); mt != nil; mt = mt.Next() {
					compiles(where+" request", mt.Value().Schema)
					n++
				}
			}
			for code := op.Value().Responses.Codes.First(); code != nil; code = code.Next() {
				if code.Value().Content == nil {
					continue
				}
				for mt := code.Value().Content.First(); mt != nil; mt = mt.Next() {
					compiles(where+" "+code.Key(), mt.Value().Schema)
					n++
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("compiled only %d schemas", n)
	}
}

// statusOfKind is shared/httpapi's mapping from apperr kinds to HTTP statuses.
var statusOfKind = map[string]string{
	"Invalid": "400", "Unauthenticated": "401", "Forbidden": "403", "NotFound": "404", "Conflict": "409",
	"TooLarge": "413", "Unprocessable": "422", "Unavailable": "503",
}

// notAnswered are error codes defined in the code that no /v1 route answers, and why.
var notAnswered = map[string]string{
	"already_applied":     "points: a repeated award in the stream consumer, never an HTTP answer",
	"version_conflict":    "points: retried inside the stream consumer",
	"already_handled":     "dispatch/casework: answered as invalid_transition or as a replay",
	"invalid_webhook_url": "a department's webhookUrl is refused as invalid_config; notify records it on the delivery",
	"egress_refused":      "as invalid_webhook_url",
	"invalid_body":        "report.ErrInvalidBody is defined but never returned",
}

// Every error code the code base can answer is in the document, under the status its kind maps to, and
// every code the document names exists: a new code cannot reach clients undocumented, nor a removed one
// linger in the contract.
func TestOpenAPIDocumentListsEveryErrorCode(t *testing.T) {
	defined := definedCodes(t)
	documented := map[string]map[string]bool{} // code → statuses
	var walk func(status string, v any)
	walk = func(status string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if code, ok := v["code"].(map[string]any); ok {
				if enum, ok := code["enum"].([]any); ok {
					for _, c := range enum {
						s, _ := c.(string)
						if documented[s] == nil {
							documented[s] = map[string]bool{}
						}
						documented[s][status] = true
					}
				}
			}
			for _, x := range v {
				walk(status, x)
			}
		case []any:
			for _, x := range v {
				walk(status, x)
			}
		}
	}
	var raw struct {
		Paths      map[string]map[string]struct{ Responses map[string]any } `json:"paths"`
		Components struct{ Responses map[string]any }                       `json:"components"`
	}
	if err := json.Unmarshal(apidoc.Document(), &raw); err != nil {
		t.Fatal(err)
	}
	componentStatus := map[string]string{} // components/responses name → the status it is used under
	for _, ops := range raw.Paths {
		for _, op := range ops {
			for status, r := range op.Responses {
				if m, ok := r.(map[string]any); ok {
					if ref, ok := m["$ref"].(string); ok {
						componentStatus[strings.TrimPrefix(ref, "#/components/responses/")] = status
						continue
					}
				}
				walk(status, r)
			}
		}
	}
	for name, r := range raw.Components.Responses {
		walk(componentStatus[name], r)
	}
	for code, d := range defined {
		if _, skip := notAnswered[code]; skip {
			continue
		}
		statuses := documented[code]
		if statuses == nil {
			if d.required {
				t.Errorf("error code %s (%v) is answered by the API but no response of the document lists it", code, d.kinds)
			}
			continue
		}
		for st := range statuses {
			ok := false
			for _, k := range d.kinds {
				ok = ok || statusOfKind[k] == st
			}
			if !ok {
				t.Errorf("the document lists %s under %s, but its kinds %v map to other statuses", code, st, d.kinds)
			}
		}
	}
	for code := range documented {
		if _, ok := defined[code]; !ok && code != "internal" {
			t.Errorf("the document lists error code %s, which the code base does not define", code)
		}
		if _, ok := notAnswered[code]; ok {
			t.Errorf("error code %s is both documented and listed as not answered", code)
		}
	}
}

// definedCode is an error code the code base defines.
type definedCode struct {
	kinds []string // its apperr kinds
	// required: defined outside Open311's sources (open311 packages and open311.go files), whose errors
	// answer /open311/v2/ in the GeoReport shape, so the /v1 document must list it
	required bool
}

// definedCodes finds every apperr.New / apperr.Newf call and apperr.Error literal with a literal code in
// the non-test sources of shared/ and functions/, and returns each code's kinds (Internal errors answer
// "internal" and are left out).
func definedCodes(t *testing.T) map[string]definedCode {
	t.Helper()
	out := map[string]definedCode{}
	var open311 bool // the file is Open311's
	add := func(kind ast.Expr, code ast.Expr) {
		lit, ok := code.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		c, err := strconv.Unquote(lit.Value)
		if err != nil {
			return
		}
		var k string
		switch e := kind.(type) {
		case *ast.SelectorExpr:
			k = e.Sel.Name
		case *ast.Ident:
			k = e.Name
		}
		if k == "" || k == "Internal" {
			return
		}
		d := out[c]
		if !slices.Contains(d.kinds, k) {
			d.kinds = append(d.kinds, k)
		}
		d.required = d.required || !open311
		out[c] = d
	}
	fset := token.NewFileSet()
	for _, root := range []string{"../../shared", "../../functions"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			open311 = strings.Contains(filepath.ToSlash(path), "/open311/") || d.Name() == "open311.go"
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) >= 2 && (sel.Sel.Name == "New" || sel.Sel.Name == "Newf") {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "apperr" {
							add(n.Args[0], n.Args[1])
						}
					}
				case *ast.CompositeLit:
					if isAppErr(f, n.Type) {
						var kind, code ast.Expr
						for _, el := range n.Elts {
							kv, ok := el.(*ast.KeyValueExpr)
							if !ok {
								continue
							}
							if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Kind" {
								kind = kv.Value
							} else if ok && key.Name == "Code" {
								code = kv.Value
							}
						}
						add(kind, code)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 40 || out["write_conflict"].kinds == nil {
		t.Fatalf("found only %d error codes (write_conflict: %v): is the search wrong?", len(out), out["write_conflict"])
	}
	return out
}

// isAppErr reports whether typ is apperr.Error (or Error inside package apperr, whose transient errors are
// &Error{…} literals).
func isAppErr(f *ast.File, typ ast.Expr) bool {
	switch e := typ.(type) {
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && x.Name == "apperr" && e.Sel.Name == "Error"
	case *ast.Ident:
		return f.Name.Name == "apperr" && e.Name == "Error"
	}
	return false
}

// The validator is test code: no Lambda binary may link it (it would add megabytes and init time to every
// cold start of the function that serves the document).
func TestNoFunctionLinksTheValidator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc,timetzdata", "github.com/civicsnap/civicsnap/functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/pb33f/") {
			t.Errorf("a function links %s", p)
		}
	}
}
