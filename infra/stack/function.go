package stack

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// SAM's defaults for a function that sets neither the property nor a global.
const (
	defaultTimeout    = 3
	defaultMemorySize = 128
)

// implicitHTTPAPI is the logical id SAM gives the HTTP API it creates for HttpApi events without ApiId.
const implicitHTTPAPI = "ServerlessHttpApi"

// authNone is the authorizer name of a route open to anonymous callers.
const authNone = "NONE"

// Function is an AWS::Serverless::Function with Globals.Function applied.
type Function struct {
	LogicalID string
	// Condition names the template condition the function depends on; "" when unconditional.
	Condition string
	CodeURI   string
	Handler   string
	Runtime   string
	// Timeout is in seconds, MemorySize in MB.
	Timeout    int
	MemorySize int
	// Environment holds Globals.Function.Environment.Variables overridden by the function's own.
	Environment map[string]Value

	HTTPAPIEvents  []HTTPAPIEvent
	StreamEvents   []StreamEvent
	QueueEvents    []QueueEvent
	ScheduleEvents []ScheduleEvent
	// OtherEvents maps the names of events of types not modelled here to their types, so the runner can
	// say what it does not serve.
	OtherEvents map[string]string
}

// HTTPAPIEvent is an event of type HttpApi: one route.
type HTTPAPIEvent struct {
	Name string
	// API is the logical id of the HttpApi (from ApiId), or ServerlessHttpApi when the event has none.
	API string
	// Method is upper case; "ANY" when not declared.
	Method string
	// Path is the route path, e.g. /v1/reports/{id}; "$default" when not declared.
	Path string
	// Authorizer is "NONE" for an open route (Auth.Authorizer: NONE, or no authorizer at all), else the
	// route's authorizer or the API's DefaultAuthorizer.
	Authorizer          string
	AuthorizationScopes []string
}

// StreamEvent is an event of type DynamoDB: a stream event source mapping. Defaults are AWS's.
type StreamEvent struct {
	Name string
	// Stream is the stream ARN, normally !GetAtt Table.StreamArn; Table is that table's logical id, or
	// "" when Stream is not of that form.
	Stream           Value
	Table            string
	StartingPosition string
	// BatchSize defaults to 100.
	BatchSize                      int
	MaximumBatchingWindowInSeconds int
	BisectBatchOnFunctionError     bool
	// MaximumRetryAttempts and MaximumRecordAgeInSeconds are -1 (AWS's default: until the record
	// expires) when not declared.
	MaximumRetryAttempts      int
	MaximumRecordAgeInSeconds int
	// ParallelizationFactor defaults to 1.
	ParallelizationFactor int
	// FunctionResponseTypes contains "ReportBatchItemFailures" when the function returns partial failures.
	FunctionResponseTypes []string
	// FilterPatterns are FilterCriteria.Filters[].Pattern, JSON text exactly as written.
	FilterPatterns []string
	// OnFailure is DestinationConfig.OnFailure.Destination (an SQS queue or SNS topic ARN); zero if none.
	OnFailure Value
	Enabled   bool
}

// ReportsBatchItemFailures reports whether the function answers with partial batch failures.
func (e StreamEvent) ReportsBatchItemFailures() bool {
	return slices.Contains(e.FunctionResponseTypes, "ReportBatchItemFailures")
}

// QueueEvent is an event of type SQS.
type QueueEvent struct {
	Name string
	// Queue is the queue ARN, normally !GetAtt Queue.Arn; QueueID is that queue's logical id, or "".
	Queue   Value
	QueueID string
	// BatchSize defaults to 10.
	BatchSize                      int
	MaximumBatchingWindowInSeconds int
	FunctionResponseTypes          []string
	FilterPatterns                 []string
	Enabled                        bool
}

// ReportsBatchItemFailures reports whether the function answers with partial batch failures.
func (e QueueEvent) ReportsBatchItemFailures() bool {
	return slices.Contains(e.FunctionResponseTypes, "ReportBatchItemFailures")
}

// ScheduleEvent is an event of type Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler).
type ScheduleEvent struct {
	Name string
	// Type is "Schedule" or "ScheduleV2".
	Type string
	// Expression is rate(...), cron(...) or at(...).
	Expression string
	// Timezone is ScheduleExpressionTimezone (ScheduleV2 only); "" means UTC.
	Timezone string
	// Input is the event payload as declared (JSON text), "" when none.
	Input   string
	Enabled bool
}

func (t *Template) parseFunction(id string, res, props, httpAPIGlobals *yaml.Node) (Function, error) {
	fn := Function{LogicalID: id, Environment: map[string]Value{}, OtherEvents: map[string]string{}}
	var err error
	if fn.Condition, err = condition(res, id); err != nil {
		return fn, err
	}
	// CodeUri may also be an S3 location mapping; only the local directory form matters here.
	if cu := get(props, "CodeUri"); isLiteral(cu) {
		fn.CodeURI = cu.Value
	}
	if fn.Handler, err = t.plainString(get(props, "Handler"), "Handler"); err != nil {
		return fn, err
	}
	if fn.Runtime, err = t.plainString(get(props, "Runtime"), "Runtime"); err != nil {
		return fn, err
	}
	if fn.Timeout, err = t.plainInt(get(props, "Timeout"), "Timeout", defaultTimeout); err != nil {
		return fn, err
	}
	if fn.MemorySize, err = t.plainInt(get(props, "MemorySize"), "MemorySize", defaultMemorySize); err != nil {
		return fn, err
	}
	err = pairs(path(props, "Environment", "Variables"), func(k string, n *yaml.Node) error {
		v, err := parseValue(n)
		if err != nil {
			return fmt.Errorf("environment %s: %w", k, err)
		}
		fn.Environment[k] = v
		return nil
	})
	if err != nil {
		return fn, err
	}
	err = pairs(get(props, "Events"), func(name string, ev *yaml.Node) error {
		if err := t.parseEvent(&fn, name, ev, httpAPIGlobals); err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		return nil
	})
	return fn, err
}

func (t *Template) parseEvent(fn *Function, name string, ev, httpAPIGlobals *yaml.Node) error {
	typ, err := literal(get(ev, "Type"), "Type")
	if err != nil {
		return err
	}
	props := get(ev, "Properties")
	switch typ {
	case "HttpApi":
		e, err := t.parseHTTPAPIEvent(name, props, httpAPIGlobals)
		if err != nil {
			return err
		}
		fn.HTTPAPIEvents = append(fn.HTTPAPIEvents, e)
	case "DynamoDB":
		e, err := t.parseStreamEvent(name, props)
		if err != nil {
			return err
		}
		fn.StreamEvents = append(fn.StreamEvents, e)
	case "SQS":
		e, err := t.parseQueueEvent(name, props)
		if err != nil {
			return err
		}
		fn.QueueEvents = append(fn.QueueEvents, e)
	case "Schedule", "ScheduleV2":
		e, err := t.parseScheduleEvent(name, typ, props)
		if err != nil {
			return err
		}
		fn.ScheduleEvents = append(fn.ScheduleEvents, e)
	default:
		fn.OtherEvents[name] = typ
	}
	return nil
}

func (t *Template) parseHTTPAPIEvent(name string, props, httpAPIGlobals *yaml.Node) (HTTPAPIEvent, error) {
	e := HTTPAPIEvent{Name: name, API: implicitHTTPAPI}
	if n := get(props, "ApiId"); n != nil {
		v, err := parseValue(n)
		if err != nil {
			return e, fmt.Errorf("ApiId: %w", err)
		}
		if v.Ref == "" {
			return e, fmt.Errorf("line %d: ApiId: want !Ref to an AWS::Serverless::HttpApi", n.Line)
		}
		e.API = v.Ref
	}
	method, err := literal(get(props, "Method"), "Method")
	if err != nil {
		return e, err
	}
	e.Method = strings.ToUpper(method)
	if e.Method == "" {
		e.Method = "ANY"
	}
	if e.Path, err = literal(get(props, "Path"), "Path"); err != nil {
		return e, err
	}
	if e.Path == "" {
		e.Path = "$default"
	}
	if e.Authorizer, err = literal(path(props, "Auth", "Authorizer"), "Auth.Authorizer"); err != nil {
		return e, err
	}
	if e.AuthorizationScopes, err = strs(path(props, "Auth", "AuthorizationScopes"), "Auth.AuthorizationScopes"); err != nil {
		return e, err
	}
	api, ok := t.HTTPAPIs[e.API]
	if !ok && e.API == implicitHTTPAPI {
		// SAM creates this API from Globals.HttpApi; record it so the runner sees its settings.
		if api, err = t.parseHTTPAPI(implicitHTTPAPI, httpAPIGlobals); err != nil {
			return e, fmt.Errorf("implicit http api: %w", err)
		}
		t.HTTPAPIs[implicitHTTPAPI] = api
		ok = true
	}
	if !ok {
		return e, fmt.Errorf("ApiId: %s is not an AWS::Serverless::HttpApi in this template", e.API)
	}
	if e.Authorizer == "" {
		e.Authorizer = api.DefaultAuthorizer
	}
	if e.Authorizer == "" {
		e.Authorizer = authNone
	}
	return e, nil
}

func (t *Template) parseStreamEvent(name string, props *yaml.Node) (StreamEvent, error) {
	e := StreamEvent{Name: name}
	var err error
	if e.Stream, err = parseValue(get(props, "Stream")); err != nil {
		return e, fmt.Errorf("Stream: %w", err)
	}
	if res, attr, ok := strings.Cut(e.Stream.GetAtt, "."); ok && attr == "StreamArn" {
		e.Table = res
	}
	if e.StartingPosition, err = t.plainString(get(props, "StartingPosition"), "StartingPosition"); err != nil {
		return e, err
	}
	if e.BatchSize, err = t.plainInt(get(props, "BatchSize"), "BatchSize", 100); err != nil {
		return e, err
	}
	if e.MaximumBatchingWindowInSeconds, err = t.plainInt(get(props, "MaximumBatchingWindowInSeconds"), "MaximumBatchingWindowInSeconds", 0); err != nil {
		return e, err
	}
	if e.BisectBatchOnFunctionError, err = t.plainBool(get(props, "BisectBatchOnFunctionError"), "BisectBatchOnFunctionError", false); err != nil {
		return e, err
	}
	if e.MaximumRetryAttempts, err = t.plainInt(get(props, "MaximumRetryAttempts"), "MaximumRetryAttempts", -1); err != nil {
		return e, err
	}
	if e.MaximumRecordAgeInSeconds, err = t.plainInt(get(props, "MaximumRecordAgeInSeconds"), "MaximumRecordAgeInSeconds", -1); err != nil {
		return e, err
	}
	if e.ParallelizationFactor, err = t.plainInt(get(props, "ParallelizationFactor"), "ParallelizationFactor", 1); err != nil {
		return e, err
	}
	if e.FunctionResponseTypes, err = strs(get(props, "FunctionResponseTypes"), "FunctionResponseTypes"); err != nil {
		return e, err
	}
	if e.FilterPatterns, err = filterPatterns(get(props, "FilterCriteria")); err != nil {
		return e, err
	}
	if e.OnFailure, err = parseValue(path(props, "DestinationConfig", "OnFailure", "Destination")); err != nil {
		return e, fmt.Errorf("DestinationConfig: %w", err)
	}
	if e.Enabled, err = t.plainBool(get(props, "Enabled"), "Enabled", true); err != nil {
		return e, err
	}
	return e, nil
}

func (t *Template) parseQueueEvent(name string, props *yaml.Node) (QueueEvent, error) {
	e := QueueEvent{Name: name}
	var err error
	if e.Queue, err = parseValue(get(props, "Queue")); err != nil {
		return e, fmt.Errorf("Queue: %w", err)
	}
	if res, attr, ok := strings.Cut(e.Queue.GetAtt, "."); ok && attr == "Arn" {
		e.QueueID = res
	}
	if e.BatchSize, err = t.plainInt(get(props, "BatchSize"), "BatchSize", 10); err != nil {
		return e, err
	}
	if e.MaximumBatchingWindowInSeconds, err = t.plainInt(get(props, "MaximumBatchingWindowInSeconds"), "MaximumBatchingWindowInSeconds", 0); err != nil {
		return e, err
	}
	if e.FunctionResponseTypes, err = strs(get(props, "FunctionResponseTypes"), "FunctionResponseTypes"); err != nil {
		return e, err
	}
	if e.FilterPatterns, err = filterPatterns(get(props, "FilterCriteria")); err != nil {
		return e, err
	}
	if e.Enabled, err = t.plainBool(get(props, "Enabled"), "Enabled", true); err != nil {
		return e, err
	}
	return e, nil
}

func (t *Template) parseScheduleEvent(name, typ string, props *yaml.Node) (ScheduleEvent, error) {
	e := ScheduleEvent{Name: name, Type: typ}
	var err error
	if e.Expression, err = t.plainString(get(props, "Schedule"), "Schedule"); err != nil {
		return e, err
	}
	if typ == "ScheduleV2" {
		if e.Expression, err = t.plainString(get(props, "ScheduleExpression"), "ScheduleExpression"); err != nil {
			return e, err
		}
		if e.Timezone, err = t.plainString(get(props, "ScheduleExpressionTimezone"), "ScheduleExpressionTimezone"); err != nil {
			return e, err
		}
	}
	if e.Expression == "" {
		return e, fmt.Errorf("%s: no schedule expression", typ)
	}
	if e.Input, err = scalarJSON(get(props, "Input"), "Input"); err != nil {
		return e, err
	}
	if e.Enabled, err = t.plainBool(get(props, "Enabled"), "Enabled", true); err != nil {
		return e, err
	}
	state, err := t.plainString(get(props, "State"), "State")
	if err != nil {
		return e, err
	}
	if strings.EqualFold(state, "DISABLED") {
		e.Enabled = false
	}
	return e, nil
}

// filterPatterns returns FilterCriteria.Filters[].Pattern.
func filterPatterns(criteria *yaml.Node) ([]string, error) {
	filters, err := items(get(criteria, "Filters"))
	if err != nil {
		return nil, fmt.Errorf("FilterCriteria.Filters: %w", err)
	}
	var out []string
	for _, f := range filters {
		p, err := scalarJSON(get(f, "Pattern"), "FilterCriteria.Filters.Pattern")
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// HTTPAPI is an AWS::Serverless::HttpApi with Globals.HttpApi applied.
type HTTPAPI struct {
	LogicalID         string
	StageName         Value
	DefaultAuthorizer string
	Authorizers       map[string]JWTAuthorizer
	// CORS is nil when the API declares no CorsConfiguration.
	CORS *HTTPAPICORS
}

// JWTAuthorizer is an entry of Auth.Authorizers.
type JWTAuthorizer struct {
	IdentitySource string
	Issuer         Value
	Audience       []Value
}

// HTTPAPICORS is an HttpApi's CorsConfiguration.
type HTTPAPICORS struct {
	AllowOrigins     []Value
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	AllowCredentials bool
	MaxAge           int
}

func (t *Template) parseHTTPAPI(id string, props *yaml.Node) (HTTPAPI, error) {
	api := HTTPAPI{LogicalID: id, Authorizers: map[string]JWTAuthorizer{}}
	var err error
	if api.StageName, err = parseValue(get(props, "StageName")); err != nil {
		return api, fmt.Errorf("StageName: %w", err)
	}
	auth := get(props, "Auth")
	if api.DefaultAuthorizer, err = literal(get(auth, "DefaultAuthorizer"), "Auth.DefaultAuthorizer"); err != nil {
		return api, err
	}
	err = pairs(get(auth, "Authorizers"), func(name string, n *yaml.Node) error {
		a := JWTAuthorizer{}
		var err error
		if a.IdentitySource, err = literal(get(n, "IdentitySource"), name+".IdentitySource"); err != nil {
			return err
		}
		if a.Issuer, err = parseValue(path(n, "JwtConfiguration", "issuer")); err != nil {
			return fmt.Errorf("authorizer %s issuer: %w", name, err)
		}
		if a.Audience, err = parseValues(path(n, "JwtConfiguration", "audience")); err != nil {
			return fmt.Errorf("authorizer %s audience: %w", name, err)
		}
		api.Authorizers[name] = a
		return nil
	})
	if err != nil {
		return api, err
	}
	cors := get(props, "CorsConfiguration")
	if cors == nil {
		return api, nil
	}
	c := &HTTPAPICORS{}
	if isLiteral(cors) {
		// CorsConfiguration: true is SAM's shorthand for allowing any origin.
		allow, err := parseBool(cors.Value, cors.Line, "CorsConfiguration")
		if err != nil || !allow {
			return api, err
		}
		c.AllowOrigins = []Value{{Literal: "*"}}
		api.CORS = c
		return api, nil
	}
	if c.AllowOrigins, err = parseValues(get(cors, "AllowOrigins")); err != nil {
		return api, fmt.Errorf("CorsConfiguration.AllowOrigins: %w", err)
	}
	if c.AllowMethods, err = strs(get(cors, "AllowMethods"), "CorsConfiguration.AllowMethods"); err != nil {
		return api, err
	}
	if c.AllowHeaders, err = strs(get(cors, "AllowHeaders"), "CorsConfiguration.AllowHeaders"); err != nil {
		return api, err
	}
	if c.ExposeHeaders, err = strs(get(cors, "ExposeHeaders"), "CorsConfiguration.ExposeHeaders"); err != nil {
		return api, err
	}
	if c.AllowCredentials, err = t.plainBool(get(cors, "AllowCredentials"), "CorsConfiguration.AllowCredentials", false); err != nil {
		return api, err
	}
	if c.MaxAge, err = t.plainInt(get(cors, "MaxAge"), "CorsConfiguration.MaxAge", 0); err != nil {
		return api, err
	}
	api.CORS = c
	return api, nil
}
