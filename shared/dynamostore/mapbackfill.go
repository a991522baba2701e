package dynamostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/report"
)

// The public map's backfill (infra/cmd/mapbackfill): reports filed before gsi6 existed have no mapCell
// and mapKey, so they are not on the map. A one-off walk of the day partitions (gsi3 CREATED#<day>, keys
// only) reads each page's reports (BatchGetItem: location, creation, map keys, private) and sets the map
// keys of those that lack them and are public, with a conditional UpdateItem each
// (attribute_not_exists(mapCell) AND attribute_not_exists(private)), so a run sent twice, racing intake
// or another run writes each entry once. Its checkpoint is one item per range.

// MapBackfillPage is what one page of a day's backfill did.
type MapBackfillPage struct {
	Read    int    // reports read
	Written int    // map keys set
	Had     int    // already on the map (filed with them, or backfilled before)
	Private int    // filed as not public: left off the map
	Next    string // the position after the page ("" at the day's end)
}

// BackfillMapDay backfills one page (at most limit reports) of the reports created on local day, from
// after (a position it returned, "" for the day's start).
func (s *Store) BackfillMapDay(ctx context.Context, day, after string, limit int) (MapBackfillPage, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi3"),
		KeyConditionExpression:    aws.String("gsi3pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("CREATED#" + day)},
		ProjectionExpression:      aws.String("pk, sk, gsi3pk, gsi3sk"),
		Limit:                     aws.Int32(int32(limit)),
	}
	if after != "" {
		id, ok := createdSKID(after)
		if !ok {
			return MapBackfillPage{}, fmt.Errorf("backfill position %q: not a CREATED# sort key", after)
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(reportPK(id)), "sk": str(reportSK),
			"gsi3pk": str("CREATED#" + day), "gsi3sk": str(after)}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return MapBackfillPage{}, translate("query reports created on "+day, err)
	}
	var page MapBackfillPage
	keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
	for _, it := range out.Items {
		if strings.HasPrefix(stringAttr(it, "pk"), "REPORT#") && stringAttr(it, "sk") == reportSK {
			keys = append(keys, map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]})
		}
	}
	type located struct {
		PK        string  `dynamodbav:"pk"`
		Lat       float64 `dynamodbav:"lat"`
		Lng       float64 `dynamodbav:"lng"`
		CreatedAt string  `dynamodbav:"createdAt"`
		MapCell   string  `dynamodbav:"mapCell"`
		Private   bool    `dynamodbav:"private"`
	}
	var todo []located
	err = s.batchGetEach(ctx, keys, "pk, lat, lng, createdAt, mapCell, #pv", map[string]string{"#pv": "private"}, func(raw map[string]types.AttributeValue) error {
		var it located
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return fmt.Errorf("decode report: %w", err)
		}
		page.Read++
		switch {
		case it.Private:
			page.Private++
		case it.MapCell != "":
			page.Had++
		default:
			todo = append(todo, it)
		}
		return nil
	})
	if err != nil {
		return MapBackfillPage{}, err
	}
	for _, it := range todo {
		cell, key := report.MapKeys(report.Location{Lat: it.Lat, Lng: it.Lng}, it.CreatedAt)
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table,
			Key:                       map[string]types.AttributeValue{"pk": str(it.PK), "sk": str(reportSK)},
			UpdateExpression:          aws.String("SET mapCell = :cell, mapKey = :key"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(mapCell) AND attribute_not_exists(#pv)"),
			ExpressionAttributeNames:  map[string]string{"#pv": "private"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":cell": str(cell), ":key": str(key)},
		})
		if _, ok := conditionFailed(err); ok {
			page.Had++ // set meanwhile (another run, or the SDK's re-send of this one)
			continue
		}
		if err != nil {
			return MapBackfillPage{}, translate("set map keys of "+it.PK, err)
		}
		page.Written++
	}
	if lek := out.LastEvaluatedKey; lek != nil {
		page.Next = stringAttr(lek, "gsi3sk")
	}
	return page, nil
}

// MapBackfillCheckpoint reads the backfill's position for a range ("" day before its first page).
func (s *Store) MapBackfillCheckpoint(ctx context.Context, rangeID string) (day, after string, done bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": str("MIGRATION#mapbackfill"), "sk": str(rangeID)}})
	if err != nil {
		return "", "", false, translate("get map backfill checkpoint", err)
	}
	_, done = out.Item["done"]
	return stringAttr(out.Item, "day"), stringAttr(out.Item, "after"), done, nil
}

// PutMapBackfillCheckpoint records the position (the day being walked and the last position done in it;
// done once the range is walked).
func (s *Store) PutMapBackfillCheckpoint(ctx context.Context, rangeID, day, after string, done bool) error {
	item := map[string]types.AttributeValue{"pk": str("MIGRATION#mapbackfill"), "sk": str(rangeID), "type": str("migration"),
		"day": str(day), "after": str(after)}
	if done {
		item["done"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item})
	return translateErr("put map backfill checkpoint", err)
}
