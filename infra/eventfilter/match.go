package eventfilter

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
)

// Match reports whether the JSON event matches the pattern. An event that is not valid JSON matches
// nothing.
func (p *Pattern) Match(event []byte) bool {
	v, err := decode(event)
	if err != nil {
		return false
	}
	return p.MatchValue(v)
}

// MatchValue matches an event already decoded from JSON (map[string]any, []any, string, bool, nil and
// numbers). Numbers should be json.Number (json.Decoder.UseNumber) so literal numbers compare by their
// text; float64 and integer values are accepted and rendered in their shortest form.
func (p *Pattern) MatchValue(event any) bool {
	return p.root.match(event)
}

// MatchAny reports whether the JSON event matches at least one of the patterns, as Lambda applies a
// FilterCriteria: no patterns at all lets every event through.
func MatchAny(patterns []*Pattern, event []byte) bool {
	if len(patterns) == 0 {
		return true
	}
	v, err := decode(event)
	if err != nil {
		return false
	}
	return MatchAnyValue(patterns, v)
}

// MatchAnyValue is MatchAny for an event already decoded from JSON.
func MatchAnyValue(patterns []*Pattern, event any) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p.MatchValue(event) {
			return true
		}
	}
	return false
}

// match applies the object pattern to a value: an object directly, an array when one of its objects
// matches, anything else as if the fields were absent (so only "exists": false rules can hold).
func (o *object) match(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return o.matchMap(v)
	case []any:
		hasObject := false
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				hasObject = true
				if o.matchMap(m) {
					return true
				}
			}
		}
		return !hasObject && o.matchMap(nil)
	default:
		return o.matchMap(nil)
	}
}

func (o *object) matchMap(m map[string]any) bool {
	for _, f := range o.fields {
		v, present := m[f.key]
		if f.nested != nil {
			if !f.nested.match(v) {
				return false
			}
			continue
		}
		if !matchRules(f.rules, leaves(v, present, nil)) {
			return false
		}
	}
	for _, alts := range o.ors {
		ok := false
		for _, alt := range alts {
			if alt.matchMap(m) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// leaves returns the leaf values of a field: the value itself if it is a scalar (null included), the
// scalars of an array (nested arrays flattened), nothing for an absent field or an object.
func leaves(v any, present bool, out []any) []any {
	if !present {
		return out
	}
	switch v := v.(type) {
	case map[string]any:
		return out
	case []any:
		for _, el := range v {
			out = leaves(el, true, out)
		}
		return out
	default:
		return append(out, v)
	}
}

// matchRules reports whether any rule matches: exists rules look at whether there are leaf values, the
// others at each value.
func matchRules(rules []rule, vals []any) bool {
	for _, r := range rules {
		if e, ok := r.(existsRule); ok {
			if bool(e) == (len(vals) > 0) {
				return true
			}
			continue
		}
		for _, v := range vals {
			if r.matchValue(v) {
				return true
			}
		}
	}
	return false
}

// rule is one element of a leaf rule list.
type rule interface {
	matchValue(v any) bool
}

// literalRule is a literal: null, a string, a bool or a number (compared by its JSON text).
type literalRule struct{ v any }

func (r literalRule) matchValue(v any) bool {
	switch want := r.v.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == want
	case bool:
		b, ok := v.(bool)
		return ok && b == want
	case json.Number:
		text, ok := numberText(v)
		return ok && text == string(want)
	}
	return false
}

// anyOf matches when one of its rules does.
type anyOf []rule

func (r anyOf) matchValue(v any) bool {
	for _, el := range r {
		if el.matchValue(v) {
			return true
		}
	}
	return false
}

// anythingBut matches a value its inner rule does not; with stringsOnly (prefix, suffix, ignore-case and
// wildcard forms) only strings can match.
type anythingBut struct {
	not         rule
	stringsOnly bool
}

func (r anythingBut) matchValue(v any) bool {
	if _, isString := v.(string); r.stringsOnly && !isString {
		return false
	}
	return !r.not.matchValue(v)
}

type affixRule struct {
	affix      string
	suffix     bool
	ignoreCase bool
}

func (r affixRule) matchValue(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	affix := r.affix
	if r.ignoreCase {
		s, affix = strings.ToLower(s), strings.ToLower(affix)
	}
	if r.suffix {
		return strings.HasSuffix(s, affix)
	}
	return strings.HasPrefix(s, affix)
}

type ignoreCaseRule struct{ s string }

func (r ignoreCaseRule) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.EqualFold(s, r.s)
}

// wildcardRule holds the literal pieces between the '*' of a wildcard pattern.
type wildcardRule struct{ segs []string }

func (r wildcardRule) matchValue(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	segs := r.segs
	if len(segs) == 1 {
		return s == segs[0]
	}
	if !strings.HasPrefix(s, segs[0]) {
		return false
	}
	s = s[len(segs[0]):]
	for _, mid := range segs[1 : len(segs)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, segs[len(segs)-1])
}

type numericCond struct {
	op    string
	value float64
}

// numericRule holds one "=" or up to one lower and one upper bound; all must hold.
type numericRule []numericCond

func (r numericRule) matchValue(v any) bool {
	f, ok := numberValue(v)
	if !ok {
		return false
	}
	for _, c := range r {
		var holds bool
		switch c.op {
		case "=":
			holds = f == c.value
		case "<":
			holds = f < c.value
		case "<=":
			holds = f <= c.value
		case ">":
			holds = f > c.value
		case ">=":
			holds = f >= c.value
		}
		if !holds {
			return false
		}
	}
	return true
}

// existsRule is {"exists": true|false}; matchRules evaluates it on the whole field.
type existsRule bool

func (r existsRule) matchValue(any) bool { return bool(r) }

type cidrRule struct{ prefix netip.Prefix }

func (r cidrRule) matchValue(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && r.prefix.Contains(addr.Unmap())
}

// numberText returns the JSON text of a number value.
func numberText(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return string(n), true
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(n), 'f', -1, 32), true
	case int:
		return strconv.Itoa(n), true
	case int64:
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

func numberValue(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
