package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Attendance and service records (README "Volunteers"):
//
//	attendance      pk=ACT#<id>  sk=ATT#<sub>
//	service record  pk=ACT#<id>  sk=REC#<sub>#<revision, 4 digits>  gsi1 VOLREC#<local day of at>/<at>#<id>#<sub>#<revision>
//
// A record is put in the same transaction as the attendance's change, IF attribute_not_exists(pk): one
// item per revision, however often the change is sent. The accrual reads the records' INSERTs from the
// stream; the KPI roll-up and the export read a day's records from gsi1.

func attSK(sub string) string { return "ATT#" + sub }
func recSK(sub string, rev int64) string {
	return fmt.Sprintf("REC#%s#%04d", sub, rev)
}

// disputeAttr is a dispute as stored (a map).
type disputeAttr struct {
	Reason  string `dynamodbav:"reason"`
	Minutes int64  `dynamodbav:"minutes"`
	At      string `dynamodbav:"at"`
	Answer  string `dynamodbav:"answer,omitempty"`
}

// attendanceItem is an attendance as stored.
type attendanceItem struct {
	PK               string       `dynamodbav:"pk"`
	SK               string       `dynamodbav:"sk"`
	Type             string       `dynamodbav:"type"`
	ActivityID       string       `dynamodbav:"activityId"`
	Sub              string       `dynamodbav:"sub"`
	TeamID           string       `dynamodbav:"teamId"`
	AType            string       `dynamodbav:"atype"`
	Title            string       `dynamodbav:"title"`
	Start            string       `dynamodbav:"start"`
	End              string       `dynamodbav:"end"`
	AStatus          string       `dynamodbav:"astatus"`
	Method           string       `dynamodbav:"method"`
	CheckInAt        string       `dynamodbav:"checkInAt,omitempty"`
	CheckOutAt       string       `dynamodbav:"checkOutAt,omitempty"`
	Minutes          int64        `dynamodbav:"minutes"`
	ConfirmedMinutes int64        `dynamodbav:"confirmedMinutes"`
	ConfirmedBy      string       `dynamodbav:"confirmedBy,omitempty"`
	ConfirmedAt      string       `dynamodbav:"confirmedAt,omitempty"`
	Revision         int64        `dynamodbav:"revision"`
	Dispute          *disputeAttr `dynamodbav:"dispute,omitempty"`
	UsedSteps        []int64      `dynamodbav:"usedSteps,numberset,omitempty"`
	RevokedAt        string       `dynamodbav:"revokedAt,omitempty"`
	RevokeReason     string       `dynamodbav:"revokeReason,omitempty"`
}

// optTimeKey is timeKey, or "" for the zero time (the attribute is left out).
func optTimeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timeKey(t)
}

func (it attendanceItem) attendance() volunteer.Attendance {
	a := volunteer.Attendance{
		ActivityID: it.ActivityID, Sub: it.Sub, TeamID: it.TeamID, Type: it.AType, Title: it.Title,
		Status: it.AStatus, Method: it.Method, Minutes: it.Minutes, Confirmed: it.ConfirmedMinutes,
		ConfirmedBy: it.ConfirmedBy, Revision: it.Revision, UsedSteps: it.UsedSteps, RevokeReason: it.RevokeReason,
	}
	if it.CheckInAt != "" {
		a.CheckInAt = parseTime(it.CheckInAt)
	}
	if it.CheckOutAt != "" {
		a.CheckOutAt = parseTime(it.CheckOutAt)
	}
	if it.ConfirmedAt != "" {
		a.ConfirmedAt = parseTime(it.ConfirmedAt)
	}
	if it.RevokedAt != "" {
		a.RevokedAt = parseTime(it.RevokedAt)
	}
	if d := it.Dispute; d != nil {
		a.Dispute = &volunteer.Dispute{Reason: d.Reason, Minutes: d.Minutes, At: parseTime(d.At), Answer: d.Answer}
	}
	return a
}

// recordItem is a service record as stored.
type recordItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	ActivityID string `dynamodbav:"activityId"`
	Sub        string `dynamodbav:"sub"`
	Revision   int64  `dynamodbav:"revision"`
	Kind       string `dynamodbav:"kind"`
	Minutes    int64  `dynamodbav:"minutes"`
	Delta      int64  `dynamodbav:"delta"`
	PrevAt     string `dynamodbav:"prevAt,omitempty"`
	By         string `dynamodbav:"by"`
	At         string `dynamodbav:"at"`
	TeamID     string `dynamodbav:"teamId"`
	AType      string `dynamodbav:"atype"`
	Title      string `dynamodbav:"title"`
	Start      string `dynamodbav:"start"`
	End        string `dynamodbav:"end"`
	GSI1PK     string `dynamodbav:"gsi1pk"`
	GSI1SK     string `dynamodbav:"gsi1sk"`
}

func (s *Store) recordItem(r volunteer.Record) recordItem {
	at := timeKey(r.At)
	return recordItem{
		PK: actPK(r.ActivityID), SK: recSK(r.Sub, r.Revision), Type: "service_record", ActivityID: r.ActivityID,
		Sub: r.Sub, Revision: r.Revision, Kind: r.Kind, Minutes: r.Minutes, Delta: r.Delta, PrevAt: optTimeKey(r.PrevAt),
		By: r.By, At: at, TeamID: r.TeamID, AType: r.Type, Title: r.Title, Start: timeKey(r.Start), End: timeKey(r.End),
		GSI1PK: "VOLREC#" + s.dayKey(r.At), GSI1SK: fmt.Sprintf("%s#%s#%s#%04d", at, r.ActivityID, r.Sub, r.Revision),
	}
}

func (it recordItem) record() volunteer.Record {
	r := volunteer.Record{ActivityID: it.ActivityID, Sub: it.Sub, Revision: it.Revision, Kind: it.Kind,
		Minutes: it.Minutes, Delta: it.Delta, By: it.By, At: parseTime(it.At), TeamID: it.TeamID, Type: it.AType,
		Title: it.Title, Start: parseTime(it.Start), End: parseTime(it.End)}
	if it.PrevAt != "" {
		r.PrevAt = parseTime(it.PrevAt)
	}
	return r
}

// Attendance returns sub's attendance of an activity (volunteer.ErrNotFound when there is none).
func (s *Store) Attendance(ctx context.Context, activityID, sub string) (volunteer.Attendance, error) {
	var it attendanceItem
	ok, err := s.getItem(ctx, "get attendance", actPK(activityID), attSK(sub), &it)
	if err != nil {
		return volunteer.Attendance{}, err
	}
	if !ok {
		return volunteer.Attendance{}, volunteer.ErrNotFound
	}
	return it.attendance(), nil
}

// Attendances returns an activity's attendance (one strongly consistent Query of its partition's ATT#
// items, at most the activity's capacity of them).
func (s *Store) Attendances(ctx context.Context, activityID string) ([]volunteer.Attendance, error) {
	var items []attendanceItem
	if err := s.queryAll(ctx, "list attendance", &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(actPK(activityID)), ":s": str("ATT#")},
		ConsistentRead:            aws.Bool(true),
	}, &items); err != nil {
		return nil, err
	}
	out := make([]volunteer.Attendance, len(items))
	for i, it := range items {
		out[i] = it.attendance()
	}
	return out, nil
}

// changed is ErrAttendanceChanged for a failed condition of a single-item write, else translate.
func changed(op string, err error) error {
	if _, ok := conditionFailed(err); ok {
		return fmt.Errorf("%s: %w: %w", op, volunteer.ErrAttendanceChanged, err)
	}
	return translate(op, err)
}

// CheckIn puts a checked-in attendance IF attribute_not_exists(pk) (a put sent twice finds its own item:
// ErrAttendanceChanged, and the service reads it).
func (s *Store) CheckIn(ctx context.Context, a volunteer.Attendance, act volunteer.Activity) error {
	it := attendanceItem{
		PK: actPK(a.ActivityID), SK: attSK(a.Sub), Type: "attendance", ActivityID: a.ActivityID, Sub: a.Sub,
		TeamID: act.TeamID, AType: act.Type, Title: act.Title, Start: timeKey(act.Start), End: timeKey(act.End),
		AStatus: a.Status, Method: a.Method, CheckInAt: timeKey(a.CheckInAt), UsedSteps: a.UsedSteps,
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("check in: encode: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if err != nil {
		return changed("check in", err)
	}
	return nil
}

// CheckOut records the check-out of a checked-in attendance that has not used step: one UpdateItem, which
// adds step to usedSteps.
func (s *Store) CheckOut(ctx context.Context, a volunteer.Attendance, step int64) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(actPK(a.ActivityID), attSK(a.Sub)),
		UpdateExpression:    aws.String("SET astatus = :pending, checkOutAt = :out, minutes = :m ADD usedSteps :steps"),
		ConditionExpression: aws.String("astatus = :in AND NOT contains(usedSteps, :step)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": str(volunteer.Pending), ":in": str(volunteer.CheckedIn), ":out": str(timeKey(a.CheckOutAt)),
			":m": num(a.Minutes), ":steps": &types.AttributeValueMemberNS{Value: []string{strconv.FormatInt(step, 10)}},
			":step": num(step),
		},
	})
	if err != nil {
		return changed("check out", err)
	}
	return nil
}

// Mark writes an organiser's attendance (pending) over none, a check-in or a pending one: one UpdateItem
// that sets every attribute it decides (so it may be applied twice), keeping the used code steps.
func (s *Store) Mark(ctx context.Context, a volunteer.Attendance, act volunteer.Activity) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(actPK(a.ActivityID), attSK(a.Sub)),
		UpdateExpression: aws.String("SET #type = :type, activityId = :act, #sub = :sub, teamId = :team, atype = :atype, " +
			"title = :title, #start = :start, #end = :end, astatus = :pending, #method = :method, checkInAt = :in, " +
			"checkOutAt = :out, minutes = :m, confirmedMinutes = if_not_exists(confirmedMinutes, :zero), " +
			"revision = if_not_exists(revision, :zero)"),
		ConditionExpression: aws.String("attribute_not_exists(pk) OR astatus IN (:checkedIn, :pending)"),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#sub": "sub", "#start": "start", "#end": "end",
			"#method": "method"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":type": str("attendance"), ":act": str(a.ActivityID), ":sub": str(a.Sub), ":team": str(act.TeamID),
			":atype": str(act.Type), ":title": str(act.Title), ":start": str(timeKey(act.Start)), ":end": str(timeKey(act.End)),
			":pending": str(volunteer.Pending), ":checkedIn": str(volunteer.CheckedIn), ":method": str(a.Method),
			":in": str(timeKey(a.CheckInAt)), ":out": str(timeKey(a.CheckOutAt)), ":m": num(a.Minutes), ":zero": num(0),
		},
	})
	if err != nil {
		return changed("mark attendance", err)
	}
	return nil
}

// ChangeAttendance applies a confirmation, dispute, answer or revocation: an UpdateItem of the attendance IF its status
// is one of c.From AND revision = c.Seen (AND attribute_not_exists(dispute) for a fresh dispute) — in one
// TransactWriteItems with the Put of c.Record IF attribute_not_exists(pk) when there is a record.
func (s *Store) ChangeAttendance(ctx context.Context, c volunteer.Change) error {
	a := c.Attendance
	set := []string{"astatus = :status", "confirmedMinutes = :cm", "revision = :rev"}
	vals := map[string]types.AttributeValue{
		":status": str(a.Status), ":cm": num(a.Confirmed), ":rev": num(a.Revision), ":seen": num(c.Seen),
	}
	if a.ConfirmedBy != "" {
		set = append(set, "confirmedBy = :by", "confirmedAt = :at")
		vals[":by"], vals[":at"] = str(a.ConfirmedBy), str(timeKey(a.ConfirmedAt))
	}
	if d := a.Dispute; d != nil {
		dv, err := attributevalue.Marshal(disputeAttr{Reason: d.Reason, Minutes: d.Minutes, At: timeKey(d.At), Answer: d.Answer})
		if err != nil {
			return fmt.Errorf("apply: encode dispute: %w", err)
		}
		set = append(set, "dispute = :dispute")
		vals[":dispute"] = dv
	}
	if !a.RevokedAt.IsZero() {
		set = append(set, "revokedAt = :revokedAt", "revokeReason = :reason")
		vals[":revokedAt"], vals[":reason"] = str(timeKey(a.RevokedAt)), str(a.RevokeReason)
	}
	from := make([]string, len(c.From))
	for i, st := range c.From {
		from[i] = fmt.Sprintf(":from%d", i)
		vals[from[i]] = str(st)
	}
	cond := "astatus IN (" + strings.Join(from, ", ") + ") AND revision = :seen"
	if c.FreshDispute {
		cond += " AND attribute_not_exists(dispute)"
	}
	key := keyOf(actPK(a.ActivityID), attSK(a.Sub))
	expr := aws.String("SET " + strings.Join(set, ", "))
	if c.Record == nil {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key, UpdateExpression: expr,
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals})
		if err != nil {
			return changed("apply attendance change", err)
		}
		return nil
	}
	rec, err := attributevalue.MarshalMap(s.recordItem(*c.Record))
	if err != nil {
		return fmt.Errorf("apply: encode record: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: key, UpdateExpression: expr, ConditionExpression: aws.String(cond),
			ExpressionAttributeValues: vals}},
		{Put: &types.Put{TableName: &s.table, Item: rec, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if f := failed(err); len(f) > 0 {
		return fmt.Errorf("apply attendance change: %w: %w", volunteer.ErrAttendanceChanged, err)
	}
	if err != nil {
		return translate("apply attendance change", err)
	}
	return nil
}

// RecordsOn calls each with the service records made on a local day, oldest first: a Query of gsi1
// VOLREC#<day>, a page at a time.
func (s *Store) RecordsOn(ctx context.Context, day string, each func(volunteer.Record) error) error {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("VOLREC#" + day)},
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return translate("records of "+day, err)
		}
		var items []recordItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return fmt.Errorf("records of %s: decode: %w", day, err)
		}
		for _, it := range items {
			if err := each(it.record()); err != nil {
				return err
			}
		}
		if page.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
