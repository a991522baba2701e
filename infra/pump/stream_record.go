package pump

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// streamEventVersion is the eventVersion of DynamoDB stream records as Lambda delivers them today; moto
// answers "1.0".
const streamEventVersion = "1.1"

// lambdaRecord converts a record from GetRecords into the record Lambda puts in a DynamoDBEvent. It also
// returns the record's creation time at full precision (Lambda's ApproximateCreationDateTime is whole
// seconds), which MaximumRecordAge is measured from.
func lambdaRecord(r types.Record, region, streamARN string) (events.DynamoDBEventRecord, time.Time, error) {
	out := events.DynamoDBEventRecord{
		AWSRegion:      region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   streamEventVersion,
		EventSourceArn: streamARN,
	}
	if id := r.UserIdentity; id != nil {
		out.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(id.Type), PrincipalID: aws.ToString(id.PrincipalId)}
	}
	sr := r.Dynamodb
	if sr == nil {
		return out, time.Time{}, fmt.Errorf("record %s has no dynamodb section", out.EventID)
	}
	created := aws.ToTime(sr.ApproximateCreationDateTime)
	change := events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: created.Truncate(time.Second)},
		SequenceNumber:              aws.ToString(sr.SequenceNumber),
		SizeBytes:                   aws.ToInt64(sr.SizeBytes),
		StreamViewType:              string(sr.StreamViewType),
	}
	var err error
	if change.Keys, err = lambdaImage(sr.Keys); err != nil {
		return out, created, fmt.Errorf("record %s keys: %w", change.SequenceNumber, err)
	}
	if change.NewImage, err = lambdaImage(sr.NewImage); err != nil {
		return out, created, fmt.Errorf("record %s new image: %w", change.SequenceNumber, err)
	}
	if change.OldImage, err = lambdaImage(sr.OldImage); err != nil {
		return out, created, fmt.Errorf("record %s old image: %w", change.SequenceNumber, err)
	}
	out.Change = change
	return out, created, nil
}

// lambdaImage converts an item image; nil stays nil so the JSON leaves the image out, as Lambda does.
func lambdaImage(item map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if item == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for _, k := range slices.Sorted(maps.Keys(item)) {
		v, err := lambdaValue(item[k])
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// lambdaValue converts one attribute value. Numbers stay strings, exactly as the stream carries them.
func lambdaValue(v types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *types.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, el := range v.Value {
			c, err := lambdaValue(el)
			if err != nil {
				return events.DynamoDBAttributeValue{}, fmt.Errorf("element %d: %w", i, err)
			}
			list[i] = c
		}
		return events.NewListAttribute(list), nil
	case *types.AttributeValueMemberM:
		m, err := lambdaImage(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m), nil
	default:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", v)
	}
}
