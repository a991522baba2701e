package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/kpi"
)

// KPIs:
//
//	daily snapshot   pk=KPI#DAY    sk=<local day>  docz=<gzip JSON>  (doc=<JSON> before the bounded sketches)
//	month roll-up    pk=KPI#MONTH  sk=<YYYY-MM>    docz=<gzip JSON>
//	year roll-up     pk=KPI#YEAR   sk=<YYYY>       docz=<gzip JSON>
//	running totals   pk=KPI#TOTAL  sk=ALL          docz=<gzip JSON>
//
// A day's roll-up reads that day's items only, through the date-keyed index partitions: gsi3 CREATED#,
// RESOLVED#, POINTS#, REDEEMED# and gsi4 REGISTERED#. The open-reports map is read from the queues (gsi2
// QUEUE#<dept>#<status>) when the dashboard asks for it, a bounded number of items from each.

// queryAll runs a Query to the end, decoding each page into out and counting pages and items.
func queryAll[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, stats *kpi.ReadStats) ([]T, error) {
	var out []T
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query", err)
		}
		stats.Queries++
		stats.Items += len(page.Items)
		var items []T
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, err
		}
		out = append(out, items...)
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func dayQuery(table, index, pk, projection string, names map[string]string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName: &table, IndexName: aws.String(index),
		KeyConditionExpression:    aws.String(index + "pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ProjectionExpression:      aws.String(projection),
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	return in
}

// DayInputs reads one local day's reports, resolutions, ledger entries, redemptions and registrations.
func (s *Store) DayInputs(ctx context.Context, date string) (kpi.Inputs, kpi.ReadStats, error) {
	var in kpi.Inputs
	var st kpi.ReadStats
	type created struct {
		ID          string `dynamodbav:"id"`
		Category    string `dynamodbav:"category"`
		Status      string `dynamodbav:"status"`
		DuplicateOf string `dynamodbav:"duplicateOf"`
		Reason      string `dynamodbav:"rejectReason"`
		Reporter    string `dynamodbav:"reporterSub"`
		Lead        string `dynamodbav:"leadDept"`
	}
	cs, err := queryAll[created](ctx, s, dayQuery(s.table, "gsi3", "CREATED#"+date,
		"id, category, #st, duplicateOf, rejectReason, reporterSub, leadDept", map[string]string{"#st": "status"}), &st)
	if err != nil {
		return in, st, err
	}
	for _, c := range cs {
		in.Created = append(in.Created, kpi.Created{ID: c.ID, Category: c.Category, Status: c.Status, DuplicateOf: c.DuplicateOf,
			Reason: c.Reason, ReporterSub: c.Reporter, LeadDept: c.Lead})
	}
	type resolution struct {
		ReportID string `dynamodbav:"reportId"`
		Category string `dynamodbav:"category"`
		Lead     string `dynamodbav:"leadDept"`
		Created  string `dynamodbav:"createdAt"`
		Resolved string `dynamodbav:"resolvedAt"`
		Deadline string `dynamodbav:"slaDeadline"`
	}
	rs, err := queryAll[resolution](ctx, s, dayQuery(s.table, "gsi3", "RESOLVED#"+date,
		"reportId, category, leadDept, createdAt, resolvedAt, slaDeadline", nil), &st)
	if err != nil {
		return in, st, err
	}
	for _, r := range rs {
		in.Resolutions = append(in.Resolutions, kpi.Resolution{ReportID: r.ReportID, Category: r.Category, LeadDept: r.Lead,
			CreatedAt: parseTime(r.Created), ResolvedAt: parseTime(r.Resolved), SLADeadline: parseTime(r.Deadline)})
	}
	type line struct {
		Kind  string `dynamodbav:"kind"`
		Delta int64  `dynamodbav:"delta"`
	}
	ls, err := queryAll[line](ctx, s, dayQuery(s.table, "gsi3", "POINTS#"+date, "kind, delta", nil), &st)
	if err != nil {
		return in, st, err
	}
	for _, l := range ls {
		in.Ledger = append(in.Ledger, kpi.LedgerLine{Kind: l.Kind, Delta: l.Delta})
	}
	type red struct {
		Kind   string `dynamodbav:"kind"`
		Amount int64  `dynamodbav:"amount"`
		Status string `dynamodbav:"status"`
	}
	reds, err := queryAll[red](ctx, s, dayQuery(s.table, "gsi3", "REDEEMED#"+date, "kind, amount, #st", map[string]string{"#st": "status"}), &st)
	if err != nil {
		return in, st, err
	}
	for _, r := range reds {
		in.Redemptions = append(in.Redemptions, kpi.RedemptionLine{Kind: r.Kind, Amount: r.Amount, Status: r.Status})
	}
	type reg struct {
		Sub string `dynamodbav:"gsi4sk"`
	}
	regs, err := queryAll[reg](ctx, s, dayQuery(s.table, "gsi4", "REGISTERED#"+date, "gsi4sk", nil), &st)
	if err != nil {
		return in, st, err
	}
	in.Registered = len(regs)
	return in, st, nil
}

func snapshotPK(kind kpi.Kind) string { return "KPI#" + string(kind) }

// snapshotKind is the kind of stored snapshot a date names.
func snapshotKind(date string) (kpi.Kind, error) {
	switch {
	case date == kpi.TotalKey:
		return kpi.TotalKind, nil
	case len(date) == len("2006-01-02"):
		return kpi.DayKind, nil
	case len(date) == len("2006-01"):
		return kpi.MonthKind, nil
	case len(date) == len("2006"):
		return kpi.YearKind, nil
	}
	return "", fmt.Errorf("snapshot date %q is no day, month, year or %s", date, kpi.TotalKey)
}

// PutSnapshot stores a day's, month's or year's snapshot or the totals (one PutItem, the same document
// whenever it is sent again).
func (s *Store) PutSnapshot(ctx context.Context, sn kpi.Snapshot) error {
	item, err := s.SnapshotItem(sn)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item})
	if err != nil {
		return translate("put kpi snapshot "+sn.Date, err)
	}
	return nil
}

// decodeSnapshot reads a stored snapshot: docz, or doc as stored before the bounded sketches.
func decodeSnapshot(it map[string]types.AttributeValue) (kpi.Snapshot, error) {
	if doc, ok := it["docz"].(*types.AttributeValueMemberB); ok {
		return kpi.DecodeSnapshot(doc.Value)
	}
	if doc, ok := it["doc"].(*types.AttributeValueMemberS); ok {
		return kpi.DecodeSnapshot([]byte(doc.Value))
	}
	return kpi.Snapshot{}, fmt.Errorf("kpi snapshot without a document")
}

// Snapshots returns the snapshots of one kind keyed [from, to] with one Query (paged).
func (s *Store) Snapshots(ctx context.Context, kind kpi.Kind, from, to string) ([]kpi.Snapshot, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(snapshotPK(kind)), ":from": str(from), ":to": str(to),
		},
	}
	var out []kpi.Snapshot
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query kpi snapshots", err)
		}
		for _, it := range page.Items {
			sn, err := decodeSnapshot(it)
			if err != nil {
				return nil, err
			}
			out = append(out, sn)
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Totals returns the running totals (one GetItem; an empty snapshot before the first roll-up).
func (s *Store) Totals(ctx context.Context) (kpi.Snapshot, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table,
		Key:       map[string]types.AttributeValue{"pk": str(snapshotPK(kpi.TotalKind)), "sk": str(kpi.TotalKey)},
	})
	if err != nil {
		return kpi.Snapshot{}, translate("get kpi totals", err)
	}
	if out.Item == nil {
		sn := kpi.Snapshot{Date: kpi.TotalKey}
		sn.Normalize()
		return sn, nil
	}
	return decodeSnapshot(out.Item)
}

// OpenReports queries each department's queue in each open status for at most perQueue assignments (the
// earliest deadlines; one Query each, whatever the backlog), keeping the lead's assignment of each report.
// truncated says some queue held more.
func (s *Store) OpenReports(ctx context.Context, depts []string, perQueue int) ([]kpi.OpenReport, bool, error) {
	var out []kpi.OpenReport
	seen := map[string]bool{}
	truncated := false
	for _, d := range depts {
		for _, status := range []string{"dispatched", "accepted", "in_progress", "needs_triage"} {
			page, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName: &s.table, IndexName: aws.String("gsi2"), KeyConditionExpression: aws.String("gsi2pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("QUEUE#" + d + "#" + status)},
				Limit:                     aws.Int32(int32(perQueue)),
			})
			if err != nil {
				return nil, false, translate("query queue", err)
			}
			// A page ends at perQueue items or at 1 MB, whichever comes first: either way the map shows
			// this queue's most urgent items and says it left some out.
			truncated = truncated || page.LastEvaluatedKey != nil
			var items []assignmentItem
			if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
				return nil, false, fmt.Errorf("decode queue: %w", err)
			}
			for _, it := range items {
				if it.Role != "lead" || seen[it.ReportID] {
					continue
				}
				seen[it.ReportID] = true
				out = append(out, kpi.OpenReport{ID: it.ReportID, Lat: it.Location.Lat, Lng: it.Location.Lng,
					Category: it.Category, Status: it.Status, LeadDept: it.Dept})
			}
		}
	}
	return out, truncated, nil
}
