package stack

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the part of a SAM template the local stack needs. Maps are keyed by logical id.
type Template struct {
	Parameters map[string]Parameter
	Functions  map[string]Function
	HTTPAPIs   map[string]HTTPAPI
	Tables     map[string]Table
	Buckets    map[string]Bucket
	Queues     map[string]Queue
	// Other maps the logical ids of resources this package does not model to their types.
	Other map[string]string

	// conditions holds the Conditions section unevaluated: conditions depend on parameter values.
	conditions map[string]*yaml.Node
}

// Parameter is a template parameter. To use a value other than the default locally, set Default before
// calling Create.
type Parameter struct {
	Name        string
	Type        string
	Default     string
	HasDefault  bool
	Description string
}

// IsList reports a list-typed parameter (CommaDelimitedList, List<...>), whose !Ref is a list.
func (p Parameter) IsList() bool {
	return p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<")
}

// Load reads and parses the SAM template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a SAM template.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || deref(doc.Content[0]).Kind != yaml.MappingNode {
		return nil, errors.New("parse template: want a YAML mapping at the top")
	}
	root := deref(doc.Content[0])
	t := &Template{
		Parameters: map[string]Parameter{},
		Functions:  map[string]Function{},
		HTTPAPIs:   map[string]HTTPAPI{},
		Tables:     map[string]Table{},
		Buckets:    map[string]Bucket{},
		Queues:     map[string]Queue{},
		Other:      map[string]string{},
		conditions: map[string]*yaml.Node{},
	}
	if err := t.parseParameters(get(root, "Parameters")); err != nil {
		return nil, fmt.Errorf("parse parameters: %w", err)
	}
	err := pairs(get(root, "Conditions"), func(name string, n *yaml.Node) error {
		t.conditions[name] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parse conditions: %w", err)
	}
	if err := t.parseResources(get(root, "Resources"), get(root, "Globals")); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Template) parseParameters(n *yaml.Node) error {
	return pairs(n, func(name string, pn *yaml.Node) error {
		p := Parameter{Name: name}
		var err error
		if p.Type, err = literal(get(pn, "Type"), name+".Type"); err != nil {
			return err
		}
		if p.Description, err = literal(get(pn, "Description"), name+".Description"); err != nil {
			return err
		}
		if d := get(pn, "Default"); d != nil {
			// A list default may be written as a YAML list; CloudFormation's string form is comma-joined.
			vals, err := strs(d, name+".Default")
			if err != nil {
				return err
			}
			p.HasDefault = true
			p.Default = strings.Join(vals, ",")
		}
		t.Parameters[name] = p
		return nil
	})
}

// parseResources parses functions last: their events refer to the HTTP APIs.
func (t *Template) parseResources(resources, globals *yaml.Node) error {
	type fnNode struct {
		id    string
		res   *yaml.Node
		props *yaml.Node
	}
	var fns []fnNode
	err := pairs(resources, func(id string, res *yaml.Node) error {
		typ, err := literal(get(res, "Type"), id+".Type")
		if err != nil {
			return err
		}
		props := get(res, "Properties")
		switch typ {
		case "AWS::Serverless::Function":
			fns = append(fns, fnNode{id: id, res: res, props: props})
		case "AWS::Serverless::HttpApi":
			api, err := t.parseHTTPAPI(id, merge(get(globals, "HttpApi"), props))
			if err != nil {
				return fmt.Errorf("parse http api %s: %w", id, err)
			}
			t.HTTPAPIs[id] = api
		case "AWS::DynamoDB::Table":
			tbl, err := t.parseTable(id, res, props)
			if err != nil {
				return fmt.Errorf("parse table %s: %w", id, err)
			}
			t.Tables[id] = tbl
		case "AWS::S3::Bucket":
			b, err := t.parseBucket(id, res, props)
			if err != nil {
				return fmt.Errorf("parse bucket %s: %w", id, err)
			}
			t.Buckets[id] = b
		case "AWS::SQS::Queue":
			q, err := t.parseQueue(id, res, props)
			if err != nil {
				return fmt.Errorf("parse queue %s: %w", id, err)
			}
			t.Queues[id] = q
		default:
			t.Other[id] = typ
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("parse resources: %w", err)
	}
	for _, f := range fns {
		fn, err := t.parseFunction(f.id, f.res, merge(get(globals, "Function"), f.props), get(globals, "HttpApi"))
		if err != nil {
			return fmt.Errorf("parse function %s: %w", f.id, err)
		}
		t.Functions[f.id] = fn
	}
	return nil
}

// plain returns a property the runner needs as plain data: a literal, or a !Ref to a parameter, which is
// replaced by the parameter's default. ok is false when the property is absent.
func (t *Template) plain(n *yaml.Node, field string) (s string, ok bool, err error) {
	n = deref(n)
	if n == nil {
		return "", false, nil
	}
	if isLiteral(n) {
		return text(n), true, nil
	}
	if name, arg, isFn := intrinsic(n); isFn && name == "Ref" && isLiteral(arg) {
		if p, found := t.Parameters[arg.Value]; found && p.HasDefault {
			return p.Default, true, nil
		}
	}
	return "", false, fmt.Errorf("line %d: %s: want a value or a !Ref to a parameter with a default", n.Line, field)
}

// plainString is plain with "" for an absent property.
func (t *Template) plainString(n *yaml.Node, field string) (string, error) {
	s, _, err := t.plain(n, field)
	return s, err
}

// plainInt reads an integer property, def when absent.
func (t *Template) plainInt(n *yaml.Node, field string, def int) (int, error) {
	s, ok, err := t.plain(n, field)
	if err != nil || !ok {
		return def, err
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("line %d: %s: %q is not an integer", n.Line, field, s)
	}
	return i, nil
}

// plainIntPtr reads an optional integer property: nil when absent, so "not declared" differs from 0.
func (t *Template) plainIntPtr(n *yaml.Node, field string) (*int, error) {
	if deref(n) == nil {
		return nil, nil
	}
	i, err := t.plainInt(n, field, 0)
	if err != nil {
		return nil, err
	}
	return &i, nil
}

// plainBool reads a boolean property, def when absent.
func (t *Template) plainBool(n *yaml.Node, field string, def bool) (bool, error) {
	s, ok, err := t.plain(n, field)
	if err != nil || !ok {
		return def, err
	}
	return parseBool(s, n.Line, field)
}

// condition returns the resource's Condition attribute: the resource exists only when it holds.
func condition(res *yaml.Node, id string) (string, error) {
	return literal(get(res, "Condition"), id+".Condition")
}
