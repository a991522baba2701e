package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The "about to expire" walk's checkpoint of a goods item (market.WarnCheckpoints): ITEM#<id> /
// PICKUPWARNED, `through` a by-item index position (gsi2 ITEMRED#<item>'s sort key), as the expiry
// sweep's PICKUPSWEPT beside it. One small item per goods item, written when the walk moves.

func warnCheckpointKey(itemID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(itemPK(itemID)), "sk": str("PICKUPWARNED")}
}

// ExpiryWarningCheckpoint reads the walk's checkpoint of a goods item ("" before its first run).
func (s *Store) ExpiryWarningCheckpoint(ctx context.Context, itemID string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: warnCheckpointKey(itemID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", translate("get expiry notice checkpoint", err)
	}
	return stringAttr(out.Item, "through"), nil
}

// PutExpiryWarningCheckpoint moves the checkpoint forward (a concurrent or re-sent write of the same or a
// later one wins; never back).
func (s *Store) PutExpiryWarningCheckpoint(ctx context.Context, itemID, pos string) error {
	item := warnCheckpointKey(itemID)
	item["type"], item["through"] = str("sweep"), str(pos)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR through < :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(pos)}})
	if _, ok := conditionFailed(err); ok {
		return nil
	}
	if err != nil {
		return translate("put expiry notice checkpoint", err)
	}
	return nil
}
