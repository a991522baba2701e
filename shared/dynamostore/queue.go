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

	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/report"
)

// openQueue names the partition of a department's queue that holds its open assignments, whatever their
// open status (upper case: no status is called that).
const openQueue = "OPEN"

// maxQueuePage bounds the items one Query of a filtered queue evaluates.
const maxQueuePage = 1000

// queuePK is the queue partition (gsi2pk) of dept's assignments in status st: one for every open status,
// so that acceptance and progress leave the entry's key as it is, and one per status after.
func queuePK(dept string, st report.Status) string {
	if st.Open() {
		return "QUEUE#" + dept + "#" + openQueue
	}
	return "QUEUE#" + dept + "#" + string(st)
}

// Queue queries gsi2 for a department's assignments in one status, earliest deadline first. An open status
// is the department's open partition filtered by astatus: the Query pages on (each evaluating up to twice
// as many entries as the last, at most maxQueuePage) until limit entries matched or the partition ended, so
// its reads are bounded by the department's open queue; the cursor is the last entry returned.
// casework.AllOpen is that partition unfiltered.
func (s *Store) Queue(ctx context.Context, dept string, status report.Status, limit int, cursor string) ([]casework.QueueItem, string, error) {
	all := status == casework.AllOpen
	pk := queuePK(dept, status)
	if all {
		pk = queuePK(dept, report.Dispatched)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	if status.Open() {
		in.FilterExpression = aws.String("astatus = :st")
		in.ExpressionAttributeValues[":st"] = str(string(status))
	}
	if cursor != "" {
		c, err := decodeIndexCursor(cursor, pk, "REPORT#", assignPrefix)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "gsi2pk": str(c.GPK), "gsi2sk": str(c.GSK)}
	}
	var (
		items []assignmentItem
		next  map[string]types.AttributeValue // where the next page starts; nil: the partition ended
	)
	for evaluate := limit; ; evaluate = min(2*evaluate, maxQueuePage) {
		in.Limit = aws.Int32(int32(evaluate))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", translate("query queue", err)
		}
		next = out.LastEvaluatedKey
		page := out.Items
		if rest := limit - len(items); len(page) > rest {
			// More matched than the page has room for: the next page starts after the last one returned.
			page = page[:rest]
			last := page[len(page)-1]
			next = map[string]types.AttributeValue{"pk": last["pk"], "sk": last["sk"], "gsi2pk": last["gsi2pk"], "gsi2sk": last["gsi2sk"]}
		}
		var got []assignmentItem
		if err := attributevalue.UnmarshalListOfMaps(page, &got); err != nil {
			return nil, "", fmt.Errorf("decode queue: %w", err)
		}
		items = append(items, got...)
		if len(items) == limit || next == nil {
			break
		}
		in.ExclusiveStartKey = next
	}
	// Citizens' me too counts are on the reports (public.go), not on the assignments, which casework
	// rewrites whole on every change: one BatchGetItem of the page's reports, none for an empty page.
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ReportID
	}
	meToo, err := s.meTooCounts(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	res := make([]casework.QueueItem, len(items))
	for i, it := range items {
		st := status // the filter's or the key's
		if all {
			st = it.assignment().Status
		}
		res[i] = casework.QueueItem{ReportID: it.ReportID, Role: report.Role(it.Role), Status: st,
			Category: it.Category, Description: it.Description, Location: it.Location, Address: it.Address,
			CreatedAt: parseTime(it.CreatedAt), SLADeadline: parseTime(it.SLADeadline), Overdue: it.Overdue,
			MeToo: meToo[it.ReportID]}
	}
	if next == nil {
		return res, "", nil
	}
	b, _ := json.Marshal(queueCursor{PK: stringAttr(next, "pk"), SK: stringAttr(next, "sk"), GPK: stringAttr(next, "gsi2pk"), GSK: stringAttr(next, "gsi2sk")})
	return res, base64.RawURLEncoding.EncodeToString(b), nil
}

// MigrateQueueKeys moves depts' queue entries written before the open partition (QUEUE#<dept>#<open
// status>) into it, setting astatus from the old key where the item predates astatus. Each move is an
// UpdateItem conditional on the old key, so running it again, or alongside the functions (whose next change
// of an assignment writes the new key anyway), moves nothing twice. It returns the number moved.
func (s *Store) MigrateQueueKeys(ctx context.Context, depts []string) (int, error) {
	moved := 0
	for _, d := range depts {
		for _, st := range report.OpenStatuses() {
			old := "QUEUE#" + d + "#" + string(st)
			in := &dynamodb.QueryInput{
				TableName: &s.table, IndexName: aws.String("gsi2"), KeyConditionExpression: aws.String("gsi2pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(old)},
				ProjectionExpression:      aws.String("pk, sk"),
			}
			for {
				page, err := s.db.Query(ctx, in)
				if err != nil {
					return moved, translate("query legacy queue", err)
				}
				for _, it := range page.Items {
					_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
						TableName: &s.table, Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]},
						UpdateExpression:    aws.String("SET gsi2pk = :open, astatus = if_not_exists(astatus, :st)"),
						ConditionExpression: aws.String("gsi2pk = :old"),
						ExpressionAttributeValues: map[string]types.AttributeValue{
							":open": str(queuePK(d, st)), ":st": str(string(st)), ":old": str(old),
						},
					})
					if _, ok := conditionFailed(err); ok {
						continue // moved since the index was read (a change of the assignment, or a run before)
					}
					if err != nil {
						return moved, translate("move queue entry", err)
					}
					moved++
				}
				if page.LastEvaluatedKey == nil {
					break
				}
				in.ExclusiveStartKey = page.LastEvaluatedKey
			}
		}
	}
	return moved, nil
}
