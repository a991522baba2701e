package stack

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Value is a template scalar that may be a CloudFormation intrinsic function. One of the fields is set
// (Sub may come with SubVars); a Value with none set is the literal empty string. Resolve it with
// Resources.Resolve.
type Value struct {
	// Literal is a plain value.
	Literal string
	// Ref names a parameter, pseudo parameter (AWS::Region, ...) or resource: !Ref Table.
	Ref string
	// GetAtt is "Resource.Attribute": !GetAtt Table.StreamArn or !GetAtt [Table, StreamArn].
	GetAtt string
	// Sub is the template string of !Sub, with SubVars the variables of its two-argument form.
	Sub     string
	SubVars map[string]Value
	// Join is !Join [delimiter, [values]].
	Join *Join
	// If is !If [condition, then, else].
	If *If
	// Other names an intrinsic function this package does not evaluate (e.g. "Fn::ImportValue"); such
	// a Value never resolves.
	Other string
}

// Join is the argument of !Join. An element may be a list (a !Ref to a CommaDelimitedList parameter).
type Join struct {
	Delimiter string
	Values    []Value
}

// If is the argument of !If: Then when the named condition holds, else Else.
type If struct {
	Condition  string
	Then, Else Value
}

// IsLiteral reports a plain value, no intrinsic function.
func (v Value) IsLiteral() bool {
	return v.Ref == "" && v.GetAtt == "" && v.Sub == "" && v.SubVars == nil && v.Join == nil && v.If == nil && v.Other == ""
}

// String renders v in short form, for messages: "!Ref Table", "!GetAtt Table.Arn", or the literal.
func (v Value) String() string {
	switch {
	case v.Ref != "":
		return "!Ref " + v.Ref
	case v.GetAtt != "":
		return "!GetAtt " + v.GetAtt
	case v.Sub != "" || v.SubVars != nil:
		return fmt.Sprintf("!Sub %q", v.Sub)
	case v.Join != nil:
		return fmt.Sprintf("!Join [%q, %v]", v.Join.Delimiter, v.Join.Values)
	case v.If != nil:
		return fmt.Sprintf("!If [%s, %v, %v]", v.If.Condition, v.If.Then, v.If.Else)
	case v.Other != "":
		return v.Other + " (unsupported)"
	default:
		return v.Literal
	}
}

// intrinsic recognises an intrinsic function in short (!Name arg) or long ({Fn::Name: arg}) form and
// returns its long name (Ref, Condition, Fn::GetAtt, ...) and argument node.
func intrinsic(n *yaml.Node) (name string, arg *yaml.Node, ok bool) {
	n = deref(n)
	if n == nil {
		return "", nil, false
	}
	if hasCustomTag(n) {
		switch tag := n.Tag[1:]; tag {
		case "Ref", "Condition":
			name = tag
		default:
			name = "Fn::" + tag
		}
		untagged := *n
		untagged.Tag = ""
		return name, &untagged, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		if k := n.Content[0].Value; k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, deref(n.Content[1]), true
		}
	}
	return "", nil, false
}

// parseValue reads a scalar property that may be an intrinsic function.
func parseValue(n *yaml.Node) (Value, error) {
	n = deref(n)
	if n == nil {
		return Value{}, nil
	}
	name, arg, ok := intrinsic(n)
	if !ok {
		if n.Kind != yaml.ScalarNode {
			return Value{}, fmt.Errorf("line %d: want a value or an intrinsic function", n.Line)
		}
		return Value{Literal: text(n)}, nil
	}
	switch name {
	case "Ref":
		s, err := literal(arg, "Ref")
		return Value{Ref: s}, err
	case "Fn::GetAtt":
		return parseGetAtt(arg)
	case "Fn::Sub":
		return parseSub(arg)
	case "Fn::Join":
		return parseJoin(arg)
	case "Fn::If":
		return parseIf(arg)
	case "Condition":
		return Value{}, fmt.Errorf("line %d: Condition is not a value", n.Line)
	default:
		return Value{Other: name}, nil
	}
}

// parseValues reads a list property whose elements may be intrinsics. A single intrinsic in place of the
// list (AllowedOrigins: !Ref Origins) becomes a one-element slice; ResolveList expands it.
func parseValues(n *yaml.Node) ([]Value, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode || hasCustomTag(n) {
		v, err := parseValue(n)
		if err != nil {
			return nil, err
		}
		return []Value{v}, nil
	}
	out := make([]Value, 0, len(n.Content))
	for _, c := range n.Content {
		v, err := parseValue(c)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseGetAtt(arg *yaml.Node) (Value, error) {
	if arg.Kind == yaml.ScalarNode {
		res, attr, ok := strings.Cut(arg.Value, ".")
		if !ok || res == "" || attr == "" {
			return Value{}, fmt.Errorf("line %d: GetAtt %q: want Resource.Attribute", arg.Line, arg.Value)
		}
		return Value{GetAtt: arg.Value}, nil
	}
	elems, err := items(arg)
	if err != nil || len(elems) != 2 {
		return Value{}, fmt.Errorf("line %d: GetAtt: want [Resource, Attribute]", arg.Line)
	}
	res, err := literal(elems[0], "GetAtt")
	if err != nil {
		return Value{}, err
	}
	attr, err := literal(elems[1], "GetAtt")
	if err != nil {
		return Value{}, err
	}
	return Value{GetAtt: res + "." + attr}, nil
}

func parseSub(arg *yaml.Node) (Value, error) {
	if arg.Kind == yaml.ScalarNode {
		return Value{Sub: arg.Value, SubVars: nil}, nil
	}
	elems, err := items(arg)
	if err != nil || len(elems) != 2 {
		return Value{}, fmt.Errorf("line %d: Sub: want a string or [string, {variables}]", arg.Line)
	}
	tmpl, err := literal(elems[0], "Sub")
	if err != nil {
		return Value{}, err
	}
	vars := map[string]Value{}
	err = pairs(elems[1], func(k string, vn *yaml.Node) error {
		v, err := parseValue(vn)
		vars[k] = v
		return err
	})
	if err != nil {
		return Value{}, fmt.Errorf("Sub variables: %w", err)
	}
	return Value{Sub: tmpl, SubVars: vars}, nil
}

func parseJoin(arg *yaml.Node) (Value, error) {
	elems, err := items(arg)
	if err != nil || len(elems) != 2 {
		return Value{}, fmt.Errorf("line %d: Join: want [delimiter, [values]]", arg.Line)
	}
	delim, err := literal(elems[0], "Join delimiter")
	if err != nil {
		return Value{}, err
	}
	vals, err := parseValues(elems[1])
	if err != nil {
		return Value{}, fmt.Errorf("Join: %w", err)
	}
	return Value{Join: &Join{Delimiter: delim, Values: vals}}, nil
}

func parseIf(arg *yaml.Node) (Value, error) {
	elems, err := items(arg)
	if err != nil || len(elems) != 3 {
		return Value{}, fmt.Errorf("line %d: If: want [condition, then, else]", arg.Line)
	}
	cond, err := literal(elems[0], "If condition")
	if err != nil {
		return Value{}, err
	}
	then, err := parseValue(elems[1])
	if err != nil {
		return Value{}, fmt.Errorf("If: %w", err)
	}
	els, err := parseValue(elems[2])
	if err != nil {
		return Value{}, fmt.Errorf("If: %w", err)
	}
	return Value{If: &If{Condition: cond, Then: then, Else: els}}, nil
}
