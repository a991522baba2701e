package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// A citizen's reports, newest first: gsi5, keyed by the report's own reporterSub and createdAt (no other
// item has a reporterSub, so no other item is in it) and projecting keys only, so a report's status changes
// never rewrite its entry and a report carries no index attributes for it; a page's reports are then read
// with one BatchGetItem. DynamoDB fills a new index from the items already stored, so reports filed before
// gsi5 existed are in it too.

// mineCursor is the opaque pagination token: the last evaluated key of gsi5.
type mineCursor struct {
	PK  string `json:"p"`
	SK  string `json:"s"`
	Sub string `json:"u"`
	At  string `json:"c"`
}

func (c mineCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeMineCursor checks that the cursor is well formed and belongs to sub, so one user's cursor can never
// page through another's reports, and that its keys are within DynamoDB's key limits.
func decodeMineCursor(s, sub string) (map[string]types.AttributeValue, error) {
	var c mineCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Sub != sub ||
		len(c.PK) <= len("REPORT#") || !strings.HasPrefix(c.PK, "REPORT#") || len(c.PK) > 2048 ||
		c.SK != reportSK || c.At == "" || len(c.At) > 1024 {
		return nil, report.ErrInvalidCursor
	}
	return map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "reporterSub": str(c.Sub), "createdAt": str(c.At)}, nil
}

// ListByReporter returns a page of sub's reports, newest first: one Query of gsi5 and one BatchGetItem.
func (s *Store) ListByReporter(ctx context.Context, sub string, limit int, cur string) ([]report.Report, string, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi5"),
		KeyConditionExpression:    aws.String("reporterSub = :sub"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":sub": str(sub)},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	if cur != "" {
		start, err := decodeMineCursor(cur, sub)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("list reports", err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, k := range out.Items {
		if id, ok := strings.CutPrefix(stringAttr(k, "pk"), "REPORT#"); ok {
			ids = append(ids, id)
		}
	}
	reports, err := s.reportsByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	next := ""
	// DynamoDB returns a LastEvaluatedKey when a page is exactly full even if nothing follows; the client
	// then gets one empty page, which is cheaper than a look-ahead read on every page.
	if lek := out.LastEvaluatedKey; lek != nil {
		next = mineCursor{PK: stringAttr(lek, "pk"), SK: stringAttr(lek, "sk"), Sub: stringAttr(lek, "reporterSub"), At: stringAttr(lek, "createdAt")}.encode()
	}
	return reports, next, nil
}

// reportsByID reads reports (without timelines) with BatchGetItem, 100 keys a call, in the order of ids;
// an id with no report is left out.
func (s *Store) reportsByID(ctx context.Context, ids []string) ([]report.Report, error) {
	byID := make(map[string]report.Report, len(ids))
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[start:min(start+100, len(ids))] {
			keys = append(keys, reportKey(id))
		}
		err := s.batchGetEach(ctx, keys, "", nil, func(raw map[string]types.AttributeValue) error {
			var it reportItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("decode report: %w", err)
			}
			byID[it.ID] = it.report()
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]report.Report, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// batchGetEach reads up to 100 keys of the table (eventually consistent), sending unprocessed keys again, and
// calls each with every item found. projection and names are optional.
func (s *Store) batchGetEach(ctx context.Context, keys []map[string]types.AttributeValue, projection string, names map[string]string, each func(map[string]types.AttributeValue) error) error {
	ka := types.KeysAndAttributes{Keys: keys}
	if projection != "" {
		ka.ProjectionExpression = &projection
		if len(names) > 0 {
			ka.ExpressionAttributeNames = names
		}
	}
	pending := map[string]types.KeysAndAttributes{s.table: ka}
	for tries := 0; len(pending) > 0; tries++ {
		if tries > 10 {
			return apperr.ErrThrottled.Wrap(fmt.Errorf("batch get: keys still unprocessed after %d tries", tries))
		}
		if tries > 0 { // unprocessed keys: the table is throttling, so back off before asking again
			select {
			case <-ctx.Done():
				return apperr.ErrThrottled.Wrap(fmt.Errorf("batch get: %w", ctx.Err()))
			case <-time.After(time.Duration(tries*tries) * 10 * time.Millisecond):
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return translate("batch get", err)
		}
		for _, it := range out.Responses[s.table] {
			if err := each(it); err != nil {
				return err
			}
		}
		pending = out.UnprocessedKeys
	}
	return nil
}
