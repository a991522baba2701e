package stack

import (
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// loadRepoTemplate loads the repository's template.yaml, the one the local stack is built from.
func loadRepoTemplate(t *testing.T) *Template {
	t.Helper()
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// eventsTemplate exercises what template.yaml does not have yet: stream, queue and schedule events,
// queues with a dead-letter queue, conditions, and the long forms of intrinsics.
const eventsTemplate = `
Parameters:
  Stage: { Type: String, Default: dev }
  BatchSize: { Type: Number, Default: 25 }
  Origins: { Type: CommaDelimitedList, Default: "https://a.example,https://b.example" }
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: { "Fn::Not": [{ Condition: IsProd }] }
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        STAGE: !Ref Stage
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
      StreamSpecification: { StreamViewType: NEW_AND_OLD_IMAGES }
  OutboxQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      MessageRetentionPeriod: 1209600
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OutboxDLQ.Arn
        maxReceiveCount: 5
  OutboxDLQ:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
  OrderedQueue:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true, ContentBasedDeduplication: true }
  ProdOnlyQueue:
    Type: AWS::SQS::Queue
    Condition: IsProd
  DispatchFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Timeout: 30
      Environment:
        Variables:
          OUTBOX_URL: { Ref: OutboxQueue }
          STAGE: !Sub "${Stage}-dispatch"
          MODE: !If [IsProd, strict, lenient]
          TABLE_ARN: { "Fn::GetAtt": [Table, Arn] }
          POOL: !Ref UserPool
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: !Ref BatchSize
            MaximumBatchingWindowInSeconds: 1
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: 3
            MaximumRecordAgeInSeconds: 3600
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria:
              Filters:
                - Pattern: '{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"status":{"S":["submitted"]}}}}'
                - Pattern: '{ "eventName": ["REMOVE"] }'
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt OutboxDLQ.Arn
  NotifyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        Outbox:
          Type: SQS
          Properties:
            Queue: !GetAtt OutboxQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
  KPIFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      MemorySize: 512
      Events:
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(5 0 * * ? *)
            ScheduleExpressionTimezone: Asia/Shanghai
            Input: '{"job":"kpi-rollup"}'
        Hourly:
          Type: Schedule
          Properties:
            Schedule: rate(1 hour)
            Input: { job: sweep }
            Enabled: false
        Bus:
          Type: EventBridgeRule
          Properties: { Pattern: { source: [x] } }
`

func TestLoadRepoTemplate(t *testing.T) {
	tmpl := loadRepoTemplate(t)

	t.Run("globals merged into IntakeFunction", func(t *testing.T) {
		fn, ok := tmpl.Functions["IntakeFunction"]
		if !ok {
			t.Fatalf("no IntakeFunction; functions: %v", slices.Sorted(maps.Keys(tmpl.Functions)))
		}
		wantEnv := map[string]Value{
			"TABLE_NAME":          {Ref: "Table"},
			"CITY_TZ":             {Ref: "CityTimeZone"},
			"BUCKET_NAME":         {Ref: "PhotoBucket"},
			"CITY_BBOX":           {Ref: "CityBoundingBox"},
			"MAX_UPLOAD_BYTES":    {Ref: "MaxUploadBytes"},
			"ANSWER_WINDOW_HOURS": {Ref: "AnswerWindowHours"},
		}
		if !reflect.DeepEqual(fn.Environment, wantEnv) {
			t.Errorf("Environment = %v, want %v", fn.Environment, wantEnv)
		}
		got := []any{fn.Handler, fn.Runtime, fn.Timeout, fn.MemorySize}
		want := []any{"bootstrap", "provided.al2023", 10, 256} // all from Globals.Function
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Handler, Runtime, Timeout, MemorySize = %v, want %v", got, want)
		}
		if fn.CodeURI == "" {
			t.Error("CodeURI is empty")
		}
	})

	t.Run("IntakeFunction routes", func(t *testing.T) {
		fn := tmpl.Functions["IntakeFunction"]
		tests := []struct {
			name, method, path, authorizer string
		}{
			{"Health", "GET", "/v1/health", "NONE"},
			{"Categories", "GET", "/v1/categories", "NONE"},
			{"CreateUpload", "POST", "/v1/uploads", "CognitoJwt"},
			{"CreateReport", "POST", "/v1/reports", "CognitoJwt"},
			{"GetReport", "GET", "/v1/reports/{id}", "CognitoJwt"},
			{"MyReports", "GET", "/v1/me/reports", "CognitoJwt"},
			{"ConfirmReport", "POST", "/v1/reports/{id}/confirm", "CognitoJwt"},
			{"ContestReport", "POST", "/v1/reports/{id}/contest", "CognitoJwt"},
			{"PublicReports", "GET", "/v1/public/reports", "NONE"},
			{"MeToo", "POST", "/v1/reports/{id}/metoo", "CognitoJwt"},
		}
		if len(fn.HTTPAPIEvents) != len(tests) {
			t.Fatalf("%d HttpApi events, want %d: %+v", len(fn.HTTPAPIEvents), len(tests), fn.HTTPAPIEvents)
		}
		for i, tt := range tests {
			want := HTTPAPIEvent{Name: tt.name, API: "HttpApi", Method: tt.method, Path: tt.path, Authorizer: tt.authorizer}
			if got := fn.HTTPAPIEvents[i]; !reflect.DeepEqual(got, want) {
				t.Errorf("event %d = %+v, want %+v", i, got, want)
			}
		}
	})

	t.Run("http api", func(t *testing.T) {
		api, ok := tmpl.HTTPAPIs["HttpApi"]
		if !ok {
			t.Fatal("no HttpApi")
		}
		if api.DefaultAuthorizer != "CognitoJwt" || !reflect.DeepEqual(api.StageName, Value{Ref: "Stage"}) {
			t.Errorf("DefaultAuthorizer, StageName = %q, %v", api.DefaultAuthorizer, api.StageName)
		}
		jwt := api.Authorizers["CognitoJwt"]
		if jwt.IdentitySource != "$request.header.Authorization" || !strings.Contains(jwt.Issuer.Sub, "${UserPool}") ||
			!reflect.DeepEqual(jwt.Audience, []Value{{Ref: "UserPoolClient"}}) {
			t.Errorf("CognitoJwt = %+v", jwt)
		}
		if api.CORS == nil || !reflect.DeepEqual(api.CORS.AllowOrigins, []Value{{Ref: "AllowedOrigins"}}) || api.CORS.MaxAge != 600 {
			t.Errorf("CORS = %+v", api.CORS)
		}
	})

	t.Run("table", func(t *testing.T) {
		tbl := tmpl.Tables["Table"]
		// gsi1-4 on generic gsiNpk/gsiNsk, gsi5 on the reports' own reporterSub and createdAt, gsi6 on their
		// map cell and key (the public map).
		if len(tbl.AttributeDefinitions) != 14 || len(tbl.GlobalSecondaryIndexes) != 6 {
			t.Errorf("%d attribute definitions, %d GSIs; want 14, 6", len(tbl.AttributeDefinitions), len(tbl.GlobalSecondaryIndexes))
		}
		want := []KeyElement{{"pk", "HASH"}, {"sk", "RANGE"}}
		if !reflect.DeepEqual(tbl.KeySchema, want) {
			t.Errorf("KeySchema = %v, want %v", tbl.KeySchema, want)
		}
		if tbl.StreamViewType != "NEW_AND_OLD_IMAGES" || tbl.TTLAttribute != "ttl" || !tbl.TTLEnabled ||
			!tbl.PointInTimeRecovery || !tbl.SSEEnabled {
			t.Errorf("table settings = %+v", tbl)
		}
	})

	t.Run("bucket", func(t *testing.T) {
		b := tmpl.Buckets["PhotoBucket"]
		want := []LifecycleRule{
			{ID: "expire-pending-uploads", Status: "Enabled", Prefix: "uploads/pending/", ExpirationInDays: 1, NoncurrentVersionExpirationInDays: 1},
			{ID: "abort-incomplete-multipart", Status: "Enabled", AbortIncompleteMultipartUploadDays: 1},
		}
		if !reflect.DeepEqual(b.LifecycleRules, want) {
			t.Errorf("LifecycleRules = %+v, want %+v", b.LifecycleRules, want)
		}
		if b.Versioning != "Enabled" {
			t.Errorf("Versioning = %q, want Enabled (reports pin their photos' versions)", b.Versioning)
		}
		wantCORS := []CORSRule{{
			AllowedMethods: []string{"POST"}, AllowedOrigins: []Value{{Ref: "AllowedOrigins"}},
			AllowedHeaders: []string{"*"}, MaxAge: 3000,
		}}
		if !reflect.DeepEqual(b.CORSRules, wantCORS) {
			t.Errorf("CORSRules = %+v, want %+v", b.CORSRules, wantCORS)
		}
		if b.PublicAccessBlock == nil || !b.PublicAccessBlock.BlockPublicAcls || b.ObjectOwnership != "BucketOwnerEnforced" || b.SSEAlgorithm != "AES256" {
			t.Errorf("bucket settings = %+v", b)
		}
	})

	t.Run("parameters and others", func(t *testing.T) {
		p := tmpl.Parameters["AllowedOrigins"]
		if !p.IsList() || p.Default != "https://app.civicsnap.example" {
			t.Errorf("AllowedOrigins = %+v", p)
		}
		if got := tmpl.Parameters["MaxUploadBytes"].Default; got != "10485760" {
			t.Errorf("MaxUploadBytes default = %q", got)
		}
		if tmpl.Other["UserPool"] != "AWS::Cognito::UserPool" || tmpl.Other["PhotoBucketPolicy"] != "AWS::S3::BucketPolicy" {
			t.Errorf("Other = %v", tmpl.Other)
		}
	})
}

func TestParseEvents(t *testing.T) {
	tmpl, err := Parse([]byte(eventsTemplate))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("dynamodb stream", func(t *testing.T) {
		fn := tmpl.Functions["DispatchFunction"]
		if len(fn.StreamEvents) != 1 {
			t.Fatalf("StreamEvents = %+v", fn.StreamEvents)
		}
		want := StreamEvent{
			Name:                           "Stream",
			Stream:                         Value{GetAtt: "Table.StreamArn"},
			Table:                          "Table",
			StartingPosition:               "TRIM_HORIZON",
			BatchSize:                      25,
			MaximumBatchingWindowInSeconds: 1,
			BisectBatchOnFunctionError:     true,
			MaximumRetryAttempts:           3,
			MaximumRecordAgeInSeconds:      3600,
			ParallelizationFactor:          1,
			FunctionResponseTypes:          []string{"ReportBatchItemFailures"},
			FilterPatterns: []string{
				`{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"status":{"S":["submitted"]}}}}`,
				`{ "eventName": ["REMOVE"] }`,
			},
			OnFailure: Value{GetAtt: "OutboxDLQ.Arn"},
			Enabled:   true,
		}
		if !reflect.DeepEqual(fn.StreamEvents[0], want) {
			t.Errorf("stream event =\n%+v\nwant\n%+v", fn.StreamEvents[0], want)
		}
		if !fn.StreamEvents[0].ReportsBatchItemFailures() {
			t.Error("ReportsBatchItemFailures = false")
		}
	})

	t.Run("sqs", func(t *testing.T) {
		fn := tmpl.Functions["NotifyFunction"]
		want := []QueueEvent{{
			Name: "Outbox", Queue: Value{GetAtt: "OutboxQueue.Arn"}, QueueID: "OutboxQueue", BatchSize: 5,
			FunctionResponseTypes: []string{"ReportBatchItemFailures"}, Enabled: true,
		}}
		if !reflect.DeepEqual(fn.QueueEvents, want) {
			t.Errorf("QueueEvents = %+v, want %+v", fn.QueueEvents, want)
		}
		if fn.Timeout != 10 || fn.MemorySize != 128 {
			t.Errorf("Timeout, MemorySize = %d, %d; want 10 (global), 128 (SAM default)", fn.Timeout, fn.MemorySize)
		}
	})

	t.Run("schedules", func(t *testing.T) {
		fn := tmpl.Functions["KPIFunction"]
		want := []ScheduleEvent{
			{Name: "Nightly", Type: "ScheduleV2", Expression: "cron(5 0 * * ? *)", Timezone: "Asia/Shanghai", Input: `{"job":"kpi-rollup"}`, Enabled: true},
			{Name: "Hourly", Type: "Schedule", Expression: "rate(1 hour)", Input: `{"job":"sweep"}`, Enabled: false},
		}
		if !reflect.DeepEqual(fn.ScheduleEvents, want) {
			t.Errorf("ScheduleEvents = %+v, want %+v", fn.ScheduleEvents, want)
		}
		if !reflect.DeepEqual(fn.OtherEvents, map[string]string{"Bus": "EventBridgeRule"}) {
			t.Errorf("OtherEvents = %v", fn.OtherEvents)
		}
		if fn.MemorySize != 512 {
			t.Errorf("MemorySize = %d, want 512", fn.MemorySize)
		}
	})

	t.Run("queues", func(t *testing.T) {
		q := tmpl.Queues["OutboxQueue"]
		if q.VisibilityTimeout == nil || *q.VisibilityTimeout != 60 || q.MessageRetentionPeriod == nil || *q.MessageRetentionPeriod != 1209600 {
			t.Errorf("OutboxQueue = %+v", q)
		}
		wantRP := &RedrivePolicy{DeadLetterTarget: Value{GetAtt: "OutboxDLQ.Arn"}, MaxReceiveCount: 5}
		if !reflect.DeepEqual(q.RedrivePolicy, wantRP) {
			t.Errorf("RedrivePolicy = %+v, want %+v", q.RedrivePolicy, wantRP)
		}
		if dlq := tmpl.Queues["OutboxDLQ"]; dlq.RedrivePolicy != nil || dlq.VisibilityTimeout != nil {
			t.Errorf("OutboxDLQ = %+v", dlq)
		}
		if o := tmpl.Queues["OrderedQueue"]; !o.FIFO || !o.ContentBasedDeduplication {
			t.Errorf("OrderedQueue = %+v", o)
		}
		if p := tmpl.Queues["ProdOnlyQueue"]; p.Condition != "IsProd" {
			t.Errorf("ProdOnlyQueue.Condition = %q", p.Condition)
		}
	})

	t.Run("environment intrinsics", func(t *testing.T) {
		fn := tmpl.Functions["DispatchFunction"]
		want := map[string]Value{
			"TABLE_NAME": {Ref: "Table"},
			"STAGE":      {Sub: "${Stage}-dispatch"}, // the function's own value wins over the global
			"OUTBOX_URL": {Ref: "OutboxQueue"},
			"MODE":       {If: &If{Condition: "IsProd", Then: Value{Literal: "strict"}, Else: Value{Literal: "lenient"}}},
			"TABLE_ARN":  {GetAtt: "Table.Arn"},
			"POOL":       {Ref: "UserPool"},
		}
		if !reflect.DeepEqual(fn.Environment, want) {
			t.Errorf("Environment = %v, want %v", fn.Environment, want)
		}
	})
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		yaml string
		want Value
	}{
		{yaml: `v: plain`, want: Value{Literal: "plain"}},
		{yaml: `v: 42`, want: Value{Literal: "42"}},
		{yaml: `v: ~`, want: Value{}},
		{yaml: `v: !Ref Table`, want: Value{Ref: "Table"}},
		{yaml: `v: {Ref: Table}`, want: Value{Ref: "Table"}},
		{yaml: `v: !GetAtt Table.StreamArn`, want: Value{GetAtt: "Table.StreamArn"}},
		{yaml: `v: !GetAtt [Table, StreamArn]`, want: Value{GetAtt: "Table.StreamArn"}},
		{yaml: `v: {"Fn::GetAtt": [Table, Arn]}`, want: Value{GetAtt: "Table.Arn"}},
		{yaml: `v: !Sub "${Table.Arn}/index/*"`, want: Value{Sub: "${Table.Arn}/index/*"}},
		{yaml: `v: !Sub ["${A}-x", {A: !Ref Stage}]`, want: Value{Sub: "${A}-x", SubVars: map[string]Value{"A": {Ref: "Stage"}}}},
		{yaml: `v: !Join [",", [a, !Ref B]]`, want: Value{Join: &Join{Delimiter: ",", Values: []Value{{Literal: "a"}, {Ref: "B"}}}}},
		{yaml: `v: !If [C, a, !Ref AWS::NoValue]`, want: Value{If: &If{Condition: "C", Then: Value{Literal: "a"}, Else: Value{Ref: "AWS::NoValue"}}}},
		{yaml: `v: !ImportValue shared-table`, want: Value{Other: "Fn::ImportValue"}},
		{yaml: `v: {"Fn::Select": [0, [a]]}`, want: Value{Other: "Fn::Select"}},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			tmpl, err := Parse([]byte("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          " + tt.yaml + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.Functions["F"].Environment["v"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{name: "not yaml", yaml: "a: [", want: "parse template"},
		{name: "not a mapping", yaml: "- a", want: "mapping at the top"},
		{name: "table without keys", yaml: "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n", want: "parse table T: no KeySchema"},
		{name: "bad timeout", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Timeout: soon}\n", want: "Timeout"},
		{name: "timeout from unknown ref", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Timeout: !Ref Nope}\n", want: "parameter with a default"},
		{name: "api id not a ref", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: HttpApi, Properties: {ApiId: x}}\n", want: "ApiId"},
		{name: "unknown api", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: HttpApi, Properties: {ApiId: !Ref Missing}}\n", want: "Missing is not an AWS::Serverless::HttpApi"},
		{name: "schedule without expression", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: ScheduleV2, Properties: {}}\n", want: "no schedule expression"},
		{name: "bad getatt", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment: {Variables: {A: !GetAtt Table}}\n", want: "Resource.Attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestImplicitHTTPAPI(t *testing.T) {
	const yaml = `
Globals:
  HttpApi:
    Auth:
      DefaultAuthorizer: Jwt
      Authorizers: { Jwt: { IdentitySource: $request.header.Authorization } }
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Open: { Type: HttpApi, Properties: { Path: /open, Method: get, Auth: { Authorizer: NONE } } }
        Closed: { Type: HttpApi, Properties: { Path: /closed, Method: post } }
        Default: { Type: HttpApi }
`
	tmpl, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	want := []HTTPAPIEvent{
		{Name: "Open", API: "ServerlessHttpApi", Method: "GET", Path: "/open", Authorizer: "NONE"},
		{Name: "Closed", API: "ServerlessHttpApi", Method: "POST", Path: "/closed", Authorizer: "Jwt"},
		{Name: "Default", API: "ServerlessHttpApi", Method: "ANY", Path: "$default", Authorizer: "Jwt"},
	}
	if got := tmpl.Functions["F"].HTTPAPIEvents; !reflect.DeepEqual(got, want) {
		t.Errorf("events = %+v, want %+v", got, want)
	}
	if _, ok := tmpl.HTTPAPIs["ServerlessHttpApi"]; !ok {
		t.Error("implicit ServerlessHttpApi not recorded")
	}
}

func TestResolve(t *testing.T) {
	tmpl, err := Parse([]byte(eventsTemplate))
	if err != nil {
		t.Fatal(err)
	}
	r := &Resources{
		Prefix: "dev", Region: "us-east-1", AccountID: "123456789012",
		Parameters: map[string]string{"Stage": "dev", "BatchSize": "25", "Origins": "https://a.example,https://b.example"},
		Tables:     map[string]TableInfo{"Table": {Name: "dev-table", ARN: "arn:table", StreamARN: "arn:stream"}},
		Queues: map[string]QueueInfo{
			"OutboxQueue": {Name: "dev-outboxqueue", URL: "http://q/dev-outboxqueue", ARN: "arn:q"},
		},
		tmpl: tmpl,
	}
	tests := []struct {
		name   string
		v      Value
		want   string
		wantOK bool
	}{
		{name: "literal", v: Value{Literal: "x"}, want: "x", wantOK: true},
		{name: "parameter", v: Value{Ref: "Stage"}, want: "dev", wantOK: true},
		{name: "table", v: Value{Ref: "Table"}, want: "dev-table", wantOK: true},
		{name: "queue ref is url", v: Value{Ref: "OutboxQueue"}, want: "http://q/dev-outboxqueue", wantOK: true},
		{name: "stream arn", v: Value{GetAtt: "Table.StreamArn"}, want: "arn:stream", wantOK: true},
		{name: "queue arn", v: Value{GetAtt: "OutboxQueue.Arn"}, want: "arn:q", wantOK: true},
		{name: "pseudo", v: Value{Ref: "AWS::Region"}, want: "us-east-1", wantOK: true},
		{name: "sub", v: Value{Sub: "${Table.Arn}/index/*|${Stage}|${AWS::AccountId}|${!Literal}"}, want: "arn:table/index/*|dev|123456789012|${Literal}", wantOK: true},
		{name: "sub vars", v: Value{Sub: "${X}-y", SubVars: map[string]Value{"X": {Ref: "Table"}}}, want: "dev-table-y", wantOK: true},
		{name: "join list param", v: Value{Join: &Join{Delimiter: " ", Values: []Value{{Ref: "Origins"}, {Literal: "c"}}}}, want: "https://a.example https://b.example c", wantOK: true},
		{name: "if false", v: Value{If: &If{Condition: "IsProd", Then: Value{Literal: "a"}, Else: Value{Literal: "b"}}}, want: "b", wantOK: true},
		{name: "if nested condition", v: Value{If: &If{Condition: "IsDev", Then: Value{Literal: "a"}, Else: Value{Literal: "b"}}}, want: "a", wantOK: true},
		{name: "unknown condition", v: Value{If: &If{Condition: "Nope"}}, wantOK: false},
		{name: "not created", v: Value{Ref: "UserPool"}, wantOK: false},
		{name: "sub of not created", v: Value{Sub: "${UserPool}"}, wantOK: false},
		{name: "no value", v: Value{Ref: "AWS::NoValue"}, wantOK: false},
		{name: "unsupported", v: Value{Other: "Fn::ImportValue"}, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Resolve(tt.v)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Resolve(%v) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.wantOK)
			}
		})
	}

	t.Run("list", func(t *testing.T) {
		got, ok := r.ResolveList([]Value{{Ref: "Origins"}, {Ref: "Stage"}})
		want := []string{"https://a.example", "https://b.example", "dev"}
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("ResolveList = %v, %v; want %v", got, ok, want)
		}
	})

	t.Run("environment", func(t *testing.T) {
		env, unresolved := r.Environment(tmpl.Functions["DispatchFunction"])
		want := map[string]string{
			"TABLE_NAME": "dev-table", "STAGE": "dev-dispatch", "OUTBOX_URL": "http://q/dev-outboxqueue",
			"MODE": "lenient", "TABLE_ARN": "arn:table",
		}
		if !reflect.DeepEqual(env, want) {
			t.Errorf("env = %v, want %v", env, want)
		}
		if !reflect.DeepEqual(unresolved, []string{"POOL (!Ref UserPool)"}) {
			t.Errorf("unresolved = %v", unresolved)
		}
	})
}
