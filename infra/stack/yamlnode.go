package stack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// deref follows YAML aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value of key in mapping n, or nil when n is not a mapping or has no such key.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// path walks nested mappings: path(n, "Auth", "Authorizer").
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
	}
	return n
}

// pairs calls fn for each key/value of mapping n, in document order.
func pairs(n *yaml.Node, fn func(key string, value *yaml.Node) error) error {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if err := fn(n.Content[i].Value, deref(n.Content[i+1])); err != nil {
			return err
		}
	}
	return nil
}

// items returns the elements of sequence n (nil for nil), or an error for anything else.
func items(n *yaml.Node) ([]*yaml.Node, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode || hasCustomTag(n) {
		return nil, fmt.Errorf("line %d: want a list", n.Line)
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, nil
}

// hasCustomTag reports a local tag such as !Ref, as opposed to YAML's own !!str, !!int, ...
func hasCustomTag(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

// isLiteral reports a plain scalar: no intrinsic function.
func isLiteral(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && !hasCustomTag(n)
}

// text is a plain scalar's value, with YAML null (~, or nothing at all) as "".
func text(n *yaml.Node) string {
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// literal returns the text of a plain scalar; field names the property in errors.
func literal(n *yaml.Node, field string) (string, error) {
	n = deref(n)
	if n == nil {
		return "", nil
	}
	if !isLiteral(n) {
		return "", fmt.Errorf("line %d: %s: want a plain value", n.Line, field)
	}
	return text(n), nil
}

// strs returns a list of plain strings; a single scalar counts as a list of one.
func strs(n *yaml.Node, field string) ([]string, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if isLiteral(n) {
		return []string{text(n)}, nil
	}
	elems, err := items(n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, err := literal(e, field)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// scalarJSON returns a string property that some templates write as a YAML mapping instead (event
// patterns, schedule inputs): strings are kept byte for byte, structures are encoded as compact JSON.
func scalarJSON(n *yaml.Node, field string) (string, error) {
	n = deref(n)
	if n == nil {
		return "", nil
	}
	if isLiteral(n) {
		return text(n), nil
	}
	if hasCustomTag(n) {
		return "", fmt.Errorf("line %d: %s: intrinsic functions are not supported here", n.Line, field)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return "", fmt.Errorf("line %d: %s: %w", n.Line, field, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("line %d: %s: %w", n.Line, field, err)
	}
	return string(b), nil
}

// merge applies SAM's Globals rules: mappings merge key by key (recursively), lists are concatenated
// (global entries first), and anything else, intrinsics included, is replaced by the resource's own value.
func merge(global, own *yaml.Node) *yaml.Node {
	global, own = deref(global), deref(own)
	switch {
	case global == nil:
		return own
	case own == nil:
		return global
	case global.Kind == yaml.MappingNode && own.Kind == yaml.MappingNode && !isIntrinsicMap(global) && !isIntrinsicMap(own):
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: own.Tag, Line: own.Line, Column: own.Column}
		seen := map[string]bool{}
		for i := 0; i+1 < len(global.Content); i += 2 {
			k := global.Content[i].Value
			seen[k] = true
			out.Content = append(out.Content, global.Content[i], merge(global.Content[i+1], get(own, k)))
		}
		for i := 0; i+1 < len(own.Content); i += 2 {
			if !seen[own.Content[i].Value] {
				out.Content = append(out.Content, own.Content[i], own.Content[i+1])
			}
		}
		return out
	case global.Kind == yaml.SequenceNode && own.Kind == yaml.SequenceNode && !hasCustomTag(global) && !hasCustomTag(own):
		out := *own
		out.Content = append(append([]*yaml.Node{}, global.Content...), own.Content...)
		return &out
	default:
		return own
	}
}

// isIntrinsicMap reports the long form of an intrinsic: a mapping with the single key Ref or Fn::*.
func isIntrinsicMap(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return false
	}
	k := n.Content[0].Value
	return k == "Ref" || strings.HasPrefix(k, "Fn::")
}

// parseBool accepts CloudFormation's spellings of booleans (true, "true", True, ...).
func parseBool(s string, line int, field string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("line %d: %s: %q is not a boolean", line, field, s)
	}
	return b, nil
}
