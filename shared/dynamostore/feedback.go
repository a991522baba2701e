package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/report"
)

// feedbackSK is the sort key of a report's answer (one per report): its identity, so a confirmation, a
// contest and the window's end race for one conditional write.
const feedbackSK = "FEEDBACK"

// feedbackItem is a reporter's answer as stored, read with the report's Query. Its gsi3 entry
// FEEDBACK#<local day> / <at>#<answer>#<rating>#<lead>#<category> is what the KPI roll-up reads (and the
// photo sweeper, for a contest's photos); its timeline entry is implied (report.Feedback.Entry).
type feedbackItem struct {
	PK       string         `dynamodbav:"pk"`
	SK       string         `dynamodbav:"sk"`
	Type     string         `dynamodbav:"type"`
	Answer   string         `dynamodbav:"answer"`
	Rating   int            `dynamodbav:"rating,omitempty"`
	Comment  string         `dynamodbav:"comment,omitempty"`
	Photos   []report.Photo `dynamodbav:"photos,omitempty"`
	At       string         `dynamodbav:"at"`
	LeadDept string         `dynamodbav:"leadDept,omitempty"`
	Key      string         `dynamodbav:"key,omitempty"`
	BodyHash string         `dynamodbav:"bodyHash,omitempty"`
	GSI3PK   string         `dynamodbav:"gsi3pk"`
	GSI3SK   string         `dynamodbav:"gsi3sk"`
}

func (s *Store) toFeedbackItem(r report.Report, f report.Feedback) feedbackItem {
	at := timeKey(f.At)
	return feedbackItem{
		PK: reportPK(r.ID), SK: feedbackSK, Type: "feedback", Answer: string(f.Answer), Rating: f.Rating,
		Comment: f.Comment, Photos: f.Photos, At: at, LeadDept: f.LeadDept, Key: f.Key, BodyHash: f.BodyHash,
		GSI3PK: feedbackPKOf(s.dayKey(f.At)),
		GSI3SK: strings.Join([]string{at, string(f.Answer), strconv.Itoa(f.Rating), f.LeadDept, r.Category}, "#"),
	}
}

func feedbackPKOf(day string) string { return "FEEDBACK#" + day }

// parseFeedbackSK reads what the KPI roll-up counts from an answer's gsi3 sort key.
func parseFeedbackSK(sk string) (kpi.AnswerLine, bool) {
	p := strings.Split(sk, "#")
	if len(p) != 5 {
		return kpi.AnswerLine{}, false
	}
	rating, err := strconv.Atoi(p[2])
	if err != nil {
		return kpi.AnswerLine{}, false
	}
	return kpi.AnswerLine{Answer: p[1], Rating: rating, LeadDept: p[3]}, true
}

func (it feedbackItem) feedback() report.Feedback {
	return report.Feedback{Answer: report.Answer(it.Answer), Rating: it.Rating, Comment: it.Comment, Photos: it.Photos,
		At: parseTime(it.At), LeadDept: it.LeadDept, Key: it.Key, BodyHash: it.BodyHash}
}

func decodeFeedback(raw map[string]types.AttributeValue) (*report.Feedback, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var it feedbackItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	f := it.feedback()
	return &f, nil
}

// AddFeedback writes f as r's answer unless it has one (report.AnswerStore): one conditional PutItem; a
// refusal returns the stored answer (ALL_OLD), which is this very write when the SDK sent it twice.
func (s *Store) AddFeedback(ctx context.Context, r report.Report, f report.Feedback) (*report.Feedback, error) {
	item, err := attributevalue.MarshalMap(s.toFeedbackItem(r, f))
	if err != nil {
		return nil, err
	}
	var watch attempts
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, watch.option)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if existing, derr := decodeFeedback(ccf.Item); derr != nil || existing != nil {
			return existing, derr
		}
	}
	if err != nil {
		return nil, watch.settle("put answer of "+r.ID, err)
	}
	return nil, nil
}

// Reopen writes a contest (report.AnswerStore) in one transaction of three items: the report's status
// (still resolved), the lead's assignment (status reopened, its new deadline: the queue's and the SLA
// sweep's entries move with it) and the answer (none yet). The timeline entry is the answer's.
func (s *Store) Reopen(ctx context.Context, ro report.Reopening) (*report.Feedback, error) {
	r, f := ro.Report, ro.Feedback
	fb, err := attributevalue.MarshalMap(s.toFeedbackItem(r, f))
	if err != nil {
		return nil, err
	}
	lead, err := s.putItem(toAssignmentItem(r, ro.Lead), "")
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: reportKey(r.ID),
			UpdateExpression:          aws.String("SET #st = :to, updatedAt = :now"),
			ConditionExpression:       aws.String("#st = :from"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":to": str(string(report.Reopened)), ":from": str(string(report.Resolved)), ":now": str(timeKey(f.At))},
		}},
		lead,
		{Put: &types.Put{TableName: &s.table, Item: fb, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}
	var watch attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, watch.option)
	reasons := cancellationReasons(err)
	if len(reasons) == 3 && aws.ToString(reasons[2].Code) == "ConditionalCheckFailed" {
		// Answered already: by this very transaction when an earlier send was applied, or by another.
		return decodeFeedback(reasons[2].Item)
	}
	if len(reasons) == 3 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		if watch.lost.Load() {
			return nil, apperr.ErrOutcomeUnknown.Wrap(report.ErrNotResolved)
		}
		return nil, report.ErrNotResolved.With("the report changed meanwhile")
	}
	if err != nil {
		return nil, watch.settle("reopen "+r.ID, err)
	}
	return nil, nil
}

// DueForAutoConfirm returns the reports resolved in (from, to] (their answer windows ending in
// (from+window, to+window]) that are still resolved and unanswered: a Query of each local day's
// RESOLVED#<day> entries (gsi4, sorted by resolution time), then one BatchGetItem of each hundred reports'
// status and answer — work proportional to the resolutions in the range, never to history.
func (s *Store) DueForAutoConfirm(ctx context.Context, from, to time.Time) ([]report.Report, error) {
	var ids []string
	f := from.In(s.tz)
	for d := time.Date(f.Year(), f.Month(), f.Day(), 12, 0, 0, 0, s.tz); s.dayKey(d) <= s.dayKey(to); d = d.AddDate(0, 0, 1) {
		day := s.dayKey(d)
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String("gsi4"),
			KeyConditionExpression: aws.String("gsi4pk = :pk AND gsi4sk BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(s.resolvedPKOf(day)), ":from": str(timeKey(from.Add(time.Millisecond))), ":to": str(timeKey(to) + "#~"),
			},
			ProjectionExpression: aws.String("pk"),
		}
		for {
			page, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, translate("query resolutions of "+day, err)
			}
			for _, it := range page.Items {
				if v, ok := it["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(v.Value, "REPORT#") {
					ids = append(ids, strings.TrimPrefix(v.Value, "REPORT#"))
				}
			}
			if page.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
	}
	var out []report.Report
	for start := 0; start < len(ids); start += 50 {
		chunk := ids[start:min(start+50, len(ids))]
		keys := make([]map[string]types.AttributeValue, 0, 2*len(chunk))
		for _, id := range chunk {
			keys = append(keys, reportKey(id), map[string]types.AttributeValue{"pk": str(reportPK(id)), "sk": str(feedbackSK)})
		}
		req := map[string]types.KeysAndAttributes{s.table: {
			Keys: keys, ProjectionExpression: aws.String("pk, sk, #st, category, leadDept, resolvedAt"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
		}}
		reports, answered := map[string]report.Report{}, map[string]bool{}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > maxBatchGetAttempts {
				return nil, apperr.ErrThrottled.Wrap(fmt.Errorf("read unanswered reports: keys still unprocessed after %d attempts", maxBatchGetAttempts))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, translate("read unanswered reports", err)
			}
			for _, raw := range res.Responses[s.table] {
				var it reportItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return nil, fmt.Errorf("decode report: %w", err)
				}
				id := strings.TrimPrefix(it.PK, "REPORT#")
				if it.SK == feedbackSK {
					answered[id] = true
					continue
				}
				reports[id] = it.report()
			}
			req = res.UnprocessedKeys
		}
		for _, id := range chunk {
			if r, ok := reports[id]; ok && !answered[id] && r.Status == report.Resolved {
				r.ID = id
				out = append(out, r)
			}
		}
	}
	return out, nil
}
