package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/open311"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Open311 items (README's data model):
//   - client application: O311CLIENT#<id> / CLIENT, gsi1 O311CLIENTS / <createdAt>#<id> (the admin's list);
//   - request counter: O311RATE#<client> / <UTC minute>, ttl two minutes on;
//   - posted update marker: REPORT#<id> / O311UPD#<client>#<update id> (read with the report's partition);
//   - timeline entries of Open311 reports carry gsi1 O311UPD#<UTC day> / <at>#<report>#<sk> (reports.go).

type o311ClientItem struct {
	PK                string `dynamodbav:"pk"`
	SK                string `dynamodbav:"sk"`
	Type              string `dynamodbav:"type"`
	ID                string `dynamodbav:"id"`
	Name              string `dynamodbav:"name"`
	Trusted           bool   `dynamodbav:"trusted"`
	RequestsPerMinute int    `dynamodbav:"requestsPerMinute"`
	KeyHash           string `dynamodbav:"keyHash"`
	CreatedAt         string `dynamodbav:"createdAt"`
	RevokedAt         string `dynamodbav:"revokedAt,omitempty"`
	GSI1PK            string `dynamodbav:"gsi1pk"`
	GSI1SK            string `dynamodbav:"gsi1sk"`
}

const (
	o311ClientSK      = "CLIENT"
	o311ClientsPK     = "O311CLIENTS"
	o311UpdatesPrefix = "O311UPD#"
	o311MarkerPrefix  = "O311UPD#"
)

func o311ClientPK(id string) string { return "O311CLIENT#" + id }

func (it o311ClientItem) client() open311.Client {
	c := open311.Client{ID: it.ID, Name: it.Name, Trusted: it.Trusted, RequestsPerMinute: it.RequestsPerMinute,
		KeyHash: it.KeyHash, CreatedAt: parseTime(it.CreatedAt)}
	c.RevokedAt = optTime(it.RevokedAt)
	return c
}

// open311UpdateKeys are the gsi1 keys of a timeline entry of an Open311 report (none for any other
// report, so citizens' reports write no index entry for it).
func open311UpdateKeys(reportID, at, sk string) (string, string) {
	if !report.IsOpen311ID(reportID) {
		return "", ""
	}
	return o311UpdatesPrefix + at[:10], at + "#" + reportID + "#" + sk
}

// open311UpdateID is a timeline entry's stable, opaque update id.
func open311UpdateID(reportID, sk string) string {
	sum := sha256.Sum256([]byte(reportPK(reportID) + "|" + sk))
	return hex.EncodeToString(sum[:12])
}

// CreateClient writes a new client. Safe to send twice: a failed condition on the very item this call
// writes (same key hash) is the SDK's re-send of an applied write.
func (s *Store) CreateClient(ctx context.Context, c open311.Client) error {
	it := o311ClientItem{PK: o311ClientPK(c.ID), SK: o311ClientSK, Type: "open311_client", ID: c.ID, Name: c.Name,
		Trusted: c.Trusted, RequestsPerMinute: c.RequestsPerMinute, KeyHash: c.KeyHash, CreatedAt: timeKey(c.CreatedAt),
		GSI1PK: o311ClientsPK, GSI1SK: timeKey(c.CreatedAt) + "#" + c.ID}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	if ccf, ok := conditionFailed(err); ok {
		if v, ok := ccf.Item["keyHash"].(*types.AttributeValueMemberS); ok && v.Value == c.KeyHash {
			return nil
		}
		return fmt.Errorf("create open311 client %s: the id is taken", c.ID)
	}
	if err != nil {
		return translate("create open311 client", err)
	}
	return nil
}

// Client reads one client (consistently: a revocation holds from the next request on).
func (s *Store) Client(ctx context.Context, id string) (open311.Client, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: o311ClientPK(id)}, "sk": &types.AttributeValueMemberS{Value: o311ClientSK},
		}})
	if err != nil {
		return open311.Client{}, translate("get open311 client", err)
	}
	if out.Item == nil {
		return open311.Client{}, open311.ErrClientMissing
	}
	var it o311ClientItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return open311.Client{}, fmt.Errorf("decode open311 client: %w", err)
	}
	return it.client(), nil
}

// Clients lists every client, newest first (one Query per 1 MB page of gsi1's O311CLIENTS partition).
func (s *Store) Clients(ctx context.Context) ([]open311.Client, error) {
	var out []open311.Client
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: o311ClientsPK}},
		ScanIndexForward:          aws.Bool(false)}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("list open311 clients", err)
		}
		var items []o311ClientItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode open311 clients: %w", err)
		}
		for _, it := range items {
			out = append(out, it.client())
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// RevokeClient sets revokedAt once (a second revocation, or a re-send, keeps the first time).
func (s *Store) RevokeClient(ctx context.Context, id string, at time.Time) (open311.Client, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table,
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: o311ClientPK(id)}, "sk": &types.AttributeValueMemberS{Value: o311ClientSK},
		},
		UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :at)"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: timeKey(at)}},
		ReturnValues:              types.ReturnValueAllNew})
	if _, ok := conditionFailed(err); ok {
		return open311.Client{}, open311.ErrClientMissing
	}
	if err != nil {
		return open311.Client{}, translate("revoke open311 client", err)
	}
	var it o311ClientItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return open311.Client{}, fmt.Errorf("decode open311 client: %w", err)
	}
	return it.client(), nil
}

// CountRequest adds one to the client's counter of the minute window if it is under limit, in one
// conditional UpdateItem. The counter remembers the last request counted: the SDK's re-send of the same
// update fails the condition with last = requestID, which is read (ALL_OLD) as counted, not as over.
func (s *Store) CountRequest(ctx context.Context, clientID, window, requestID string, limit int, expires time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table,
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "O311RATE#" + clientID}, "sk": &types.AttributeValueMemberS{Value: window},
		},
		UpdateExpression:         aws.String("ADD n :one SET #last = :req, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(n) OR (n < :limit AND #last <> :req)"),
		ExpressionAttributeNames: map[string]string{"#last": "last", "#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":limit": num(int64(limit)), ":req": &types.AttributeValueMemberS{Value: requestID},
			":ttl": num(expires.Unix()),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	if ccf, ok := conditionFailed(err); ok {
		if v, ok := ccf.Item["last"].(*types.AttributeValueMemberS); ok && v.Value == requestID {
			return true, nil
		}
		return false, nil
	}
	if err != nil {
		return false, translate("count open311 request", err)
	}
	return true, nil
}

// CreatedOn reads the reports created on a local day within [q.From, q.To], newest first, from the KPI
// index's CREATED#<day> partition (its keys only: the id is in the sort key), then the reports and their
// lead assignments with BatchGetItem, and keeps the public ones of q.Category and q.Statuses. It stops at q.Limit
// reports or the day's end; next is the last index key read when the day has more.
func (s *Store) CreatedOn(ctx context.Context, day string, q open311.DayQuery) ([]report.Report, string, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi3"),
		KeyConditionExpression: aws.String("gsi3pk = :pk AND gsi3sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: "CREATED#" + day},
			":from": &types.AttributeValueMemberS{Value: timeKey(q.From)},
			":to":   &types.AttributeValueMemberS{Value: timeKey(q.To) + "#~"},
		},
		ProjectionExpression: aws.String("pk, sk, gsi3pk, gsi3sk"),
		ScanIndexForward:     aws.Bool(false),
	}
	if q.After != "" {
		id, ok := createdSKID(q.After)
		if !ok {
			return nil, "", open311.ErrParam.With("page is not a page this server returned")
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: reportPK(id)}, "sk": &types.AttributeValueMemberS{Value: reportSK},
			"gsi3pk": &types.AttributeValueMemberS{Value: "CREATED#" + day}, "gsi3sk": &types.AttributeValueMemberS{Value: q.After},
		}
	}
	var out []report.Report
	for len(out) < q.Limit {
		in.Limit = aws.Int32(int32(q.Limit - len(out)))
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", translate("list reports created on "+day, err)
		}
		var ids []string
		last := ""
		for _, it := range page.Items {
			sk := stringOf(it["gsi3sk"])
			if id, ok := createdSKID(sk); ok {
				ids = append(ids, id)
			}
			last = sk
		}
		reports, err := s.ReportsByID(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		byID := make(map[string]report.Report, len(reports))
		for _, r := range reports {
			byID[r.ID] = r
		}
		for _, id := range ids {
			r, ok := byID[id]
			// A report filed as not public is listed to no one here (GeoReport's lists are keyless).
			if ok && !r.Private() && (q.Category == "" || r.Category == q.Category) && (q.Statuses == nil || slices.Contains(q.Statuses, r.Status)) {
				out = append(out, r)
			}
		}
		if page.LastEvaluatedKey == nil {
			return out, "", nil
		}
		if len(out) >= q.Limit {
			return out, last, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, "", nil
}

// createdSKID returns the report id of a CREATED# sort key "<createdAt>#<id>".
func createdSKID(sk string) (string, bool) {
	at, id, ok := strings.Cut(sk, "#")
	if !ok || len(at) != len("2006-01-02T15:04:05.000Z") || len(id) != 36 || strings.ContainsAny(id, "#") {
		return "", false
	}
	return id, true
}

func stringOf(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// ReportsByID reads reports and then their lead assignments, 100 keys per BatchGetItem (eventually
// consistent: GeoReport's lists are a view that may lag a second).
func (s *Store) ReportsByID(ctx context.Context, ids []string) ([]report.Report, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: reportPK(id)}, "sk": &types.AttributeValueMemberS{Value: reportSK}})
	}
	raw, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	var reports []report.Report
	var items []reportItem
	var assignKeys []map[string]types.AttributeValue
	for _, item := range raw {
		var it reportItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode report: %w", err)
		}
		reports, items = append(reports, it.report()), append(items, it)
		if it.LeadDept != "" {
			assignKeys = append(assignKeys, map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: reportPK(it.ID)}, "sk": &types.AttributeValueMemberS{Value: assignPrefix + it.LeadDept}})
		}
	}
	raw, err = s.batchGet(ctx, assignKeys)
	if err != nil {
		return nil, err
	}
	byReport := map[string][]report.Assignment{}
	for _, item := range raw {
		var it assignmentItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode assignment: %w", err)
		}
		byReport[it.ReportID] = append(byReport[it.ReportID], it.assignment())
	}
	for i := range reports {
		reports[i].Assignments = withCommittedLead(byReport[reports[i].ID], items[i])
	}
	return reports, nil
}

// batchGet reads keys, 100 per call, following UnprocessedKeys.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for len(keys) > 0 {
		n := min(len(keys), 100)
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys[:n]}}
		keys = keys[n:]
		for tries := 0; len(req) > 0; tries++ {
			if tries == 10 {
				return nil, translate("batch get", fmt.Errorf("keys left unprocessed after %d tries", tries))
			}
			page, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, translate("batch get", err)
			}
			out = append(out, page.Responses[s.table]...)
			req = page.UnprocessedKeys
			if len(req) > 0 {
				select {
				case <-ctx.Done():
					return nil, translate("batch get", ctx.Err())
				case <-time.After(time.Duration(10<<tries) * time.Millisecond):
				}
			}
		}
	}
	return out, nil
}

// UpdatesOn reads gsi1's O311UPD#<day> partition between from and to, oldest first, at most limit+1.
func (s *Store) UpdatesOn(ctx context.Context, day string, from, to time.Time, limit int) ([]open311.TimelineUpdate, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: o311UpdatesPrefix + day},
			":from": &types.AttributeValueMemberS{Value: timeKey(from)},
			":to":   &types.AttributeValueMemberS{Value: timeKey(to) + "#~"},
		},
	}
	var out []open311.TimelineUpdate
	for len(out) <= limit {
		in.Limit = aws.Int32(int32(limit + 1 - len(out)))
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("list open311 updates of "+day, err)
		}
		for _, raw := range page.Items {
			u, err := open311UpdateOf(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// open311UpdateOf decodes an entry of the updates index: a timeline entry of an Open311 report.
func open311UpdateOf(raw map[string]types.AttributeValue) (open311.TimelineUpdate, error) {
	var it timelineItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return open311.TimelineUpdate{}, fmt.Errorf("decode timeline entry: %w", err)
	}
	id := strings.TrimPrefix(it.PK, "REPORT#")
	return open311.TimelineUpdate{UpdateID: open311UpdateID(id, it.SK), ReportID: id,
		Entry: report.TimelineEntry{At: parseTime(it.At), Status: report.Status(it.Status), Actor: it.Actor, Note: it.Note}}, nil
}

// AddNote writes the marker of (client, update id) and the timeline entry in one transaction, the
// marker conditional on its absence: a second post of the same update (or the SDK's re-send) finds the
// marker and answers its update id, writing nothing.
func (s *Store) AddNote(ctx context.Context, n open311.Note) (string, error) {
	sum := sha256.Sum256([]byte(n.ClientID + "#" + n.ClientUpdateID))
	tl := timelineEntryItem(n.ReportID, int(binary.BigEndian.Uint16(sum[:2])%1000), n.Entry)
	updateID := open311UpdateID(n.ReportID, tl.SK)
	markerKey := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: reportPK(n.ReportID)},
		"sk": &types.AttributeValueMemberS{Value: o311MarkerPrefix + n.ClientID + "#" + n.ClientUpdateID},
	}
	marker := map[string]types.AttributeValue{"type": &types.AttributeValueMemberS{Value: "open311_update"},
		"updateId": &types.AttributeValueMemberS{Value: updateID}}
	for k, v := range markerKey {
		marker[k] = v
	}
	tlItem, err := attributevalue.MarshalMap(tl)
	if err != nil {
		return "", err
	}
	var watch attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, ConditionExpression: aws.String("attribute_exists(pk)"),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: reportPK(n.ReportID)}, "sk": &types.AttributeValueMemberS{Value: reportSK}}}},
		{Put: &types.Put{TableName: &s.table, Item: marker, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.table, Item: tlItem}},
	}}, watch.option)
	if reasons := cancellationReasons(err); len(reasons) == 3 {
		if aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return "", open311.ErrRequestID
		}
		if aws.ToString(reasons[1].Code) == "ConditionalCheckFailed" {
			out, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: markerKey, ConsistentRead: aws.Bool(true)})
			if gerr != nil {
				return "", translate("read open311 update marker", gerr)
			}
			if id := stringOf(out.Item["updateId"]); id != "" {
				return id, nil
			}
		}
	}
	if err != nil {
		return "", watch.settle("add open311 note", err)
	}
	return updateID, nil
}
