package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/notify"
)

// Deliveries:
//
//	delivery   pk=DELIVERY#<webhook-id>  sk=DELIVERY
//	  gsi1     gsi1pk=DELIVERIES#<dept>  gsi1sk=<createdAt>#<webhook-id>   (a department's, newest first)
type deliveryItem struct {
	ID        string           `dynamodbav:"id"`
	Dept      string           `dynamodbav:"dept"`
	Type      string           `dynamodbav:"notificationType"`
	ReportID  string           `dynamodbav:"reportId"`
	Status    string           `dynamodbav:"status"`
	Attempts  []notify.Attempt `dynamodbav:"attempts"`
	CreatedAt string           `dynamodbav:"createdAt"`
	UpdatedAt string           `dynamodbav:"updatedAt"`
}

// RecordAttempt appends an attempt and sets the status, creating the record on the first attempt: one
// UpdateItem. The attempt's id (its receive number and its time to the nanosecond) goes into a set in the
// same write, which is conditional on the id not being there: the SDK re-sends a request whose answer was
// lost, and the re-sent append must not record the attempt twice. A failed condition is that case.
func (s *Store) RecordAttempt(ctx context.Context, n dispatch.Notification, a notify.Attempt, st notify.Status) error {
	att, err := attributevalue.Marshal([]notify.Attempt{a})
	if err != nil {
		return err
	}
	at := timeKey(a.At)
	aid := fmt.Sprintf("%d@%d", a.Number, a.At.UnixNano())
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       map[string]types.AttributeValue{"pk": str("DELIVERY#" + n.ID), "sk": str("DELIVERY")},
		UpdateExpression: aws.String("SET #st = :st, updatedAt = :at, attempts = list_append(if_not_exists(attempts, :empty), :a), " +
			"id = :id, dept = :dept, notificationType = :typ, reportId = :rid, #type = :delivery, " +
			"createdAt = if_not_exists(createdAt, :at), gsi1pk = :g, gsi1sk = if_not_exists(gsi1sk, :gs) ADD attemptIds :aids"),
		ConditionExpression:      aws.String("NOT contains(attemptIds, :aid)"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(string(st)), ":at": str(at), ":a": att, ":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			":id": str(n.ID), ":dept": str(n.Dept), ":typ": str(n.Type), ":rid": str(n.ReportID), ":delivery": str("delivery"),
			":g": str("DELIVERIES#" + n.Dept), ":gs": str(at + "#" + n.ID),
			":aid": str(aid), ":aids": &types.AttributeValueMemberSS{Value: []string{aid}},
		},
	})
	if _, ok := conditionFailed(err); ok {
		return nil // recorded by the first send of this very request
	}
	if err != nil {
		return translate("record delivery attempt", err)
	}
	return nil
}

// Deliveries lists a department's deliveries newest first.
func (s *Store) Deliveries(ctx context.Context, dept string, limit int, cursor string) ([]notify.Delivery, string, error) {
	pk := "DELIVERIES#" + dept
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		c, err := decodeIndexCursor(cursor, pk, "DELIVERY#", "")
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "gsi1pk": str(c.GPK), "gsi1sk": str(c.GSK)}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query deliveries", err)
	}
	var items []deliveryItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", fmt.Errorf("decode deliveries: %w", err)
	}
	res := make([]notify.Delivery, len(items))
	for i, it := range items {
		res[i] = notify.Delivery{ID: it.ID, Dept: it.Dept, Type: it.Type, ReportID: it.ReportID, Status: notify.Status(it.Status),
			Attempts: it.Attempts, CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt)}
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		get := func(k string) string {
			if v, ok := lek[k].(*types.AttributeValueMemberS); ok {
				return v.Value
			}
			return ""
		}
		b, _ := json.Marshal(queueCursor{PK: get("pk"), SK: get("sk"), GPK: get("gsi1pk"), GSK: get("gsi1sk")})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return res, next, nil
}
