package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The reconciler's checkpoint of a user's ledger:
//
//	checkpoint   pk=USER#<sub>  sk=RECONCILED   {sum, through, at}
//
// sum is the total of the ledger entries up to and including the one whose sort key is through. Ledger
// entries are append-only and sorted by their time, so the ledger's sum is sum plus the entries after
// through: the reconciler reads those only, and its daily work follows the ledger's new entries, not its
// history.
type checkpointItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Type    string `dynamodbav:"type"`
	Sum     int64  `dynamodbav:"sum"`
	Through string `dynamodbav:"through"`
	At      string `dynamodbav:"at"`
}

const (
	checkpointSK = "RECONCILED"
	ledgerPrefix = "LEDGER#"
	ledgerEnd    = "LEDGER$" // the first key after every ledger entry ('$' follows '#')
)

// CheckpointedSum returns the sum of sub's ledger, reading the checkpoint (1 GetItem) and the entries after
// it (1 Query a page). It moves the checkpoint over the entries timed before settled (1 PutItem when it
// moves): an entry is written at most a bounded time after its own time (an award carries its
// resolution's time and a stream record is at most a day old), so entries after settled may still be
// joined by others sorted before them, and are read again next time. rebuild ignores the stored
// checkpoint, reads the whole ledger and writes a fresh checkpoint: the reconciler does that before it
// repairs a balance, in case an entry arrived later than the bound.
func (s *Store) CheckpointedSum(ctx context.Context, sub string, settled time.Time, rebuild bool) (int64, error) {
	var cp checkpointItem
	if !rebuild {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": str(userPK(sub)), "sk": str(checkpointSK)}})
		if err != nil {
			return 0, translate("get ledger checkpoint", err)
		}
		if out.Item != nil {
			if err := attributevalue.UnmarshalMap(out.Item, &cp); err != nil {
				return 0, fmt.Errorf("decode ledger checkpoint: %w", err)
			}
		}
	}
	from := ledgerPrefix
	if cp.Through != "" {
		from = cp.Through // BETWEEN is inclusive: the checkpoint's own entry is read and skipped
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :end"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(sub)), ":from": str(from), ":end": str(ledgerEnd)},
		ProjectionExpression:      aws.String("sk, delta"), ConsistentRead: aws.Bool(true),
	}
	cutoff := ledgerPrefix + timeKey(settled)
	sum, settledSum, through := cp.Sum, cp.Sum, cp.Through
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, translate("sum ledger after checkpoint", err)
		}
		for _, it := range out.Items {
			sk, _ := it["sk"].(*types.AttributeValueMemberS)
			if sk == nil || sk.Value == cp.Through || !strings.HasPrefix(sk.Value, ledgerPrefix) {
				continue
			}
			var delta int64
			if v, ok := it["delta"].(*types.AttributeValueMemberN); ok {
				if delta, err = strconv.ParseInt(v.Value, 10, 64); err != nil {
					return 0, fmt.Errorf("ledger delta %q: %w", v.Value, err)
				}
			}
			sum += delta
			if sk.Value < cutoff { // settled entries are a prefix: keys begin with the entry's time
				settledSum, through = settledSum+delta, sk.Value
			}
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if through != cp.Through || rebuild {
		if err := s.putCheckpoint(ctx, sub, checkpointItem{PK: userPK(sub), SK: checkpointSK, Type: "checkpoint",
			Sum: settledSum, Through: through, At: timeKey(time.Now())}, rebuild); err != nil {
			return 0, err
		}
	}
	return sum, nil
}

// putCheckpoint writes a checkpoint that only moves forward (a concurrent or re-sent write of the same or
// a later one wins; both are sums of the same ledger), or, rebuilding, replaces it.
func (s *Store) putCheckpoint(ctx context.Context, sub string, cp checkpointItem, replace bool) error {
	item, err := attributevalue.MarshalMap(cp)
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: item}
	if !replace {
		in.ConditionExpression = aws.String("attribute_not_exists(pk) OR through < :through")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":through": str(cp.Through)}
	}
	_, err = s.db.PutItem(ctx, in)
	if _, ok := conditionFailed(err); ok {
		return nil // a write of this checkpoint or a later one got there first
	}
	if err != nil {
		return translate("put ledger checkpoint", err)
	}
	return nil
}
