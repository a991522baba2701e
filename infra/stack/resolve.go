package stack

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resources are the physical resources Create made for a template, keyed by logical id, and what is
// needed to resolve the template's values against them.
type Resources struct {
	// Prefix is the name prefix Create was given; it also stands in for AWS::StackName.
	Prefix    string
	Region    string
	AccountID string
	// Parameters holds the parameter values in use (the defaults at the time of Create).
	Parameters map[string]string
	Tables     map[string]TableInfo
	Buckets    map[string]BucketInfo
	Queues     map[string]QueueInfo
	// Skipped lists template settings that moto rejected and Create therefore left out.
	Skipped []string

	tmpl *Template
}

// TableInfo is a created table. StreamARN is "" for a table without a stream.
type TableInfo struct {
	Name      string
	ARN       string
	StreamARN string
}

// BucketInfo is a created bucket.
type BucketInfo struct {
	Name string
	ARN  string
}

// QueueInfo is a created queue.
type QueueInfo struct {
	Name string
	URL  string
	ARN  string
}

// noValue is AWS::NoValue: a property that is to be left out.
const noValue = "AWS::NoValue"

// Resolve evaluates v: Ref of a parameter (its value), pseudo parameter, table or bucket (its name) or
// queue (its URL); GetAtt of Arn, StreamArn (tables), QueueUrl and QueueName (queues); Sub and Join of
// those; If on the template's conditions. ok is false when v refers to something that was not created
// (a Cognito pool, say) or uses an intrinsic this package does not evaluate.
func (r *Resources) Resolve(v Value) (string, bool) {
	s, omit, ok := r.resolve(v, 0)
	return s, ok && !omit
}

// ResolveList evaluates a list property: each element is resolved, and a !Ref to a list parameter
// (CommaDelimitedList) contributes its comma-separated items.
func (r *Resources) ResolveList(vs []Value) ([]string, bool) {
	var out []string
	for _, v := range vs {
		if r.isListParam(v.Ref) {
			s, ok := r.Parameters[v.Ref]
			if !ok {
				return nil, false
			}
			out = append(out, splitList(s)...)
			continue
		}
		s, omit, ok := r.resolve(v, 0)
		if !ok {
			return nil, false
		}
		if !omit {
			out = append(out, s)
		}
	}
	return out, true
}

// Environment resolves a function's environment variables. unresolved lists, sorted, the variables
// whose values could not be resolved (they are left out of env); a variable whose value is
// AWS::NoValue is left out without complaint, as Lambda would.
func (r *Resources) Environment(fn Function) (env map[string]string, unresolved []string) {
	env = map[string]string{}
	for k, v := range fn.Environment {
		s, omit, ok := r.resolve(v, 0)
		switch {
		case !ok:
			unresolved = append(unresolved, fmt.Sprintf("%s (%s)", k, v))
		case !omit:
			env[k] = s
		}
	}
	sort.Strings(unresolved)
	return env, unresolved
}

// maxDepth bounds nested Ifs and conditions, so a template with a cycle fails instead of recursing.
const maxDepth = 32

func (r *Resources) resolve(v Value, depth int) (s string, omit, ok bool) {
	if depth > maxDepth {
		return "", false, false
	}
	switch {
	case v.Ref == noValue:
		return "", true, true
	case v.Ref != "":
		s, ok := r.ref(v.Ref)
		return s, false, ok
	case v.GetAtt != "":
		s, ok := r.getAtt(v.GetAtt)
		return s, false, ok
	case v.Sub != "" || v.SubVars != nil:
		s, ok := r.sub(v.Sub, v.SubVars, depth)
		return s, false, ok
	case v.Join != nil:
		parts, ok := r.ResolveList(v.Join.Values)
		return strings.Join(parts, v.Join.Delimiter), false, ok
	case v.If != nil:
		holds, ok := r.condition(v.If.Condition, depth+1)
		if !ok {
			return "", false, false
		}
		if holds {
			return r.resolve(v.If.Then, depth+1)
		}
		return r.resolve(v.If.Else, depth+1)
	case v.Other != "":
		return "", false, false
	default:
		return v.Literal, false, true
	}
}

func (r *Resources) ref(name string) (string, bool) {
	if s, ok := r.Parameters[name]; ok {
		return s, true
	}
	switch name {
	case "AWS::Region":
		return r.Region, true
	case "AWS::AccountId":
		return r.AccountID, true
	case "AWS::StackName":
		return r.Prefix, true
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", r.Region, r.AccountID, r.Prefix), true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	}
	if t, ok := r.Tables[name]; ok {
		return t.Name, true
	}
	if b, ok := r.Buckets[name]; ok {
		return b.Name, true
	}
	if q, ok := r.Queues[name]; ok {
		return q.URL, true // CloudFormation's Ref of a queue is its URL
	}
	return "", false
}

func (r *Resources) getAtt(ref string) (string, bool) {
	id, attr, _ := strings.Cut(ref, ".")
	if t, ok := r.Tables[id]; ok {
		switch attr {
		case "Arn":
			return t.ARN, true
		case "StreamArn":
			return t.StreamARN, t.StreamARN != ""
		}
	}
	if b, ok := r.Buckets[id]; ok && attr == "Arn" {
		return b.ARN, true
	}
	if q, ok := r.Queues[id]; ok {
		switch attr {
		case "Arn":
			return q.ARN, true
		case "QueueUrl":
			return q.URL, true
		case "QueueName":
			return q.Name, true
		}
	}
	return "", false
}

// sub expands ${Name}, ${Resource.Attribute} and ${!Literal} (which stands for "${Literal}").
func (r *Resources) sub(tmpl string, vars map[string]Value, depth int) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), true
		}
		b.WriteString(tmpl[:i])
		end := strings.IndexByte(tmpl[i:], '}')
		if end < 0 {
			b.WriteString(tmpl[i:])
			return b.String(), true
		}
		name := tmpl[i+2 : i+end]
		tmpl = tmpl[i+end+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		var s string
		var ok bool
		if v, isVar := vars[name]; isVar {
			var omit bool
			s, omit, ok = r.resolve(v, depth+1)
			ok = ok && !omit
		} else if strings.Contains(name, ".") {
			s, ok = r.getAtt(name)
		} else {
			s, ok = r.ref(name)
		}
		if !ok {
			return "", false
		}
		b.WriteString(s)
	}
}

// condition evaluates a named condition: Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition, over
// values that resolve (in practice: parameters).
func (r *Resources) condition(name string, depth int) (bool, bool) {
	if r.tmpl == nil || depth > maxDepth {
		return false, false
	}
	n, ok := r.tmpl.conditions[name]
	if !ok {
		return false, false
	}
	return r.evalCondition(n, depth+1)
}

func (r *Resources) evalCondition(n *yaml.Node, depth int) (bool, bool) {
	if depth > maxDepth {
		return false, false
	}
	fn, arg, ok := intrinsic(n)
	if !ok {
		return false, false
	}
	if fn == "Condition" {
		if !isLiteral(arg) {
			return false, false
		}
		return r.condition(arg.Value, depth+1)
	}
	args, err := items(arg)
	if err != nil {
		return false, false
	}
	switch fn {
	case "Fn::Equals":
		if len(args) != 2 {
			return false, false
		}
		var vals [2]string
		for i, a := range args {
			v, err := parseValue(a)
			if err != nil {
				return false, false
			}
			if vals[i], ok = r.Resolve(v); !ok {
				return false, false
			}
		}
		return vals[0] == vals[1], true
	case "Fn::Not":
		if len(args) != 1 {
			return false, false
		}
		holds, ok := r.evalCondition(args[0], depth+1)
		return !holds, ok
	case "Fn::And", "Fn::Or":
		and := fn == "Fn::And"
		for _, a := range args {
			holds, ok := r.evalCondition(a, depth+1)
			if !ok {
				return false, false
			}
			if holds != and {
				return holds, true // first false of And, first true of Or
			}
		}
		return and, true
	default:
		return false, false
	}
}

// exists reports whether a resource with the given Condition attribute is part of the stack.
func (r *Resources) exists(cond string) (bool, error) {
	if cond == "" {
		return true, nil
	}
	holds, ok := r.condition(cond, 0)
	if !ok {
		return false, fmt.Errorf("condition %s cannot be evaluated", cond)
	}
	return holds, nil
}

func (r *Resources) isListParam(name string) bool {
	if r.tmpl == nil || name == "" {
		return false
	}
	p, ok := r.tmpl.Parameters[name]
	return ok && p.IsList()
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
