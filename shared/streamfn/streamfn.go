// Package streamfn adapts DynamoDB stream events for the stream functions: stream images become SDK
// attribute values (so the store's decoders read them), and a batch is processed in order with partial
// batch failures reported by SequenceNumber — Lambda then retries from the first failed record, so order is
// kept and records before it are not redelivered.
package streamfn

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Image converts a stream image to SDK attribute values.
func Image(img map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		out[k] = Value(v)
	}
	return out
}

// Value converts one attribute value.
func Value(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			out[i] = Value(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: Image(v.Map())}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}

// Process calls fn for each record in order. At the first failure it stops and reports that record's
// SequenceNumber, so the event source mapping retries from there (with bisection and bounded retries as
// the template configures); the records after it were not attempted and come again with it.
func Process(ctx context.Context, log *slog.Logger, ev events.DynamoDBEvent, fn func(context.Context, events.DynamoDBEventRecord) error) events.DynamoDBEventResponse {
	for _, rec := range ev.Records {
		if err := fn(ctx, rec); err != nil {
			log.ErrorContext(ctx, "stream record failed", "eventId", rec.EventID, "sequenceNumber", rec.Change.SequenceNumber, "err", err.Error())
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}}
		}
	}
	return events.DynamoDBEventResponse{}
}

// Lambda converts SDK attribute values (a GetItem's item) into a stream image as Lambda delivers it — the
// inverse of Image, for building test events and replays from stored items.
func Lambda(item map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = lambdaValue(v)
	}
	return out
}

func lambdaValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			l[i] = lambdaValue(x)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(Lambda(v.Value))
	}
	return events.NewNullAttribute()
}
