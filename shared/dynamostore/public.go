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

	"github.com/civicsnap/civicsnap/shared/report"
)

// Key layout of the public map and me too (added to the package doc's table):
//
//	report            mapCell=<geohash4>  mapKey=<geohash9>#<createdAt>   gsi6 (the public map), set once by
//	                  intake: both keys and its projected attributes (category, createdAt, lat, lng) never
//	                  change, so no status change, me too or resolution rewrites the entry
//	me too marker     pk=METOO#<report>  sk=<sub>   gsi3 METOO#<local day> / <at>#<report> (KPIs: citizens
//	                  affected); the report's count is its `meToo`, added in the marker's transaction
//	public counter    pk=PUBRATE#<client address>  sk=<UTC minute>   (n, last, ttl)
const (
	mapIndex     = "gsi6"
	meTooPrefix  = "METOO#"
	pubRatePrefx = "PUBRATE#"
)

// mapCursor is a position in one map cell: the last index entry read.
type mapCursor struct {
	PK, SK, Cell, Key string
}

func decodeMapPosition(s, cell string) (map[string]types.AttributeValue, error) {
	var c mapCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Cell != cell[:report.MapPartitionPrecision] ||
		!strings.HasPrefix(c.Key, cell) || len(c.Key) > 1024 || c.SK != reportSK ||
		len(c.PK) <= len("REPORT#") || len(c.PK) > 2048 || !strings.HasPrefix(c.PK, "REPORT#") {
		return nil, report.ErrInvalidCursor
	}
	return map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "mapCell": str(c.Cell), "mapKey": str(c.Key)}, nil
}

// MapCell queries the map index for the reports filed under cell that pass f: one Query of at most limit
// entries (filtered on the entries' projected, immutable attributes, so it may return fewer).
func (s *Store) MapCell(ctx context.Context, cell string, f report.MapFilter, limit int, after string) ([]string, string, error) {
	if len(cell) < report.MapPartitionPrecision || len(cell) > report.MapKeyPrecision {
		return nil, "", fmt.Errorf("map cell %q: want %d-%d characters", cell, report.MapPartitionPrecision, report.MapKeyPrecision)
	}
	filter := []string{"lat BETWEEN :minLat AND :maxLat", "lng BETWEEN :minLng AND :maxLng"}
	vals := map[string]types.AttributeValue{
		":cell": str(cell[:report.MapPartitionPrecision]), ":prefix": str(cell),
		":minLat": fnum(f.BBox.MinLat), ":maxLat": fnum(f.BBox.MaxLat), ":minLng": fnum(f.BBox.MinLng), ":maxLng": fnum(f.BBox.MaxLng),
	}
	if f.Category != "" {
		filter = append(filter, "category = :cat")
		vals[":cat"] = str(f.Category)
	}
	if !f.Since.IsZero() {
		filter = append(filter, "createdAt >= :since")
		vals[":since"] = str(timeKey(f.Since))
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(mapIndex),
		KeyConditionExpression:    aws.String("mapCell = :cell AND begins_with(mapKey, :prefix)"),
		FilterExpression:          aws.String(strings.Join(filter, " AND ")),
		ExpressionAttributeValues: vals,
		Limit:                     aws.Int32(int32(limit)),
	}
	if after != "" {
		start, err := decodeMapPosition(after, cell)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query map cell "+cell, err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		if id, ok := strings.CutPrefix(stringAttr(it, "pk"), "REPORT#"); ok {
			ids = append(ids, id)
		}
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		b, _ := json.Marshal(mapCursor{PK: stringAttr(lek, "pk"), SK: stringAttr(lek, "sk"), Cell: stringAttr(lek, "mapCell"), Key: stringAttr(lek, "mapKey")})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return ids, next, nil
}

func fnum(f float64) *types.AttributeValueMemberN {
	av, _ := attributevalue.Marshal(f)
	return av.(*types.AttributeValueMemberN)
}

// publicReportItem is what the map reads of a report: never its reporter (not even read).
type publicReportItem struct {
	ID          string         `dynamodbav:"id"`
	Status      string         `dynamodbav:"status"`
	Category    string         `dynamodbav:"category"`
	Lat         float64        `dynamodbav:"lat"`
	Lng         float64        `dynamodbav:"lng"`
	Photos      []report.Photo `dynamodbav:"photos"`
	CreatedAt   string         `dynamodbav:"createdAt"`
	UpdatedAt   string         `dynamodbav:"updatedAt"`
	LeadDept    string         `dynamodbav:"leadDept"`
	ProofPhotos []report.Photo `dynamodbav:"proofPhotos"`
	ResolvedAt  string         `dynamodbav:"resolvedAt"`
	MeToo       int            `dynamodbav:"meToo"`
	Private     bool           `dynamodbav:"private"`
}

// publicProjection names private too: a private report has no map entry, so none should be asked for,
// but one (an entry written by hand, a backfill gone wrong) would still not be shown.
const publicProjection = "id, #st, category, lat, lng, photos, createdAt, updatedAt, leadDept, proofPhotos, resolvedAt, meToo, #pv"

// PublicReports reads the named reports' public attributes with BatchGetItem (100 a call).
func (s *Store) PublicReports(ctx context.Context, ids []string) ([]report.MapReport, error) {
	out := make([]report.MapReport, 0, len(ids))
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[start:min(start+100, len(ids))] {
			keys = append(keys, reportKey(id))
		}
		err := s.batchGetEach(ctx, keys, publicProjection, map[string]string{"#st": "status", "#pv": "private"}, func(raw map[string]types.AttributeValue) error {
			var it publicReportItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("decode public report: %w", err)
			}
			if it.Private {
				return nil
			}
			out = append(out, report.MapReport{MeToo: it.MeToo, Report: report.Report{
				ID: it.ID, Status: report.Status(it.Status), Category: it.Category,
				Location: report.Location{Lat: it.Lat, Lng: it.Lng}, Photos: it.Photos, CreatedAt: parseTime(it.CreatedAt),
				UpdatedAt: parseTime(it.UpdatedAt), LeadDept: it.LeadDept, ProofPhotos: it.ProofPhotos, ResolvedAt: optTime(it.ResolvedAt),
			}})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// meTooCounts reads the me too counts of reports (a queue page's), 100 a call; reports without one are 0.
func (s *Store) meTooCounts(ctx context.Context, ids []string) (map[string]int, error) {
	counts := map[string]int{}
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		seen := map[string]bool{}
		for _, id := range ids[start:min(start+100, len(ids))] {
			if !seen[id] { // BatchGetItem refuses a key named twice
				seen[id] = true
				keys = append(keys, reportKey(id))
			}
		}
		err := s.batchGetEach(ctx, keys, "id, meToo", nil, func(raw map[string]types.AttributeValue) error {
			var it struct {
				ID    string `dynamodbav:"id"`
				MeToo int    `dynamodbav:"meToo"`
			}
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("decode me too count: %w", err)
			}
			counts[it.ID] = it.MeToo
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// CountPublicRequest adds one to addr's counter of the window if it is under limit (one conditional
// UpdateItem, as Open311's CountRequest: the SDK's re-send of a counted request reads as counted).
func (s *Store) CountPublicRequest(ctx context.Context, addr, window, requestID string, limit int, expires time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table,
		Key:                      map[string]types.AttributeValue{"pk": str(pubRatePrefx + addr), "sk": str(window)},
		UpdateExpression:         aws.String("ADD n :one SET #last = :req, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(n) OR (n < :limit AND #last <> :req)"),
		ExpressionAttributeNames: map[string]string{"#last": "last", "#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":limit": num(int64(limit)), ":req": str(requestID), ":ttl": num(expires.Unix()),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	if ccf, ok := conditionFailed(err); ok {
		return stringAttr(ccf.Item, "last") == requestID, nil
	}
	if err != nil {
		return false, translate("count public request", err)
	}
	return true, nil
}

// MeTooTarget reads a report's status, reporter, lead, category and count (one consistent GetItem).
func (s *Store) MeTooTarget(ctx context.Context, id string) (report.MeTooTarget, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: reportKey(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("id, #st, reporterSub, leadDept, category, meToo, #pv"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#pv": "private"}})
	if err != nil {
		return report.MeTooTarget{}, translate("get report "+id, err)
	}
	if out.Item == nil {
		return report.MeTooTarget{}, report.ErrNotFound
	}
	var it struct {
		ID          string `dynamodbav:"id"`
		Status      string `dynamodbav:"status"`
		ReporterSub string `dynamodbav:"reporterSub"`
		LeadDept    string `dynamodbav:"leadDept"`
		Category    string `dynamodbav:"category"`
		MeToo       int    `dynamodbav:"meToo"`
		Private     bool   `dynamodbav:"private"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return report.MeTooTarget{}, fmt.Errorf("decode report %s: %w", id, err)
	}
	return report.MeTooTarget{ID: it.ID, Status: report.Status(it.Status), ReporterSub: it.ReporterSub,
		LeadDept: it.LeadDept, Category: it.Category, MeToo: it.MeToo, Private: it.Private}, nil
}

// meTooItem is a citizen's me too on a report: its identity record and the KPIs' entry.
type meTooItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Type     string `dynamodbav:"type"`
	ReportID string `dynamodbav:"reportId"`
	Category string `dynamodbav:"category"`
	LeadDept string `dynamodbav:"leadDept,omitempty"`
	At       string `dynamodbav:"createdAt"`
	GSI3PK   string `dynamodbav:"gsi3pk"`
	GSI3SK   string `dynamodbav:"gsi3sk"`
}

// AddMeToo writes the marker (attribute_not_exists) and ADDs one to the report's meToo (still open, not
// sub's own) in one TransactWriteItems. A marker already there — an earlier me too, or the SDK's re-send
// of this one — writes nothing and answers false.
func (s *Store) AddMeToo(ctx context.Context, t report.MeTooTarget, sub string, at time.Time) (bool, error) {
	atKey := timeKey(at)
	marker, err := s.putItem(meTooItem{PK: meTooPrefix + t.ID, SK: sub, Type: "metoo", ReportID: t.ID, Category: t.Category,
		LeadDept: t.LeadDept, At: atKey, GSI3PK: meTooPrefix + s.dayKey(at), GSI3SK: atKey + "#" + t.ID}, "attribute_not_exists(pk)")
	if err != nil {
		return false, err
	}
	open := report.OpenStatuses()
	names := make([]string, len(open))
	vals := map[string]types.AttributeValue{":one": num(1), ":sub": str(sub)}
	for i, st := range open {
		names[i] = fmt.Sprintf(":s%d", i)
		vals[names[i]] = str(string(st))
	}
	items := []types.TransactWriteItem{marker, {Update: &types.Update{
		TableName: &s.table, Key: reportKey(t.ID),
		UpdateExpression:                    aws.String("ADD meToo :one"),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND attribute_not_exists(#pv) AND reporterSub <> :sub AND #st IN (" + strings.Join(names, ", ") + ")"),
		ExpressionAttributeNames:            map[string]string{"#st": "status", "#pv": "private"},
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	var watch attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, watch.option)
	if reasons := cancellationReasons(err); len(reasons) == 2 {
		if aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return false, nil // sub's me too is there: the first, or this one's own earlier send
		}
		if aws.ToString(reasons[1].Code) == "ConditionalCheckFailed" {
			switch {
			case reasons[1].Item == nil, reasons[1].Item["private"] != nil:
				return false, report.ErrNotFound
			case stringAttr(reasons[1].Item, "reporterSub") == sub:
				return false, report.ErrMeTooOwn
			case !report.PublicStatus(report.Status(stringAttr(reasons[1].Item, "status"))):
				return false, report.ErrNotFound
			default:
				return false, report.ErrMeTooClosed
			}
		}
	}
	if err != nil {
		return false, watch.settle("add me too to "+t.ID, err)
	}
	return true, nil
}
