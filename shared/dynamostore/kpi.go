package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/kpi"
)

// KPIs:
//
//	daily snapshot   pk=KPI#DAY  sk=<local day>  doc=<JSON>
//	open reports     pk=KPI#OPEN sk=LATEST       doc=<JSON>
//
// A day's roll-up reads that day's items only, through the date-keyed index partitions: gsi3 CREATED#,
// RESOLVED#, POINTS#, REDEEMED# and gsi4 REGISTERED#.

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

// PutSnapshot stores a day's snapshot.
func (s *Store) PutSnapshot(ctx context.Context, sn kpi.Snapshot) error {
	return putDoc(ctx, s, "KPI#DAY", sn.Date, sn)
}

// Snapshots returns the snapshots of [from, to] with one Query (paged).
func (s *Store) Snapshots(ctx context.Context, from, to string) ([]kpi.Snapshot, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("KPI#DAY"), ":from": str(from), ":to": str(to)},
	}
	var out []kpi.Snapshot
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query snapshots", err)
		}
		for _, it := range page.Items {
			doc, _ := it["doc"].(*types.AttributeValueMemberS)
			var sn kpi.Snapshot
			if doc == nil || json.Unmarshal([]byte(doc.Value), &sn) != nil {
				return nil, fmt.Errorf("decode snapshot")
			}
			out = append(out, sn)
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// OpenReports queries each department's queue in each open status, keeping the lead's assignment of each
// report: one Query per (department, status), during the roll-up rather than per dashboard view.
func (s *Store) OpenReports(ctx context.Context, depts []string) ([]kpi.OpenReport, error) {
	var out []kpi.OpenReport
	seen := map[string]bool{}
	var st kpi.ReadStats
	for _, d := range depts {
		for _, status := range []string{"dispatched", "accepted", "in_progress", "needs_triage"} {
			items, err := queryAll[assignmentItem](ctx, s, &dynamodb.QueryInput{
				TableName: &s.table, IndexName: aws.String("gsi2"), KeyConditionExpression: aws.String("gsi2pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("QUEUE#" + d + "#" + status)},
			}, &st)
			if err != nil {
				return nil, err
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
	return out, nil
}

type openDoc struct {
	At    time.Time        `json:"at"`
	Items []kpi.OpenReport `json:"items"`
}

// PutOpenReports stores the open-reports map.
func (s *Store) PutOpenReports(ctx context.Context, rs []kpi.OpenReport, at time.Time) error {
	if rs == nil {
		rs = []kpi.OpenReport{}
	}
	return putDoc(ctx, s, "KPI#OPEN", "LATEST", openDoc{At: at.UTC(), Items: rs})
}

// StoredOpenReports returns the latest open-reports map (empty before the first roll-up).
func (s *Store) StoredOpenReports(ctx context.Context) ([]kpi.OpenReport, time.Time, error) {
	d, err := getDoc[openDoc](ctx, s, "KPI#OPEN", "LATEST")
	if errors.Is(err, dispatch.ErrConfigMissing) {
		return []kpi.OpenReport{}, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	return d.Items, d.At, nil
}
