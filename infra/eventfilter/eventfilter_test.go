package eventfilter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Events from AWS's "Lambda event filtering" and "Using event filtering with a DynamoDB event source"
// pages, and the shape of civicsnap's own report records.
const (
	kinesisEvent = `{
		"partitionKey": "1",
		"sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
		"data": {"City": "Seattle", "State": "WA", "Temperature": 46, "Month": "December", "Location": "Los Angeles"},
		"approximateArrivalTimestamp": 1545084650.987
	}`

	ddbMultiLevelEvent = `{
		"dynamodb": {
			"Keys": {"Id": {"N": "101"}},
			"NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
			"SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"
		}
	}`

	ddbCustomerEvent = `{
		"eventID": "1",
		"eventVersion": "1.0",
		"eventName": "INSERT",
		"dynamodb": {
			"ApproximateCreationDateTime": "1678831218.0",
			"Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
			"NewImage": {
				"AccountManager": {"S": "Pat Candella"},
				"PaymentTerms": {"S": "60 days"},
				"CustomerName": {"S": "AnyCompany Industries"}
			},
			"SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"
		}
	}`

	reportModifyEvent = `{
		"eventName": "MODIFY",
		"eventSource": "aws:dynamodb",
		"dynamodb": {
			"Keys": {"pk": {"S": "REPORT#r1"}, "sk": {"S": "REPORT"}},
			"NewImage": {"pk": {"S": "REPORT#r1"}, "status": {"S": "resolved"}, "points": {"N": "10"}, "tags": {"SS": ["light", "night"]}},
			"OldImage": {"pk": {"S": "REPORT#r1"}, "status": {"S": "in_progress"}, "points": {"N": "10"}}
		}
	}`

	operatorsEvent = `{
		"UserID": null,
		"LastName": "",
		"Name": "Alice",
		"Location": "New York",
		"Day": "Monday",
		"PaymentType": "Credit",
		"Weather": "Sunny",
		"Price": 100,
		"Quantity": 15.5,
		"ProductName": "Widget",
		"Region": "us-east-1",
		"FileName": "photo.jpg",
		"FilePath": "/usr/lib/libc.so",
		"State": "INITIALIZING",
		"service": "EventBridge",
		"sourceIPAddress": "10.0.0.7",
		"Colors": ["red", "green"],
		"Counts": [1, 5, 12],
		"Nested": {"Empty": {}},
		"Items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 7}]
	}`
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		// Lambda docs, filter rule syntax table.
		{"null", `{"UserID": [null]}`, operatorsEvent, true},
		{"null does not match absent", `{"Missing": [null]}`, operatorsEvent, false},
		{"null does not match empty string", `{"LastName": [null]}`, operatorsEvent, false},
		{"empty", `{"LastName": [""]}`, operatorsEvent, true},
		{"empty does not match null", `{"UserID": [""]}`, operatorsEvent, false},
		{"equals", `{"Name": ["Alice"]}`, operatorsEvent, true},
		{"equals is case sensitive", `{"Name": ["alice"]}`, operatorsEvent, false},
		{"and", `{"Location": ["New York"], "Day": ["Monday"]}`, operatorsEvent, true},
		{"and fails on one field", `{"Location": ["New York"], "Day": ["Tuesday"]}`, operatorsEvent, false},
		{"or", `{"PaymentType": ["Credit", "Debit"]}`, operatorsEvent, true},
		{"or none", `{"PaymentType": ["Cash", "Debit"]}`, operatorsEvent, false},
		{"not", `{"Weather": [{"anything-but": ["Raining"]}]}`, operatorsEvent, true},
		{"not excluded", `{"Weather": [{"anything-but": ["Raining", "Sunny"]}]}`, operatorsEvent, false},
		{"not on absent field", `{"Missing": [{"anything-but": ["Raining"]}]}`, operatorsEvent, false},
		{"numeric equals", `{"Price": [{"numeric": ["=", 100]}]}`, operatorsEvent, true},
		{"numeric equals other spelling", `{"Price": [{"numeric": ["=", 1e2]}]}`, operatorsEvent, true},
		{"numeric range", `{"Price": [{"numeric": [">", 10, "<=", 20]}]}`, operatorsEvent, false},
		{"numeric range hit", `{"Quantity": [{"numeric": [">", 10, "<=", 20]}]}`, operatorsEvent, true},
		{"numeric range bounds", `{"Price": [{"numeric": [">=", 100, "<", 101]}]}`, operatorsEvent, true},
		{"numeric on a string", `{"Name": [{"numeric": [">", 0]}]}`, operatorsEvent, false},
		{"exists", `{"ProductName": [{"exists": true}]}`, operatorsEvent, true},
		{"exists on null", `{"UserID": [{"exists": true}]}`, operatorsEvent, true},
		{"exists absent", `{"Missing": [{"exists": true}]}`, operatorsEvent, false},
		{"does not exist", `{"Missing": [{"exists": false}]}`, operatorsEvent, true},
		{"does not exist but does", `{"ProductName": [{"exists": false}]}`, operatorsEvent, false},
		{"exists on an object is not a leaf", `{"Nested": [{"exists": true}]}`, operatorsEvent, false},
		{"does not exist below a missing parent", `{"Missing": {"Child": [{"exists": false}]}}`, operatorsEvent, true},
		{"exists or value", `{"Missing": [{"exists": false}, "x"]}`, operatorsEvent, true},
		{"begins with", `{"Region": [{"prefix": "us-"}]}`, operatorsEvent, true},
		{"begins with miss", `{"Region": [{"prefix": "eu-"}]}`, operatorsEvent, false},
		// Lambda docs: literal numbers compare by their text.
		{"number literal", `{"Price": [100]}`, operatorsEvent, true},
		{"number literal other spelling", `{"Price": [100.0]}`, operatorsEvent, false},
		{"number literal is not a string", `{"Price": ["100"]}`, operatorsEvent, false},
		{"string literal is not a number", `{"Name": [100]}`, operatorsEvent, false},

		// EventBridge comparison operators (Lambda shares the syntax).
		{"anything-but string", `{"State": [{"anything-but": "initializing"}]}`, operatorsEvent, true},
		{"anything-but prefix", `{"Region": [{"anything-but": {"prefix": "us-"}}]}`, operatorsEvent, false},
		{"anything-but prefix other", `{"Region": [{"anything-but": {"prefix": "eu-"}}]}`, operatorsEvent, true},
		{"anything-but suffix", `{"FileName": [{"anything-but": {"suffix": ".png"}}]}`, operatorsEvent, true},
		{"anything-but ignore case", `{"State": [{"anything-but": {"equals-ignore-case": "initializing"}}]}`, operatorsEvent, false},
		{"anything-but ignore case list", `{"State": [{"anything-but": {"equals-ignore-case": ["running", "stopped"]}}]}`, operatorsEvent, true},
		{"anything-but wildcard", `{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}`, operatorsEvent, false},
		{"anything-but number", `{"Price": [{"anything-but": [100, 200]}]}`, operatorsEvent, false},
		{"anything-but number other", `{"Price": [{"anything-but": 5}]}`, operatorsEvent, true},
		{"prefix ignore case", `{"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}`, operatorsEvent, true},
		{"suffix", `{"FileName": [{"suffix": ".jpg"}]}`, operatorsEvent, true},
		{"suffix ignore case", `{"FileName": [{"suffix": {"equals-ignore-case": ".JPG"}}]}`, operatorsEvent, true},
		{"suffix miss", `{"FileName": [{"suffix": ".png"}]}`, operatorsEvent, false},
		{"equals ignore case", `{"Name": [{"equals-ignore-case": "ALICE"}]}`, operatorsEvent, true},
		{"wildcard", `{"FilePath": [{"wildcard": "/usr/*/lib*.so"}]}`, operatorsEvent, true},
		{"wildcard anchored", `{"FilePath": [{"wildcard": "usr/*"}]}`, operatorsEvent, false},
		{"wildcard no star is equality", `{"Name": [{"wildcard": "Alice"}]}`, operatorsEvent, true},
		{"wildcard escaped star", `{"Name": [{"wildcard": "Ali\\*"}]}`, operatorsEvent, false},
		{"cidr", `{"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}`, operatorsEvent, true},
		{"cidr miss", `{"sourceIPAddress": [{"cidr": "10.1.0.0/16"}]}`, operatorsEvent, false},
		{"$or", `{"$or": [{"Name": ["Bob"]}, {"Price": [{"numeric": [">", 50]}]}]}`, operatorsEvent, true},
		{"$or none", `{"$or": [{"Name": ["Bob"]}, {"Price": [{"numeric": ["<", 50]}]}]}`, operatorsEvent, false},
		{"$or with sibling fields", `{"Day": ["Monday"], "$or": [{"Name": ["Bob"]}, {"Weather": ["Sunny"]}]}`, operatorsEvent, true},
		{"$or nested", `{"data": {"$or": [{"City": ["Paris"]}, {"State": ["WA"]}]}}`, kinesisEvent, true},

		// Arrays in the event: any element.
		{"array element", `{"Colors": ["green"]}`, operatorsEvent, true},
		{"array no element", `{"Colors": ["blue"]}`, operatorsEvent, false},
		{"array numeric", `{"Counts": [{"numeric": [">", 10]}]}`, operatorsEvent, true},
		{"array anything-but any element", `{"Colors": [{"anything-but": "red"}]}`, operatorsEvent, true},
		{"array of objects", `{"Items": {"sku": ["b"], "qty": [7]}}`, operatorsEvent, true},
		{"array of objects same element", `{"Items": {"sku": ["a"], "qty": [7]}}`, operatorsEvent, false},

		// Lambda docs, filtering examples.
		{"kinesis metadata and data", `{"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}`, kinesisEvent, true},
		{"kinesis metadata mismatch", `{"partitionKey": ["2"], "data": {"Location": ["Los Angeles"]}}`, kinesisEvent, false},
		{"kinesis temperature range", `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`, kinesisEvent, false},
		{"kinesis temperature range hit", `{"data": {"Temperature": [{"numeric": [">", 40, "<=", 60]}]}}`, kinesisEvent, true},
		{"multi-level key", `{"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}`, ddbMultiLevelEvent, true},
		{"multi-level key miss", `{"dynamodb": {"Keys": {"Id": {"N": ["102"]}}}}`, ddbMultiLevelEvent, false},
		{"console a in 1 2", `{"a": [1, 2]}`, `{"a": 2}`, true},
		{"console a in 1 2 miss", `{"a": [1, 2]}`, `{"a": 3}`, false},

		// Lambda docs, DynamoDB event source.
		{"table key", `{"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}`, ddbCustomerEvent, true},
		{"table attribute", `{"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}}}}`, ddbCustomerEvent, true},
		{"boolean and", `{"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}, "PaymentTerms": {"S": ["60 days"]}}}}`, ddbCustomerEvent, true},
		{"boolean and miss", `{"dynamodb": {"NewImage": {"AccountManager": {"S": ["Pat Candella"]}, "PaymentTerms": {"S": ["30 days"]}}}}`, ddbCustomerEvent, false},
		{"exists on attribute value", `{"dynamodb": {"NewImage": {"AccountManager": {"S": [{"exists": true}]}}}}`, ddbCustomerEvent, true},
		{"exists on attribute itself is not a leaf", `{"dynamodb": {"NewImage": {"AccountManager": [{"exists": true}]}}}`, ddbCustomerEvent, false},
		{"does not exist", `{"dynamodb": {"NewImage": {"Discount": {"S": [{"exists": false}]}}}}`, ddbCustomerEvent, true},
		{"event name", `{"eventName": ["INSERT"]}`, ddbCustomerEvent, true},

		// civicsnap: consumers that want resolved reports.
		{"status resolved on insert or modify", `{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["resolved"]}}}}`, reportModifyEvent, true},
		{"status changed from", `{"dynamodb": {"OldImage": {"status": {"S": [{"anything-but": "resolved"}]}}, "NewImage": {"status": {"S": ["resolved"]}}}}`, reportModifyEvent, true},
		{"status other", `{"dynamodb": {"NewImage": {"status": {"S": ["rejected"]}}}}`, reportModifyEvent, false},
		{"remove only", `{"eventName": ["REMOVE"]}`, reportModifyEvent, false},
		{"key prefix", `{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "REPORT#"}]}, "sk": {"S": ["REPORT"]}}}}`, reportModifyEvent, true},
		{"string set element", `{"dynamodb": {"NewImage": {"tags": {"SS": ["night"]}}}}`, reportModifyEvent, true},
		{"ddb number as string", `{"dynamodb": {"NewImage": {"points": {"N": ["10"]}}}}`, reportModifyEvent, true},
		{"ddb number is not numeric", `{"dynamodb": {"NewImage": {"points": {"N": [{"numeric": [">", 5]}]}}}}`, reportModifyEvent, false},

		// Lambda docs, SQS body: a JSON pattern never matches a plain-string body and vice versa.
		{"sqs json body json pattern", `{"body": {"kind": ["report"]}}`, `{"body": {"kind": "report"}}`, true},
		{"sqs plain body plain pattern", `{"body": ["hello"]}`, `{"body": "hello"}`, true},
		{"sqs plain body json pattern", `{"body": {"kind": ["report"]}}`, `{"body": "kind=report"}`, false},
		{"sqs json body plain pattern", `{"body": ["report"]}`, `{"body": {"kind": "report"}}`, false},

		{"empty pattern matches all", `{}`, operatorsEvent, true},
		{"empty rule list matches nothing", `{"Name": []}`, operatorsEvent, false},
		{"non-object event", `{"a": ["x"]}`, `"x"`, false},
		{"invalid event", `{"a": ["x"]}`, `{"a": "x"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.pattern)
			if err != nil {
				t.Fatalf("Compile(%s): %v", tt.pattern, err)
			}
			if got := p.Match([]byte(tt.event)); got != tt.want {
				t.Errorf("Match = %v, want %v\npattern %s", got, tt.want, tt.pattern)
			}
		})
	}
}

func TestMatchValueWithStandardDecoding(t *testing.T) {
	// Events decoded by json.Unmarshal carry float64 numbers.
	var event map[string]any
	if err := json.Unmarshal([]byte(`{"n": 42, "f": 1.5, "s": "x"}`), &event); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"n": [42]}`, true},
		{`{"f": [1.5]}`, true},
		{`{"n": [{"numeric": [">", 41]}]}`, true},
		{`{"s": ["x"], "n": [43]}`, false},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.MatchValue(event); got != tt.want {
			t.Errorf("%s: MatchValue = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestMatchAny(t *testing.T) {
	insert := mustCompile(t, `{"eventName": ["INSERT"]}`)
	resolved := mustCompile(t, `{"dynamodb": {"NewImage": {"status": {"S": ["resolved"]}}}}`)
	remove := mustCompile(t, `{"eventName": ["REMOVE"]}`)
	tests := []struct {
		name     string
		patterns []*Pattern
		event    string
		want     bool
	}{
		{"no filters lets everything through", nil, reportModifyEvent, true},
		{"no filters lets even invalid JSON through", nil, `not json`, true},
		{"first matches", []*Pattern{resolved, insert}, reportModifyEvent, true},
		{"second matches", []*Pattern{insert, resolved}, reportModifyEvent, true},
		{"none matches", []*Pattern{insert, remove}, reportModifyEvent, false},
		{"invalid JSON with filters", []*Pattern{insert}, `not json`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchAny(tt.patterns, []byte(tt.event)); got != tt.want {
				t.Errorf("MatchAny = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string // substring of the error
	}{
		{"invalid JSON", `{"a": [`, "unexpected EOF"},
		{"trailing data", `{"a": ["x"]} {}`, "trailing data"},
		{"not an object", `["a"]`, "want a JSON object"},
		{"scalar rule", `{"a": "x"}`, `a: want an array of rules or an object, got "x"`},
		{"nested scalar rule", `{"a": {"b": 5}}`, "a.b: want an array of rules or an object, got number 5"},
		{"nested array", `{"a": [["x"]]}`, "a[0]: want a literal or an operator object"},
		{"unknown operator", `{"a": [{"contains": "x"}]}`, `unknown operator "contains"`},
		{"two operators in one object", `{"a": [{"prefix": "x", "suffix": "y"}]}`, "exactly one key"},
		{"prefix not a string", `{"a": [{"prefix": 5}]}`, "a[0].prefix: want a string"},
		{"prefix bad object", `{"a": [{"prefix": {"wildcard": "x"}}]}`, "equals-ignore-case"},
		{"suffix not a string", `{"a": [{"suffix": ["x"]}]}`, "a[0].suffix: want a string"},
		{"equals-ignore-case not a string", `{"a": [{"equals-ignore-case": 1}]}`, "want a string"},
		{"exists not a bool", `{"a": [{"exists": "yes"}]}`, "want true or false"},
		{"numeric unknown op", `{"a": [{"numeric": ["!=", 5]}]}`, `unknown numeric operator "!="`},
		{"numeric odd length", `{"a": [{"numeric": [">", 5, "<"]}]}`, "want [op, number]"},
		{"numeric not a number", `{"a": [{"numeric": [">", "5"]}]}`, "want a number"},
		{"numeric two lower bounds", `{"a": [{"numeric": [">", 1, ">=", 2]}]}`, "two lower bounds"},
		{"numeric equals with range", `{"a": [{"numeric": ["=", 1, "<", 2]}]}`, "cannot be combined"},
		{"anything-but mixed", `{"a": [{"anything-but": ["x", 1]}]}`, "all strings or all numbers"},
		{"anything-but bool", `{"a": [{"anything-but": true}]}`, "want a string, number, list"},
		{"anything-but empty", `{"a": [{"anything-but": []}]}`, "non-empty list"},
		{"anything-but unknown", `{"a": [{"anything-but": {"numeric": [">", 1]}}]}`, `unknown operator "numeric" in anything-but`},
		{"wildcard consecutive stars", `{"a": [{"wildcard": "a**b"}]}`, "consecutive wildcard"},
		{"wildcard bad escape", `{"a": [{"wildcard": "a\\nb"}]}`, "may be escaped"},
		{"cidr invalid", `{"a": [{"cidr": "10.0.0.0/33"}]}`, "a[0].cidr"},
		{"$or not a list", `{"$or": {"a": ["x"]}}`, "$or: want a non-empty array of objects"},
		{"$or element not an object", `{"$or": [["x"]]}`, "$or[0]: want an object"},
		{"$or bad alternative", `{"$or": [{"a": "x"}]}`, `$or[0].a: want an array`},
		{"too long", `{"a": ["` + strings.Repeat("x", MaxPatternLength) + `"]}`, "at most 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.pattern)
			if err == nil {
				t.Fatalf("Compile(%s) = %v, want an error", tt.pattern, p)
			}
			if !errors.Is(err, ErrInvalidPattern) {
				t.Errorf("error %v does not wrap ErrInvalidPattern", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestCompileAll(t *testing.T) {
	ps, err := CompileAll([]string{`{"a": ["x"]}`, `{"b": [1]}`})
	if err != nil || len(ps) != 2 || ps[1].String() != `{"b": [1]}` {
		t.Fatalf("CompileAll = %v, %v", ps, err)
	}
	if _, err := CompileAll([]string{`{"a": ["x"]}`, `{"b": 1}`}); err == nil || !strings.HasPrefix(err.Error(), "filter 1:") {
		t.Errorf("CompileAll with a bad second filter: %v, want an error naming filter 1", err)
	}
}

func mustCompile(t *testing.T, s string) *Pattern {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
