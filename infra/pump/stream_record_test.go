package pump

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

func TestLambdaValue(t *testing.T) {
	tests := []struct {
		name string
		in   types.AttributeValue
		want string // the JSON Lambda delivers
	}{
		{"string", &types.AttributeValueMemberS{Value: "路灯不亮"}, `{"S":"路灯不亮"}`},
		{"empty string", &types.AttributeValueMemberS{Value: ""}, `{"S":""}`},
		{"number stays text", &types.AttributeValueMemberN{Value: "1.50"}, `{"N":"1.50"}`},
		{"big number", &types.AttributeValueMemberN{Value: "12345678901234567890123456789"}, `{"N":"12345678901234567890123456789"}`},
		{"binary", &types.AttributeValueMemberB{Value: []byte{0, 1, 0xff}}, `{"B":"AAH/"}`},
		{"bool", &types.AttributeValueMemberBOOL{Value: false}, `{"BOOL":false}`},
		{"null", &types.AttributeValueMemberNULL{Value: true}, `{"NULL":true}`},
		{"string set", &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, `{"SS":["a","b"]}`},
		{"number set", &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}}, `{"NS":["1","2.5"]}`},
		{"binary set", &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}}, `{"BS":["AQ==","Ag=="]}`},
		{"list", &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberN{Value: "7"}, &types.AttributeValueMemberNULL{Value: true},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: true}}},
		}}, `{"L":[{"N":"7"},{"NULL":true},{"L":[{"BOOL":true}]}]}`},
		{"empty list", &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, `{"L":[]}`},
		{"map", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"lat": &types.AttributeValueMemberN{Value: "23.3695"},
			"tags": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"night": &types.AttributeValueMemberBOOL{Value: true},
			}},
		}}, `{"M":{"lat":{"N":"23.3695"},"tags":{"M":{"night":{"BOOL":true}}}}}`},
		{"empty map", &types.AttributeValueMemberM{}, `{"M":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := lambdaValue(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if compact(t, string(got)) != tt.want {
				t.Errorf("JSON = %s, want %s", got, tt.want)
			}
			// The handler's side: what Lambda's JSON decodes to must be the same value.
			var back events.DynamoDBAttributeValue
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode as the handler would: %v", err)
			}
			again, _ := json.Marshal(back)
			if string(again) != string(got) {
				t.Errorf("round trip = %s, want %s", again, got)
			}
		})
	}

	if _, err := lambdaValue(&types.UnknownUnionMember{Tag: "X"}); err == nil {
		t.Error("an unknown member converted without error")
	}
}

func TestLambdaRecord(t *testing.T) {
	created := time.Date(2026, 3, 14, 1, 2, 3, 456e6, time.UTC)
	in := types.Record{
		EventID:      aws.String("e1"),
		EventName:    types.OperationTypeModify,
		EventSource:  aws.String("aws:dynamodb"),
		EventVersion: aws.String("1.0"),
		AwsRegion:    aws.String("moto-says-us-east-1"),
		UserIdentity: &types.Identity{Type: aws.String("Service"), PrincipalId: aws.String("dynamodb.amazonaws.com")},
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: aws.Time(created),
			Keys:                        map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#1"}},
			NewImage:                    map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#1"}, "n": &types.AttributeValueMemberN{Value: "2"}},
			OldImage:                    map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REPORT#1"}, "n": &types.AttributeValueMemberN{Value: "1"}},
			SequenceNumber:              aws.String("100"),
			SizeBytes:                   aws.Int64(42),
			StreamViewType:              types.StreamViewTypeNewAndOldImages,
		},
	}
	rec, gotCreated, err := lambdaRecord(in, "ap-east-1", "arn:aws:dynamodb:ap-east-1:1:table/t/stream/x")
	if err != nil {
		t.Fatal(err)
	}
	if !gotCreated.Equal(created) {
		t.Errorf("created = %v, want %v (full precision)", gotCreated, created)
	}
	got, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"awsRegion":"ap-east-1","dynamodb":{"ApproximateCreationDateTime":1773450123,` +
		`"Keys":{"pk":{"S":"REPORT#1"}},"NewImage":{"n":{"N":"2"},"pk":{"S":"REPORT#1"}},` +
		`"OldImage":{"n":{"N":"1"},"pk":{"S":"REPORT#1"}},"SequenceNumber":"100","SizeBytes":42,` +
		`"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventID":"e1","eventName":"MODIFY","eventSource":"aws:dynamodb",` +
		`"eventSourceARN":"arn:aws:dynamodb:ap-east-1:1:table/t/stream/x","eventVersion":"1.1",` +
		`"userIdentity":{"principalId":"dynamodb.amazonaws.com","type":"Service"}}`
	if compact(t, string(got)) != want {
		t.Errorf("record JSON\n got %s\nwant %s", got, want)
	}

	// KEYS_ONLY and INSERT records carry no images, and the JSON leaves them out.
	in.Dynamodb.NewImage, in.Dynamodb.OldImage, in.UserIdentity = nil, nil, nil
	rec, _, err = lambdaRecord(in, "ap-east-1", "s")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(rec)
	if strings.Contains(string(got), "Image") || strings.Contains(string(got), "userIdentity") {
		t.Errorf("absent images or identity in JSON: %s", got)
	}

	in.Dynamodb = nil
	if _, _, err := lambdaRecord(in, "r", "s"); err == nil {
		t.Error("a record without a dynamodb section converted without error")
	}
}

// compact re-encodes JSON without the spaces events.DynamoDBAttributeValue writes, keys sorted.
func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", s, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
