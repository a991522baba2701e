package dynamostore

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/idem"
)

type idemItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	BodyHash    string `dynamodbav:"bodyHash"`
	Status      string `dynamodbav:"status"`
	ResourceID  string `dynamodbav:"resourceId"`
	Attempt     string `dynamodbav:"attempt,omitempty"`
	Result      []byte `dynamodbav:"result,omitempty"`
	LockedUntil int64  `dynamodbav:"lockedUntil"` // unix ms
	TTL         int64  `dynamodbav:"ttl"`         // unix s
}

func idemPK(r idem.Record) string { return "IDEM#" + r.Scope + "#" + r.Owner + "#" + r.Key }

func toIdemItem(r idem.Record) idemItem {
	return idemItem{
		PK: idemPK(r), SK: "IDEM", BodyHash: r.BodyHash, Status: string(r.Status), ResourceID: r.ResourceID,
		Attempt: r.Attempt, Result: r.Result, LockedUntil: r.LockedUntil.UnixMilli(), TTL: r.ExpiresAt.Unix(),
	}
}

func fromIdemItem(scope, owner, key string, it idemItem) idem.Record {
	return idem.Record{
		Scope: scope, Owner: owner, Key: key, BodyHash: it.BodyHash, Status: idem.Status(it.Status),
		ResourceID: it.ResourceID, Attempt: it.Attempt, Result: it.Result, LockedUntil: time.UnixMilli(it.LockedUntil),
		ExpiresAt: time.Unix(it.TTL, 0),
	}
}

func idemKey(r idem.Record) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: idemPK(r)}, "sk": &types.AttributeValueMemberS{Value: "IDEM"},
	}
}

// ClaimKey puts the in-flight record unless the key is held. A record past its TTL that DynamoDB has not
// yet deleted counts as free. When the key is held, the existing record comes back with the failed
// condition (ReturnValuesOnConditionCheckFailure), so a replay costs this one call.
//
// "Past its TTL" is judged by the claimant's clock (rec.ClaimedAt), which set the TTL: the functions'
// clock, which the local stack can set to another day than the wall clock (make demo, make scale). By the
// wall clock every key claimed a month back would look expired, and a retried request would create again.
func (s *Store) ClaimKey(ctx context.Context, rec idem.Record) (*idem.Record, error) {
	item, err := attributevalue.MarshalMap(toIdemItem(rec))
	if err != nil {
		return nil, err
	}
	now := rec.ClaimedAt
	if now.IsZero() {
		now = time.Now()
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR #ttl < :now"),
		ExpressionAttributeNames:            map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": num(now.Unix())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, nil
	}
	ccf, ok := conditionFailed(err)
	if !ok {
		return nil, translate("claim idempotency key", err)
	}
	old := ccf.Item
	if old == nil { // a store that does not return the item: read it
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: idemKey(rec), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, translate("read idempotency key", err)
		}
		if out.Item == nil { // released in between: the caller may retry
			return nil, idem.ErrInFlight
		}
		old = out.Item
	}
	var it idemItem
	if err := attributevalue.UnmarshalMap(old, &it); err != nil {
		return nil, err
	}
	existing := fromIdemItem(rec.Scope, rec.Owner, rec.Key, it)
	if existing.Status == idem.InFlight && existing.ResourceID == rec.ResourceID && existing.BodyHash == rec.BodyHash {
		// Our own claim: the SDK retried this PutItem after its first answer was lost, and the retry met
		// the item the first attempt wrote. The resource id is fresh per request, so nobody else has it.
		return nil, nil
	}
	return &existing, nil
}

// TakeOverKey renews a dead in-flight claim, only if nobody renewed it since it was read, and names this
// request (rec.Attempt) its holder. When the condition fails, the item as it was (ALL_OLD) tells whether
// this request took it over already: the SDK re-sent the UpdateItem after the first answer was lost.
func (s *Store) TakeOverKey(ctx context.Context, rec idem.Record, prevLockedUntil time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 idemKey(rec),
		UpdateExpression:    aws.String("SET lockedUntil = :new, attempt = :attempt"),
		ConditionExpression: aws.String("#st = :inflight AND lockedUntil = :prev AND resourceId = :rid"),
		ExpressionAttributeNames: map[string]string{
			"#st": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new":      num(rec.LockedUntil.UnixMilli()),
			":prev":     num(prevLockedUntil.UnixMilli()),
			":inflight": &types.AttributeValueMemberS{Value: string(idem.InFlight)},
			":rid":      &types.AttributeValueMemberS{Value: rec.ResourceID},
			":attempt":  &types.AttributeValueMemberS{Value: rec.Attempt},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		if rec.Attempt != "" && stringAttr(ccf.Item, "attempt") == rec.Attempt && stringAttr(ccf.Item, "status") == string(idem.InFlight) {
			return nil
		}
		return idem.ErrInFlight
	}
	if err != nil {
		return translate("take over idempotency key", err)
	}
	return nil
}

// ReleaseKey deletes an in-flight claim this request holds: one with its resource id and, when the
// request is named, its attempt (a request that was taken over holds nothing any more).
func (s *Store) ReleaseKey(ctx context.Context, rec idem.Record) error {
	cond := "#st = :inflight AND resourceId = :rid"
	vals := map[string]types.AttributeValue{":inflight": &types.AttributeValueMemberS{Value: string(idem.InFlight)}, ":rid": &types.AttributeValueMemberS{Value: rec.ResourceID}}
	if rec.Attempt != "" {
		cond += " AND attempt = :attempt"
		vals[":attempt"] = &types.AttributeValueMemberS{Value: rec.Attempt}
	}
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &s.table,
		Key:                       idemKey(rec),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: vals,
	})
	if _, ok := conditionFailed(err); ok {
		return nil // someone else holds or finished it: nothing of ours to release
	}
	if err != nil {
		return translate("release idempotency key", err)
	}
	return nil
}

// completeKey is the transaction item that turns this request's in-flight claim into the stored result.
func (s *Store) completeKey(rec idem.Record) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(toIdemItem(rec))
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 &s.table,
		Item:                      item,
		ConditionExpression:       aws.String("#st = :inflight AND resourceId = :rid"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":inflight": &types.AttributeValueMemberS{Value: string(idem.InFlight)}, ":rid": &types.AttributeValueMemberS{Value: rec.ResourceID}},
	}}, nil
}

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
