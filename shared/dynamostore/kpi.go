package dynamostore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// KPIs:
//
//	daily snapshot   pk=KPI#DAY    sk=<local day>  docz=<gzip JSON>  (doc=<JSON> before the bounded sketches)
//	month roll-up    pk=KPI#MONTH  sk=<YYYY-MM>    docz=<gzip JSON>
//	year roll-up     pk=KPI#YEAR   sk=<YYYY>       docz=<gzip JSON>
//	running totals   pk=KPI#TOTAL  sk=ALL          docz=<gzip JSON>
//
// A day's roll-up reads that day's items only, through the date-keyed index partitions: gsi3 CREATED#,
// POINTS# (and RESOLVED#, the resolution items written before issue 11), gsi4 RESOLVED# and
// REGISTERED#. The open-reports map is read from the open queues (gsi2 QUEUE#<dept>#OPEN) when the dashboard
// asks for it, a bounded number of items from each.
//
// gsi3 projects no status: a report's CREATED# entry is written once at intake and once more when dispatch
// sets its lead, never on a status change. What the roll-up needs of a status is in attributes set once:
// duplicateOf or rejectReason "duplicate" (a duplicate), rejectReason "invalid" (rejected as invalid; both
// end the report's life). A day's redemptions are its ledger's redemption entries (one each, timed at the
// redemption, id redemption-<id>); their kind, points and status are read from the redemptions themselves
// (BatchGetItem), the day's only, which write no KPI index entry of their own (gsi3 REDEEMED#, before:
// one index write unit per redemption).

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

// DayInputs reads one local day's reports, resolutions, ledger entries, redemptions, registrations,
// reporters' answers, volunteer service (kpi_volunteer.go) and builders' records (kpi_builders.go) (eleven
// Queries and a BatchGetItem per hundred redemptions).
func (s *Store) DayInputs(ctx context.Context, date string) (kpi.Inputs, kpi.ReadStats, error) {
	var in kpi.Inputs
	var st kpi.ReadStats
	type created struct {
		ID          string `dynamodbav:"id"`
		Category    string `dynamodbav:"category"`
		DuplicateOf string `dynamodbav:"duplicateOf"`
		Reason      string `dynamodbav:"rejectReason"`
		Reporter    string `dynamodbav:"reporterSub"`
		Lead        string `dynamodbav:"leadDept"`
	}
	cs, err := queryAll[created](ctx, s, dayQuery(s.table, "gsi3", "CREATED#"+date,
		"id, category, duplicateOf, rejectReason, reporterSub, leadDept", nil), &st)
	if err != nil {
		return in, st, err
	}
	for _, c := range cs {
		in.Created = append(in.Created, kpi.Created{ID: c.ID, Category: c.Category, Status: createdStatus(c.DuplicateOf, c.Reason),
			DuplicateOf: c.DuplicateOf, Reason: c.Reason, ReporterSub: c.Reporter, LeadDept: c.Lead})
	}
	type resolution struct {
		PK      string `dynamodbav:"pk"`
		SK      string `dynamodbav:"gsi4sk"`
		Created string `dynamodbav:"createdAt"`
	}
	rs, err := queryAll[resolution](ctx, s, dayQuery(s.table, "gsi4", s.resolvedPKOf(date), "pk, gsi4sk, createdAt", nil), &st)
	if err != nil {
		return in, st, err
	}
	for _, r := range rs {
		res, ok := parseResolvedSK(r.SK)
		if !ok {
			return in, st, fmt.Errorf("resolution key %q of %s", r.SK, date)
		}
		res.ReportID, res.CreatedAt = strings.TrimPrefix(r.PK, "REPORT#"), parseTime(r.Created)
		in.Resolutions = append(in.Resolutions, res)
	}
	type legacyResolution struct {
		SK       string `dynamodbav:"gsi3sk"`
		ReportID string `dynamodbav:"reportId"`
		Category string `dynamodbav:"category"`
		Lead     string `dynamodbav:"leadDept"`
		Created  string `dynamodbav:"createdAt"`
		Deadline string `dynamodbav:"slaDeadline"`
	}
	lrs, err := queryAll[legacyResolution](ctx, s, dayQuery(s.table, "gsi3", s.resolvedPKOf(date),
		"gsi3sk, reportId, category, leadDept, createdAt, slaDeadline", nil), &st)
	if err != nil {
		return in, st, err
	}
	for _, r := range lrs {
		resolved, _, _ := strings.Cut(r.SK, "#") // <resolvedAt>#<id>
		in.Resolutions = append(in.Resolutions, kpi.Resolution{ReportID: r.ReportID, Category: r.Category, LeadDept: r.Lead,
			CreatedAt: parseTime(r.Created), ResolvedAt: parseTime(resolved), SLADeadline: parseTime(r.Deadline)})
	}
	type line struct {
		ID    string `dynamodbav:"id"`
		Kind  string `dynamodbav:"kind"`
		Delta int64  `dynamodbav:"delta"`
	}
	ls, err := queryAll[line](ctx, s, dayQuery(s.table, "gsi3", "POINTS#"+date, "id, kind, delta", nil), &st)
	if err != nil {
		return in, st, err
	}
	var ids []string
	for _, l := range ls {
		in.Ledger = append(in.Ledger, kpi.LedgerLine{Kind: l.Kind, Delta: l.Delta})
		if rid, ok := strings.CutPrefix(l.ID, "redemption-"); ok && l.Kind == points.KindRedemption {
			ids = append(ids, rid)
		}
	}
	if in.Redemptions, err = s.redemptionLines(ctx, ids, &st); err != nil {
		return in, st, err
	}
	type reg struct {
		Sub string `dynamodbav:"gsi4sk"`
	}
	regs, err := queryAll[reg](ctx, s, dayQuery(s.table, "gsi4", "REGISTERED#"+date, "gsi4sk", nil), &st)
	if err != nil {
		return in, st, err
	}
	in.Registered = len(regs)
	type answer struct {
		SK string `dynamodbav:"gsi3sk"`
	}
	as, err := queryAll[answer](ctx, s, dayQuery(s.table, "gsi3", feedbackPKOf(date), "gsi3sk", nil), &st)
	if err != nil {
		return in, st, err
	}
	for _, a := range as {
		l, ok := parseFeedbackSK(a.SK)
		if !ok {
			return in, st, fmt.Errorf("answer key %q of %s", a.SK, date)
		}
		in.Answers = append(in.Answers, l)
	}
	type meToo struct {
		SK string `dynamodbav:"gsi3sk"`
	}
	mts, err := queryAll[meToo](ctx, s, dayQuery(s.table, "gsi3", meTooPrefix+date, "gsi3sk", nil), &st)
	if err != nil {
		return in, st, err
	}
	in.MeToos = len(mts)
	if in.Volunteers, err = s.VolunteerDayInputs(ctx, date, &st); err != nil {
		return in, st, err
	}
	if in.Builders, err = s.BuildersDayInputs(ctx, date, &st); err != nil {
		return in, st, err
	}
	return in, st, nil
}

// createdStatus is the status the roll-up distinguishes, from attributes set once: duplicate, rejected (as
// invalid) or "" (anything else).
func createdStatus(duplicateOf, reason string) string {
	switch {
	case duplicateOf != "" || reason == report.ReasonDuplicate:
		return string(report.Duplicate)
	case reason == report.ReasonInvalid:
		return string(report.Rejected)
	}
	return ""
}

// redemptionLines reads the kind, points and status of each redemption (BatchGetItem, 100 keys a call,
// counted as Queries are: a day's items, whatever the history).
func (s *Store) redemptionLines(ctx context.Context, ids []string, st *kpi.ReadStats) ([]kpi.RedemptionLine, error) {
	out := make([]kpi.RedemptionLine, 0, len(ids))
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[start:min(start+100, len(ids))] {
			keys = append(keys, map[string]types.AttributeValue{"pk": str("REDEMPTION#" + id), "sk": str("REDEMPTION")})
		}
		st.BatchGets++
		err := s.batchGetEach(ctx, keys, "kind, amount, #st", map[string]string{"#st": "status"}, func(it map[string]types.AttributeValue) error {
			st.Items++
			var r struct {
				Kind   string `dynamodbav:"kind"`
				Amount int64  `dynamodbav:"amount"`
				Status string `dynamodbav:"status"`
			}
			if err := attributevalue.UnmarshalMap(it, &r); err != nil {
				return fmt.Errorf("decode redemption: %w", err)
			}
			out = append(out, kpi.RedemptionLine{Kind: r.Kind, Amount: r.Amount, Status: r.Status})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolvedPK is the gsi4 partition of the reports resolved on at's local day.
func (s *Store) resolvedPK(at time.Time) string { return s.resolvedPKOf(s.dayKey(at)) }

func (s *Store) resolvedPKOf(day string) string { return "RESOLVED#" + day }

// resolvedSK is a resolved report's gsi4 sort key, <resolvedAt>#<slaDeadline>#<lead>#<category>: what the
// roll-up reads of a resolution but the report's id (its pk) and createdAt, which every gsi4 entry carries,
// so gsi4's projection stays as it is. Department ids and category codes hold no '#'.
func resolvedSK(r report.Report, lead string, at, deadline time.Time) string {
	return strings.Join([]string{timeKey(at), timeKey(deadline), lead, r.Category}, "#")
}

func parseResolvedSK(sk string) (kpi.Resolution, bool) {
	p := strings.Split(sk, "#")
	if len(p) != 4 {
		return kpi.Resolution{}, false
	}
	return kpi.Resolution{Category: p[3], LeadDept: p[2], ResolvedAt: parseTime(p[0]), SLADeadline: parseTime(p[1])}, true
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

// OpenReports reads each department's open queue (gsi2 QUEUE#<dept>#OPEN, every open status) for its
// perQueue earliest deadlines (one Query, a second only past 1 MB, whatever the backlog), keeping the lead's
// assignment of each report with its status (astatus). truncated says some queue held more.
func (s *Store) OpenReports(ctx context.Context, depts []string, perQueue int) ([]kpi.OpenReport, bool, error) {
	var out []kpi.OpenReport
	seen := map[string]bool{}
	truncated := false
	for _, d := range depts {
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String("gsi2"), KeyConditionExpression: aws.String("gsi2pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(queuePK(d, report.Dispatched))},
		}
		for read := 0; read < perQueue; {
			in.Limit = aws.Int32(int32(perQueue - read))
			page, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, false, translate("query queue", err)
			}
			read += len(page.Items)
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
					Category: it.Category, Status: string(it.assignment().Status), LeadDept: it.Dept})
			}
			if page.LastEvaluatedKey == nil {
				break
			}
			// A page ends at perQueue items or at 1 MB, whichever comes first: past perQueue the map shows
			// this queue's most urgent items and says it left some out.
			truncated = truncated || read >= perQueue
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
	}
	return out, truncated, nil
}
