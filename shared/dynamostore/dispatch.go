package dynamostore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Key layout of dispatch (added to the package doc's table):
//
//	assignment       pk=REPORT#<id>  sk=ASSIGN#<dept>
//	  gsi2 (queue)   gsi2pk=QUEUE#<dept>#OPEN while its status is open, else QUEUE#<dept>#<status>
//	                 gsi2sk=<slaDeadline>#<id>   (closed: none)
//	  gsi4 (SLA)     gsi4pk=SLA#OPEN  gsi4sk=<slaDeadline>#<id>#<dept>   (only while open and not overdue)
//	  gsi3 (near)    gsi3pk=NEAR#<category>#<geohash6>  gsi3sk=<createdAt>#<id>   (lead assignments: duplicates)
//	inbound event    pk=REPORT#<id>  sk=INBOUND#<dept>#<webhook-id>   (ttl; only for events that leave the
//	                 status as it was: a status change records its webhook-id on its timeline entry, `inbound`)
//
// An assignment's status is `astatus`, which only the queue index (gsi2) projects: a change between open
// statuses (dispatched → accepted → in_progress) keeps the queue entry's key and rewrites that one entry
// (1 index write unit, not the 2 of a key that moves), a queue of one open status is the open partition
// filtered by astatus, and the SLA entry (gsi4) and the NEAR entry (gsi3, which projects only what an
// assignment never changes: reportId, category, createdAt, location, slaDeadline) stay unwritten. Only
// leaving the open statuses (resolved, rejected …) or coming back (reopened) moves the entry. Items written
// before astatus carry it as `status` (read as a fallback); queue entries written before the open partition
// (QUEUE#<dept>#<open status>) are moved into it by MigrateQueueKeys.
const (
	assignPrefix  = "ASSIGN#"
	inboundPrefix = "INBOUND#"
	slaPK         = "SLA#OPEN"
)

// assignmentItem is an assignment, with the report's immutable facts copied in so a department's queue is
// one Query.
type assignmentItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	ReportID    string `dynamodbav:"reportId"`
	Dept        string `dynamodbav:"dept"`
	Role        string `dynamodbav:"role"`
	Status      string `dynamodbav:"astatus"`
	OldStatus   string `dynamodbav:"status,omitempty"` // assignments written before astatus
	AssignedAt  string `dynamodbav:"assignedAt"`
	SLADeadline string `dynamodbav:"slaDeadline"`
	Overdue     bool   `dynamodbav:"overdue"`
	Escalation  string `dynamodbav:"escalation,omitempty"`
	Closed      bool   `dynamodbav:"closed"`
	// Dispatched is "<at>#<status>" of the dispatch that made this (lead) assignment: the dispatch's
	// timeline entry is implied by it, not stored.
	Dispatched string `dynamodbav:"dispatched,omitempty"`
	// Log: timeline entries of the department's own status changes (casework's Apply), bounded by
	// report.MaxLog and report.MaxLoggedNote.
	Log         []logEntry      `dynamodbav:"log,omitempty"`
	Category    string          `dynamodbav:"category"`
	Description string          `dynamodbav:"description"`
	Location    report.Location `dynamodbav:"location"`
	Address     string          `dynamodbav:"address,omitempty"`
	CreatedAt   string          `dynamodbav:"createdAt"`
	GSI2PK      string          `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK      string          `dynamodbav:"gsi2sk,omitempty"`
	GSI3PK      string          `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK      string          `dynamodbav:"gsi3sk,omitempty"`
	GSI4PK      string          `dynamodbav:"gsi4pk,omitempty"`
	GSI4SK      string          `dynamodbav:"gsi4sk,omitempty"`
}

func toAssignmentItem(r report.Report, a report.Assignment) assignmentItem {
	deadline := timeKey(a.SLADeadline)
	it := assignmentItem{
		PK: reportPK(r.ID), SK: assignPrefix + a.Dept, Type: "assignment", ReportID: r.ID, Dept: a.Dept,
		Role: string(a.Role), Status: string(a.Status), AssignedAt: timeKey(a.AssignedAt), SLADeadline: deadline,
		Overdue: a.Overdue, Escalation: a.Escalation, Closed: a.Closed, Category: r.Category, Dispatched: dispatchedAttr(a), Log: toLog(a.Log),
		Description: r.Description, Location: r.Location, Address: r.Address, CreatedAt: timeKey(r.CreatedAt),
	}
	if a.Role == report.Lead {
		// Duplicate detection finds open reports by their lead assignment: an item whose NEAR entry no
		// status change rewrites (dispatch writes it with the assignment; a reassignment adds the new lead's).
		it.GSI3PK = nearPK(r.Category, dispatch.Cell(orb.Point{r.Location.Lng, r.Location.Lat}))
		it.GSI3SK = it.CreatedAt + "#" + r.ID
	}
	if !a.Closed {
		it.GSI2PK, it.GSI2SK = queuePK(a.Dept, a.Status), deadline+"#"+r.ID
		if a.Status.Open() && !a.Overdue {
			it.GSI4PK, it.GSI4SK = slaPK, deadline+"#"+r.ID+"#"+a.Dept
		}
	}
	return it
}

// logEntry is a timeline entry on an assignment (short names: it is stored with every rewrite).
type logEntry struct {
	At      string `dynamodbav:"at"`
	Status  string `dynamodbav:"st"`
	Actor   string `dynamodbav:"by"`
	Note    string `dynamodbav:"n,omitempty"`
	Inbound string `dynamodbav:"in,omitempty"`
}

func toLog(es []report.TimelineEntry) []logEntry {
	out := make([]logEntry, len(es))
	for i, e := range es {
		out[i] = logEntry{At: timeKey(e.At), Status: string(e.Status), Actor: e.Actor, Note: e.Note, Inbound: e.Inbound}
	}
	return out
}

func fromLog(es []logEntry) []report.TimelineEntry {
	if len(es) == 0 {
		return nil
	}
	out := make([]report.TimelineEntry, len(es))
	for i, e := range es {
		out[i] = report.TimelineEntry{At: parseTime(e.At), Status: report.Status(e.Status), Actor: e.Actor, Note: e.Note, Inbound: e.Inbound}
	}
	return out
}

func dispatchedAttr(a report.Assignment) string {
	if a.DispatchedAt.IsZero() {
		return ""
	}
	return timeKey(a.DispatchedAt) + "#" + string(a.DispatchedAs)
}

func (it assignmentItem) assignment() report.Assignment {
	status := it.Status
	if status == "" {
		status = it.OldStatus
	}
	var dispatchedAt time.Time
	at, as, _ := strings.Cut(it.Dispatched, "#")
	if at != "" {
		dispatchedAt = parseTime(at)
	}
	return report.Assignment{DispatchedAt: dispatchedAt, DispatchedAs: report.Status(as), Log: fromLog(it.Log),
		Dept: it.Dept, Role: report.Role(it.Role), Status: report.Status(status), AssignedAt: parseTime(it.AssignedAt),
		SLADeadline: parseTime(it.SLADeadline), Overdue: it.Overdue, Escalation: it.Escalation, Closed: it.Closed,
	}
}

func (s *Store) putItem(v any, cond string) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := &types.Put{TableName: &s.table, Item: item}
	if cond != "" {
		p.ConditionExpression = &cond
	}
	return types.TransactWriteItem{Put: p}, nil
}

// transact runs items; a failed condition is ErrAlreadyHandled: the report (the first item) is no longer
// in the status it was read in, or an item that must be new (an applied inbound event's id) already
// exists because a concurrent copy of the same request won.
func (s *Store) transact(ctx context.Context, op string, items []types.TransactWriteItem) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if slices.ContainsFunc(cancellationReasons(err), func(r types.CancellationReason) bool {
		return aws.ToString(r.Code) == "ConditionalCheckFailed"
	}) {
		return dispatch.ErrAlreadyHandled
	}
	if err != nil {
		return translate(op, err)
	}
	return nil
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func reportKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(reportPK(id)), "sk": str(reportSK)}
}

// dropLegacyIndexKeys ends a report's gsi1 (mine) and gsi2 (NEAR) entries, which reports filed before
// gsi5 and the lead assignments' NEAR entries carry and every status change would rewrite: nothing for a
// report filed since (removing an absent attribute writes nothing).
const dropLegacyIndexKeys = "REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk"

// Nearby queries one geohash cell of a category for reports created since the given time: the NEAR entries
// of lead assignments (gsi3), which carry a report's id, category, location and creation time but not its
// status (ask Standings for the candidates that matter). A report has one entry per lead it had.
func (s *Store) Nearby(ctx context.Context, category, cell string, since time.Time) ([]report.Report, error) {
	var out []report.Report
	seen := map[string]bool{}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String("gsi3"),
		KeyConditionExpression: aws.String("gsi3pk = :pk AND gsi3sk >= :since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(nearPK(category, cell)), ":since": str(timeKey(since)),
		},
		ProjectionExpression:     aws.String("reportId, category, createdAt, #loc"),
		ExpressionAttributeNames: map[string]string{"#loc": "location"},
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query nearby reports", err)
		}
		var items []nearItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode nearby reports: %w", err)
		}
		for _, it := range items {
			if !seen[it.ReportID] {
				seen[it.ReportID] = true
				out = append(out, report.Report{ID: it.ReportID, Category: it.Category, Location: it.Location, CreatedAt: parseTime(it.CreatedAt)})
			}
		}
		if page.LastEvaluatedKey == nil || len(out) >= 500 { // a bounded look: 500 same-category reports in one cell in the window is already a hotspot
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// nearItem is what duplicate detection reads of a lead assignment's NEAR entry.
type nearItem struct {
	ReportID  string          `dynamodbav:"reportId"`
	Category  string          `dynamodbav:"category"`
	CreatedAt string          `dynamodbav:"createdAt"`
	Location  report.Location `dynamodbav:"location"`
}

// Standings reads the current status of each report and whether it was filed as not public
// (BatchGetItem, eventually consistent: a status a second old is as good as the index's; whether a report
// is public never changes); a report that does not exist is left out.
func (s *Store) Standings(ctx context.Context, ids []string) (map[string]dispatch.Standing, error) {
	out := make(map[string]dispatch.Standing, len(ids))
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[start:min(start+100, len(ids))] {
			keys = append(keys, reportKey(id))
		}
		err := s.batchGetEach(ctx, keys, "id, #st, #pv", map[string]string{"#st": "status", "#pv": "private"}, func(it map[string]types.AttributeValue) error {
			pv, _ := it["private"].(*types.AttributeValueMemberBOOL)
			out[stringAttr(it, "id")] = dispatch.Standing{Status: report.Status(stringAttr(it, "status")), Private: pv != nil && pv.Value}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Dispatch and duplicate links are not transactions (a transaction's writes cost twice): the report's
// conditional UpdateItem (still submitted) is the commit, and what follows it — the assignments, or a
// duplicate's timeline entry — are PutItems only if absent, which the dispatch service writes again when a
// record comes back and finds them missing (CompleteDispatch, AddTimelineEntry). The lead's assignment is
// written last: until it exists nobody can act on the report, so the report stays as the commit left it,
// and once it exists everything does. It carries the dispatch's instant and status, which imply the
// dispatch's timeline entry (getReport), so no entry is stored for it.

// commitReport applies a dispatch's update to a report that must still be submitted. A refused condition
// is this very update when the report already carries it (the SDK re-sent it after its answer was lost, or
// an earlier delivery of the record committed the same decision at the same instant), else
// ErrAlreadyHandled.
func (s *Store) commitReport(ctx context.Context, id, update string, vals map[string]types.AttributeValue, same func(old map[string]types.AttributeValue) bool) error {
	vals[":submitted"] = str(string(report.Submitted))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: reportKey(id),
		UpdateExpression:                    aws.String(update + " " + dropLegacyIndexKeys),
		ConditionExpression:                 aws.String("#st = :submitted"),
		ExpressionAttributeNames:            map[string]string{"#st": "status"},
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		if ccf.Item != nil && same(ccf.Item) {
			return nil
		}
		return dispatch.ErrAlreadyHandled
	}
	if err != nil {
		return translate("update report "+id, err)
	}
	return nil
}

// putIfAbsent writes v unless an item with its key exists.
func (s *Store) putIfAbsent(ctx context.Context, op string, v any) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, ok := conditionFailed(err); ok {
		return nil
	}
	if err != nil {
		return translate(op, err)
	}
	return nil
}

// MarkDuplicate links a submitted report to its original, then adds its timeline entry.
func (s *Store) MarkDuplicate(ctx context.Context, r report.Report, original string, entry report.TimelineEntry) error {
	at := timeKey(entry.At)
	err := s.commitReport(ctx, r.ID,
		// gsi4 DUPOF#<original> lets accrual find an original's duplicates (confirmation awards).
		"SET #st = :dup, duplicateOf = :orig, updatedAt = :now, gsi4pk = :dpk, gsi4sk = :dsk",
		map[string]types.AttributeValue{
			":dup": str(string(report.Duplicate)), ":orig": str(original), ":now": str(at),
			":dpk": str("DUPOF#" + original), ":dsk": str(timeKey(r.CreatedAt) + "#" + r.ID),
		},
		func(old map[string]types.AttributeValue) bool {
			return stringAttr(old, "status") == string(report.Duplicate) && stringAttr(old, "duplicateOf") == original && stringAttr(old, "updatedAt") == at
		})
	if err != nil {
		return err
	}
	return s.AddTimelineEntry(ctx, r.ID, entry)
}

// committedLead is the lead's assignment as dispatch's commit decided it, kept on the report item, with the
// departments the commit summoned to assist: the assignment items are written after the commit
// (CompleteDispatch, the assistants' first), and until the lead's exists readers take the lead's status, SLA
// deadline and dispatch entry, and each assistant not written yet, from here (withCommittedLead): not a
// dispatched report without a deadline, nor one whose assistants appear a moment after its lead. Only what
// the assignment items would say at their creation (an assistant's is the lead's status, time and deadline).
type committedLead struct {
	Dept        string   `dynamodbav:"dept"`
	Status      string   `dynamodbav:"astatus"`
	AssignedAt  string   `dynamodbav:"assignedAt"`
	SLADeadline string   `dynamodbav:"slaDeadline"`
	Dispatched  string   `dynamodbav:"dispatched,omitempty"`
	Assists     []string `dynamodbav:"assists,omitempty"`
}

// withCommittedLead adds the committed lead's assignment, and each committed assistant's, when the lead's
// item is not written yet (a read between dispatch's commit and its assignments' writes, or after a
// dispatch stopped there until its record is delivered again). Once the lead's item is written, every
// assistant's is too, and the items are what counts.
func withCommittedLead(as []report.Assignment, it reportItem) []report.Assignment {
	c := it.DispatchedLead
	has := func(dept string) bool {
		return slices.ContainsFunc(as, func(a report.Assignment) bool { return a.Dept == dept })
	}
	if c == nil || c.Dept != it.LeadDept || has(c.Dept) {
		return as
	}
	a := assignmentItem{Dept: c.Dept, Role: string(report.Lead), Status: c.Status, AssignedAt: c.AssignedAt,
		SLADeadline: c.SLADeadline, Dispatched: c.Dispatched}.assignment()
	a.Pending = true
	as = append(as, a)
	for _, d := range c.Assists {
		if d == c.Dept || has(d) {
			continue
		}
		a := assignmentItem{Dept: d, Role: string(report.Assist), Status: c.Status, AssignedAt: c.AssignedAt,
			SLADeadline: c.SLADeadline}.assignment()
		a.Pending = true
		as = append(as, a)
	}
	return as
}

// Dispatch moves a submitted report to status with its lead (the commit, which carries the lead's
// assignment as committedLead), then writes its assignments (CompleteDispatch).
func (s *Store) Dispatch(ctx context.Context, r report.Report, status report.Status, lead string, as []report.Assignment, entry report.TimelineEntry) error {
	at := timeKey(entry.At)
	update := "SET #st = :st, leadDept = :lead, updatedAt = :now"
	vals := map[string]types.AttributeValue{":st": str(string(status)), ":lead": str(lead), ":now": str(at)}
	if i := slices.IndexFunc(as, func(a report.Assignment) bool { return a.Role == report.Lead && a.Dept == lead }); i >= 0 {
		a := as[i]
		var assists []string
		for _, b := range as {
			if b.Role == report.Assist {
				assists = append(assists, b.Dept)
			}
		}
		c, err := attributevalue.Marshal(committedLead{Dept: a.Dept, Status: string(a.Status), AssignedAt: timeKey(a.AssignedAt),
			SLADeadline: timeKey(a.SLADeadline), Dispatched: dispatchedAttr(a), Assists: assists})
		if err != nil {
			return err
		}
		update, vals[":dl"] = update+", dispatchedLead = :dl", c
	}
	err := s.commitReport(ctx, r.ID, update, vals,
		func(old map[string]types.AttributeValue) bool {
			return stringAttr(old, "status") == string(status) && stringAttr(old, "leadDept") == lead && stringAttr(old, "updatedAt") == at
		})
	if err != nil {
		return err
	}
	return s.CompleteDispatch(ctx, r, as)
}

// CompleteDispatch writes a dispatched report's assistants' assignments, then its lead's (which implies the
// dispatch's timeline entry), each only if absent. An Open311 report's entry is stored as well: Open311's
// updates feed reads its reports' timeline items (their gsi1 O311UPD# entries).
func (s *Store) CompleteDispatch(ctx context.Context, r report.Report, as []report.Assignment) error {
	ordered := slices.SortedStableFunc(slices.Values(as), func(a, b report.Assignment) int {
		return cmp.Compare(roleOrder(a.Role), roleOrder(b.Role))
	})
	if report.IsOpen311ID(r.ID) {
		for _, a := range ordered {
			if !a.DispatchedAt.IsZero() {
				if err := s.AddTimelineEntry(ctx, r.ID, report.DispatchEntry(a.DispatchedAt, a.DispatchedAs, a.Dept)); err != nil {
					return err
				}
			}
		}
	}
	for _, a := range ordered {
		if err := s.putIfAbsent(ctx, "put assignment "+a.Dept+" of "+r.ID, toAssignmentItem(r, a)); err != nil {
			return err
		}
	}
	return nil
}

// roleOrder puts assistants before the lead.
func roleOrder(r report.Role) int {
	if r == report.Lead {
		return 1
	}
	return 0
}

// AddTimelineEntry writes a timeline entry unless it exists (its key is its time, actor and number).
func (s *Store) AddTimelineEntry(ctx context.Context, id string, entry report.TimelineEntry) error {
	return s.putIfAbsent(ctx, "add timeline entry of "+id, timelineEntryItem(id, 0, entry))
}

// Overdue reads a page of the SLA index: open assignments whose deadline has passed, earliest first,
// after the cursor (a page's last index key; "" for the first page). It returns the next page's cursor,
// "" after the last. The index is eventually consistent: it may still list an assignment escalated a moment
// ago, which ClaimEscalation then refuses. Everything is read from the keys, so the index needs no
// projected attributes.
func (s *Store) Overdue(ctx context.Context, now time.Time, limit int, cursor string) ([]dispatch.OverdueAssignment, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String("gsi4"),
		KeyConditionExpression:    aws.String("gsi4pk = :pk AND gsi4sk < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(slaPK), ":now": str(timeKey(now))},
		ProjectionExpression:      aws.String("pk, sk, gsi4pk, gsi4sk"),
		Limit:                     aws.Int32(int32(limit)),
	}
	if cursor != "" {
		o, ok := parseSLAKey(cursor)
		if !ok {
			return nil, "", fmt.Errorf("overdue cursor %q: %w", cursor, report.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(reportPK(o.ReportID)), "sk": str(assignPrefix + o.Dept),
			"gsi4pk": str(slaPK), "gsi4sk": str(cursor)}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query overdue assignments", err)
	}
	res := make([]dispatch.OverdueAssignment, 0, len(out.Items))
	for _, it := range out.Items {
		v, _ := it["gsi4sk"].(*types.AttributeValueMemberS)
		if v == nil {
			continue
		}
		if o, ok := parseSLAKey(v.Value); ok {
			res = append(res, o)
		}
	}
	next := ""
	if v, ok := out.LastEvaluatedKey["gsi4sk"].(*types.AttributeValueMemberS); ok {
		next = v.Value
	}
	return res, next, nil
}

// parseSLAKey reads an SLA index sort key, <slaDeadline>#<report id>#<dept>.
func parseSLAKey(k string) (dispatch.OverdueAssignment, bool) {
	parts := strings.Split(k, "#")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return dispatch.OverdueAssignment{}, false
	}
	return dispatch.OverdueAssignment{ReportID: parts[1], Dept: parts[2], SLADeadline: parseTime(parts[0])}, true
}

// ClaimEscalation takes the assignment's escalation lease until the given time: one conditional UpdateItem
// that succeeds only while the assignment is open, not yet overdue, and not leased to another sweep (or
// leased to this very claim, so the SDK's re-send of a claim whose answer was lost still holds it). false:
// escalated already (a stale index view), closed, or another sweep is escalating it.
func (s *Store) ClaimEscalation(ctx context.Context, o dispatch.OverdueAssignment, now, until time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              map[string]types.AttributeValue{"pk": str(reportPK(o.ReportID)), "sk": str(assignPrefix + o.Dept)},
		UpdateExpression: aws.String("SET escalationClaim = :c, escalationClaimUntil = :until"),
		ConditionExpression: aws.String("gsi4pk = :sla AND overdue = :f AND " +
			"(attribute_not_exists(escalationClaimUntil) OR escalationClaimUntil < :now OR escalationClaim = :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": str(o.Claim), ":until": str(timeKey(until)), ":now": str(timeKey(now)), ":sla": str(slaPK),
			":f": &types.AttributeValueMemberBOOL{Value: false},
		},
	})
	if _, ok := conditionFailed(err); ok {
		return false, nil
	}
	if err != nil {
		return false, translate("claim escalation", err)
	}
	return true, nil
}

// MarkOverdue flags the assignment overdue and takes it out of the SLA index, once, if the escalation
// lease is still o.Claim (a sweep that outlived its lease leaves the mark to the one that took it over).
func (s *Store) MarkOverdue(ctx context.Context, o dispatch.OverdueAssignment, entry report.TimelineEntry) (bool, error) {
	// A sweep escalates every late assignment of a report at one instant and as one actor ("system"), so
	// the timeline key would be the same for each: the department in the key keeps one entry per
	// assignment instead of the last overwriting the others.
	it := timelineEntryItem(o.ReportID, 0, entry)
	it.SK += "#" + o.Dept
	tl, err := s.putItem(it, "")
	if err != nil {
		return false, err
	}
	err = s.transact(ctx, "mark overdue", []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           &s.table,
			Key:                 map[string]types.AttributeValue{"pk": str(reportPK(o.ReportID)), "sk": str(assignPrefix + o.Dept)},
			UpdateExpression:    aws.String("SET overdue = :t REMOVE gsi4pk, gsi4sk, escalationClaim, escalationClaimUntil"),
			ConditionExpression: aws.String("attribute_exists(gsi4pk) AND overdue = :f AND escalationClaim = :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true},
				":f": &types.AttributeValueMemberBOOL{Value: false}, ":c": str(o.Claim)},
		}},
		tl,
	})
	if errors.Is(err, dispatch.ErrAlreadyHandled) {
		return false, nil
	}
	return err == nil, err
}
