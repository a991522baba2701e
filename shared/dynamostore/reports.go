package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/report"
)

// reportItem is a report as stored. Times are strings in timeKey form.
type reportItem struct {
	PK          string         `dynamodbav:"pk"`
	SK          string         `dynamodbav:"sk"`
	Type        string         `dynamodbav:"type"`
	ID          string         `dynamodbav:"id"`
	Status      string         `dynamodbav:"status"`
	Category    string         `dynamodbav:"category"`
	Description string         `dynamodbav:"description"`
	Lat         float64        `dynamodbav:"lat"`
	Lng         float64        `dynamodbav:"lng"`
	Address     string         `dynamodbav:"address,omitempty"`
	Photos      []report.Photo `dynamodbav:"photos"`
	Anonymous   bool           `dynamodbav:"anonymous"`
	Private     bool           `dynamodbav:"private,omitempty"` // only on a report filed as not public: no map keys
	ReporterSub string         `dynamodbav:"reporterSub"`
	CreatedAt   string         `dynamodbav:"createdAt"`
	UpdatedAt   string         `dynamodbav:"updatedAt"`
	LeadDept    string         `dynamodbav:"leadDept,omitempty"`
	// DispatchedLead is the lead assignment dispatch's commit decided (dispatch.go), so a reader between
	// the commit and the assignment's write sees the dispatched report with its lead and SLA deadline.
	DispatchedLead *committedLead `dynamodbav:"dispatchedLead,omitempty"`
	DuplicateOf    string         `dynamodbav:"duplicateOf,omitempty"`
	RejectReason   string         `dynamodbav:"rejectReason,omitempty"`
	ProofPhotos    []report.Photo `dynamodbav:"proofPhotos,omitempty"`
	ResolvedAt     string         `dynamodbav:"resolvedAt,omitempty"`
	// BodyHash is the SHA-256 of the request that filed the report (intake's single write): the report is
	// its own idempotency record, so a request sent again finds it and answers the same, or 422.
	BodyHash []byte `dynamodbav:"bodyHash,omitempty"`
	// No status change rewrites the report's index entries: gsi3 CREATED#<day> projects no attribute a
	// status change moves (only leadDept, which dispatch sets), gsi5 (a citizen's reports, keyed by
	// reporterSub and createdAt) projects keys only, and gsi4 is set once, by a resolution (RESOLVED#<day>)
	// or a duplicate (DUPOF#<original>).
	GSI3PK string `dynamodbav:"gsi3pk"`
	GSI3SK string `dynamodbav:"gsi3sk"`
	// The public map's index (gsi6, public.go): keyed by the location's geohashes, set once here.
	MapCell string `dynamodbav:"mapCell,omitempty"`
	MapKey  string `dynamodbav:"mapKey,omitempty"`
}

type timelineItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	At     string `dynamodbav:"at"`
	Status string `dynamodbav:"status"`
	Actor  string `dynamodbav:"actor"`
	Note   string `dynamodbav:"note,omitempty"`
	// Inbound is "<dept>#<webhook-id>" of the signed event that made this change, when it changed the
	// status (casework's Apply); other events keep an INBOUND# item.
	Inbound string `dynamodbav:"inbound,omitempty"`
	// gsi1 O311UPD#<UTC day> / <at>#<report>#<sk>, only on entries of reports filed through Open311
	// (open311.go): mySociety's updates extension reads a window's updates from it.
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
}

const (
	reportSK       = "REPORT"
	timelinePrefix = "TL#"
)

func reportPK(id string) string { return "REPORT#" + id }

func (s *Store) toReportItem(r report.Report) reportItem {
	created := timeKey(r.CreatedAt)
	mapCell, mapKey := report.MapKeys(r.Location, created)
	if r.Private() {
		mapCell, mapKey = "", "" // never on the public map
	}
	return reportItem{MapCell: mapCell, MapKey: mapKey, Private: r.Private(),
		PK: reportPK(r.ID), SK: reportSK, Type: "report", ID: r.ID, Status: string(r.Status), Category: r.Category,
		Description: r.Description, Lat: r.Location.Lat, Lng: r.Location.Lng, Address: r.Address, Photos: r.Photos,
		Anonymous: r.Anonymous, ReporterSub: r.ReporterSub, CreatedAt: created, UpdatedAt: timeKey(r.UpdatedAt),
		GSI3PK: "CREATED#" + s.dayKey(r.CreatedAt), GSI3SK: created + "#" + r.ID,
		LeadDept: r.LeadDept, DuplicateOf: r.DuplicateOf, RejectReason: r.RejectReason, ProofPhotos: r.ProofPhotos,
	}
}

func nearPK(category, cell string) string { return "NEAR#" + category + "#" + cell }

func parseTime(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.000Z", s)
	return t
}

func (it reportItem) report() report.Report {
	return report.Report{
		ID: it.ID, Status: report.Status(it.Status), Category: it.Category, Description: it.Description,
		Location: report.Location{Lat: it.Lat, Lng: it.Lng}, Address: it.Address, Photos: it.Photos,
		Anonymous: it.Anonymous, ReporterSub: it.ReporterSub, CreatedAt: parseTime(it.CreatedAt),
		UpdatedAt: parseTime(it.UpdatedAt), LeadDept: it.LeadDept, DuplicateOf: it.DuplicateOf,
		RejectReason: it.RejectReason, ProofPhotos: it.ProofPhotos, ResolvedAt: optTime(it.ResolvedAt),
		Public: report.PublicFlag(aws.Bool(!it.Private)),
	}
}

func optTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := parseTime(s)
	return &t
}

func timelineEntryItem(id string, n int, e report.TimelineEntry) timelineItem {
	at := timeKey(e.At)
	it := timelineItem{
		PK: reportPK(id), SK: fmt.Sprintf("%s%s#%s#%03d", timelinePrefix, at, e.Actor, n), Type: "timeline", At: at,
		Status: string(e.Status), Actor: e.Actor, Note: e.Note,
	}
	it.GSI1PK, it.GSI1SK = open311UpdateKeys(id, at, it.SK)
	return it
}

// CreateReport writes the report, its timeline and the completed idempotency record in one transaction:
// either the citizen's report exists and the key replays it, or neither.
func (s *Store) CreateReport(ctx context.Context, r report.Report, key idem.Record) error {
	ritem, err := attributevalue.MarshalMap(s.toReportItem(r))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: &s.table, Item: ritem, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	for i, e := range r.Timeline {
		tl, err := attributevalue.MarshalMap(timelineEntryItem(r.ID, i, e))
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: tl}})
	}
	done, err := s.completeKey(key)
	if err != nil {
		return err
	}
	done.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	items = append(items, done)
	var watch attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, watch.option)
	if reasons := cancellationReasons(err); reasons != nil {
		last := reasons[len(reasons)-1]
		if aws.ToString(last.Code) == "ConditionalCheckFailed" {
			// The key completed by this very request (same resource id and attempt): an earlier send of the
			// same transaction was applied and this is the SDK's re-send, which DynamoDB did not recognise by
			// its ClientRequestToken (moto never does). Anything else: another request holds the key.
			if key.Attempt != "" && stringAttr(last.Item, "status") == string(idem.Done) &&
				stringAttr(last.Item, "resourceId") == key.ResourceID && stringAttr(last.Item, "attempt") == key.Attempt {
				return nil
			}
			return idem.ErrInFlight.With("the idempotency key was taken over by another request")
		}
	}
	if err != nil {
		return watch.settle("create report", err)
	}
	return nil
}

// GetReport reads the report, its timeline and its assignments with one Query on its partition.
func (s *Store) GetReport(ctx context.Context, id string) (report.Report, error) {
	r, _, err := s.getReport(ctx, id)
	return r, err
}

// getReport also returns the ids of the inbound department events applied to the report (kept in its
// partition, so replay detection costs no extra read).
func (s *Store) getReport(ctx context.Context, id string) (report.Report, map[string]bool, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: reportPK(id)}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return report.Report{}, nil, translate("get report "+id, err)
	}
	var r report.Report
	var timeline []report.TimelineEntry
	var assignments []report.Assignment
	var feedback *report.Feedback
	var it0 reportItem
	inbound := map[string]bool{}
	found := false
	for _, raw := range out.Items {
		sk := raw["sk"].(*types.AttributeValueMemberS).Value
		switch {
		case sk == reportSK:
			var it reportItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return report.Report{}, nil, fmt.Errorf("decode report %s: %w", id, err)
			}
			r, found, it0 = it.report(), true, it
		case strings.HasPrefix(sk, timelinePrefix):
			var it timelineItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return report.Report{}, nil, fmt.Errorf("decode timeline of %s: %w", id, err)
			}
			timeline = append(timeline, report.TimelineEntry{At: parseTime(it.At), Status: report.Status(it.Status), Actor: it.Actor, Note: it.Note})
			if it.Inbound != "" {
				inbound[it.Inbound] = true
			}
		case strings.HasPrefix(sk, assignPrefix):
			var it assignmentItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return report.Report{}, nil, fmt.Errorf("decode assignment of %s: %w", id, err)
			}
			assignments = append(assignments, it.assignment())
		case strings.HasPrefix(sk, inboundPrefix):
			inbound[strings.TrimPrefix(sk, inboundPrefix)] = true
		case sk == feedbackSK:
			// The reporter's answer (feedback.go) implies its timeline entry.
			if feedback, err = decodeFeedback(raw); err != nil {
				return report.Report{}, nil, fmt.Errorf("decode answer of %s: %w", id, err)
			}
			timeline = append(timeline, feedback.Entry())
		}
	}
	if !found {
		return report.Report{}, nil, report.ErrNotFound
	}
	if !slices.ContainsFunc(timeline, func(e report.TimelineEntry) bool { return e.Status == report.Submitted }) {
		// A report filed with intake's single write stores no first entry: its creation implies it.
		timeline = append([]report.TimelineEntry{report.Filing(r.CreatedAt)}, timeline...)
	}
	assignments = withCommittedLead(assignments, it0)
	for _, a := range assignments {
		// Entries of a department's status changes may be on its assignment (casework's Apply).
		for _, e := range a.Log {
			timeline = append(timeline, report.TimelineEntry{At: e.At, Status: e.Status, Actor: e.Actor, Note: e.Note})
			if e.Inbound != "" {
				inbound[e.Inbound] = true
			}
		}
		// Nor is a dispatch's entry stored (but for Open311 reports): the lead's assignment it made implies it.
		e := report.DispatchEntry(a.DispatchedAt, a.DispatchedAs, a.Dept)
		if !a.DispatchedAt.IsZero() && !slices.ContainsFunc(timeline, func(o report.TimelineEntry) bool {
			return o.At.Equal(e.At) && o.Status == e.Status && o.Actor == e.Actor
		}) {
			timeline = append(timeline, e)
		}
	}
	slices.SortStableFunc(timeline, func(a, b report.TimelineEntry) int { return a.At.Compare(b.At) })
	r.Timeline, r.Assignments, r.Feedback = timeline, assignments, feedback
	return r, inbound, nil
}

// ReportFromImage decodes a report item as a DynamoDB stream delivers it.
func ReportFromImage(img map[string]types.AttributeValue) (report.Report, error) {
	var it reportItem
	if err := attributevalue.UnmarshalMap(img, &it); err != nil {
		return report.Report{}, fmt.Errorf("decode report image: %w", err)
	}
	if it.Type != "report" {
		return report.Report{}, fmt.Errorf("image is a %q, not a report", it.Type)
	}
	return it.report(), nil
}

type categoryItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	report.Category
}

const categoryPK = "CONFIG#CATEGORY"

// Categories returns every category with one Query.
func (s *Store) Categories(ctx context.Context) ([]report.Category, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: categoryPK}},
	})
	if err != nil {
		return nil, translate("list categories", err)
	}
	var items []categoryItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("decode categories: %w", err)
	}
	cats := make([]report.Category, len(items))
	for i, it := range items {
		cats[i] = it.Category
	}
	return cats, nil
}

// PutCategory creates or replaces a category.
func (s *Store) PutCategory(ctx context.Context, c report.Category) error {
	item, err := attributevalue.MarshalMap(categoryItem{PK: categoryPK, SK: c.Code, Category: c})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return translate("put category "+c.Code, err)
	}
	return s.bumpConfigVersion(ctx)
}
