package eventfilter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
)

// MaxPatternLength is Lambda's limit on the length of one filter pattern.
const MaxPatternLength = 4096

// ErrInvalidPattern is wrapped by every error Compile returns.
var ErrInvalidPattern = errors.New("invalid filter pattern")

// Pattern is a compiled filter pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	src  string
	root *object
}

// object is a pattern object: every field rule and every $or group must match.
type object struct {
	fields []field
	ors    [][]*object
}

// field is one key of a pattern object: either a nested object or a list of leaf rules (an OR).
type field struct {
	key    string
	nested *object
	rules  []rule
}

// Compile parses a filter pattern.
func Compile(pattern string) (*Pattern, error) {
	if len(pattern) > MaxPatternLength {
		return nil, fmt.Errorf("%w: %d characters, at most %d", ErrInvalidPattern, len(pattern), MaxPatternLength)
	}
	v, err := decode([]byte(pattern))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPattern, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: want a JSON object", ErrInvalidPattern)
	}
	root, err := compileObject(m, "")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPattern, err)
	}
	return &Pattern{src: pattern, root: root}, nil
}

// CompileAll compiles the patterns of one FilterCriteria.
func CompileAll(patterns []string) ([]*Pattern, error) {
	out := make([]*Pattern, 0, len(patterns))
	for i, s := range patterns {
		p, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// String returns the pattern as it was given to Compile.
func (p *Pattern) String() string { return p.src }

// decode parses JSON keeping numbers as json.Number, so literal numbers compare by their text, and
// rejects trailing data.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func compileObject(m map[string]any, path string) (*object, error) {
	obj := &object{}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		at := join(path, key)
		if key == "$or" {
			alts, err := compileOr(m[key], at)
			if err != nil {
				return nil, err
			}
			obj.ors = append(obj.ors, alts)
			continue
		}
		switch v := m[key].(type) {
		case map[string]any:
			nested, err := compileObject(v, at)
			if err != nil {
				return nil, err
			}
			obj.fields = append(obj.fields, field{key: key, nested: nested})
		case []any:
			rules, err := compileRules(v, at)
			if err != nil {
				return nil, err
			}
			obj.fields = append(obj.fields, field{key: key, rules: rules})
		default:
			return nil, fmt.Errorf("%s: want an array of rules or an object, got %s", at, describe(v))
		}
	}
	return obj, nil
}

func compileOr(v any, path string) ([]*object, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s: want a non-empty array of objects", path)
	}
	alts := make([]*object, 0, len(list))
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want an object, got %s", path, i, describe(el))
		}
		alt, err := compileObject(m, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		alts = append(alts, alt)
	}
	return alts, nil
}

func compileRules(list []any, path string) ([]rule, error) {
	rules := make([]rule, 0, len(list))
	for i, el := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		switch v := el.(type) {
		case nil, string, bool, json.Number:
			rules = append(rules, literalRule{v})
		case map[string]any:
			r, err := compileOperator(v, at)
			if err != nil {
				return nil, err
			}
			rules = append(rules, r)
		default:
			return nil, fmt.Errorf("%s: want a literal or an operator object, got %s", at, describe(v))
		}
	}
	return rules, nil
}

func compileOperator(m map[string]any, path string) (rule, error) {
	if len(m) != 1 {
		return nil, fmt.Errorf("%s: an operator object has exactly one key, got %d", path, len(m))
	}
	var op string
	var arg any
	for k, v := range m {
		op, arg = k, v
	}
	at := path + "." + op
	switch op {
	case "prefix", "suffix":
		return compileAffix(op, arg, at)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a string, got %s", at, describe(arg))
		}
		return ignoreCaseRule{s}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a string, got %s", at, describe(arg))
		}
		return compileWildcard(s, at)
	case "anything-but":
		return compileAnythingBut(arg, at)
	case "numeric":
		return compileNumeric(arg, at)
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: want true or false, got %s", at, describe(arg))
		}
		return existsRule(b), nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a string, got %s", at, describe(arg))
		}
		prefix, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", at, err)
		}
		return cidrRule{prefix.Masked()}, nil
	default:
		return nil, fmt.Errorf("%s: unknown operator %q", path, op)
	}
}

// compileAffix compiles prefix and suffix, each with a string or {"equals-ignore-case": string}.
func compileAffix(op string, arg any, path string) (rule, error) {
	suffix := op == "suffix"
	switch v := arg.(type) {
	case string:
		return affixRule{affix: v, suffix: suffix}, nil
	case map[string]any:
		s, ok := v["equals-ignore-case"].(string)
		if len(v) != 1 || !ok {
			return nil, fmt.Errorf("%s: want a string or {\"equals-ignore-case\": string}", path)
		}
		return affixRule{affix: s, suffix: suffix, ignoreCase: true}, nil
	default:
		return nil, fmt.Errorf("%s: want a string, got %s", path, describe(arg))
	}
}

func compileAnythingBut(arg any, path string) (rule, error) {
	switch v := arg.(type) {
	case string, json.Number:
		return anythingBut{not: literalRule{v}}, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: want a non-empty list", path)
		}
		var strs, nums int
		alts := make(anyOf, 0, len(v))
		for _, el := range v {
			switch el.(type) {
			case string:
				strs++
			case json.Number:
				nums++
			default:
				return nil, fmt.Errorf("%s: want strings or numbers, got %s", path, describe(el))
			}
			alts = append(alts, literalRule{el})
		}
		if strs > 0 && nums > 0 {
			return nil, fmt.Errorf("%s: want all strings or all numbers, not both", path)
		}
		return anythingBut{not: alts}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("%s: want one of prefix, suffix, equals-ignore-case, wildcard", path)
		}
		for op, inner := range v {
			at := path + "." + op
			switch op {
			case "prefix", "suffix":
				s, ok := inner.(string)
				if !ok {
					return nil, fmt.Errorf("%s: want a string, got %s", at, describe(inner))
				}
				return anythingBut{not: affixRule{affix: s, suffix: op == "suffix"}, stringsOnly: true}, nil
			case "equals-ignore-case", "wildcard":
				list, err := stringOrList(inner, at)
				if err != nil {
					return nil, err
				}
				alts := make(anyOf, 0, len(list))
				for _, s := range list {
					if op == "wildcard" {
						w, err := compileWildcard(s, at)
						if err != nil {
							return nil, err
						}
						alts = append(alts, w)
					} else {
						alts = append(alts, ignoreCaseRule{s})
					}
				}
				return anythingBut{not: alts, stringsOnly: true}, nil
			default:
				return nil, fmt.Errorf("%s: unknown operator %q in anything-but", path, op)
			}
		}
	}
	return nil, fmt.Errorf("%s: want a string, number, list or operator object, got %s", path, describe(arg))
}

func stringOrList(v any, path string) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s: want a string or a non-empty list of strings", path)
	}
	out := make([]string, 0, len(list))
	for _, el := range list {
		s, ok := el.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want strings, got %s", path, describe(el))
		}
		out = append(out, s)
	}
	return out, nil
}

func compileNumeric(arg any, path string) (rule, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, fmt.Errorf("%s: want [op, number] or [op, number, op, number]", path)
	}
	var r numericRule
	var lower, upper, equal bool
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want an operator, got %s", path, i, describe(list[i]))
		}
		num, ok := list[i+1].(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a number, got %s", path, i+1, describe(list[i+1]))
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", path, i+1, err)
		}
		switch op {
		case "=":
			equal = true
		case ">", ">=":
			if lower {
				return nil, fmt.Errorf("%s: two lower bounds", path)
			}
			lower = true
		case "<", "<=":
			if upper {
				return nil, fmt.Errorf("%s: two upper bounds", path)
			}
			upper = true
		default:
			return nil, fmt.Errorf("%s[%d]: unknown numeric operator %q", path, i, op)
		}
		r = append(r, numericCond{op: op, value: f})
	}
	if equal && len(r) > 1 {
		return nil, fmt.Errorf("%s: \"=\" cannot be combined with another condition", path)
	}
	return r, nil
}

func compileWildcard(s, path string) (rule, error) {
	var segs []string // literal pieces between unescaped '*'
	var cur []rune
	escaped, prevStar := false, false
	for _, c := range s {
		switch {
		case escaped:
			if c != '*' && c != '\\' {
				return nil, fmt.Errorf("%s: %q: only \\* and \\\\ may be escaped", path, s)
			}
			cur = append(cur, c)
			escaped, prevStar = false, false
		case c == '\\':
			escaped = true
		case c == '*':
			if prevStar {
				return nil, fmt.Errorf("%s: %q: consecutive wildcard characters", path, s)
			}
			segs = append(segs, string(cur))
			cur = cur[:0]
			prevStar = true
		default:
			cur = append(cur, c)
			prevStar = false
		}
	}
	if escaped {
		return nil, fmt.Errorf("%s: %q ends in an unfinished escape", path, s)
	}
	segs = append(segs, string(cur))
	return wildcardRule{segs: segs}, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return "number " + string(v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
