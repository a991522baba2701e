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

	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Applications, invitations and hires of builders' home (README "Builders' home"):
//
//	application  pk=JOB#<id>     sk=APP#<sub>   gsi2 WORKERAPPS#<sub>/<createdAt>#<jobId>
//	hire         pk=JOB#<id>     sk=HIRE#<sub>  gsi4 WORKERHIRES#<sub>/<hiredAt>#<jobId>
//	pending      pk=WORKER#<sub> sk=PENDING     n: the worker's pending applications and invitations
//
// The worker's lists Query the index for keys, then read the items with BatchGetItem. The pending counter
// is its own item (not an attribute of the worker profile, which its owner rewrites whole).

func appSK(sub string) string  { return "APP#" + sub }
func hireSK(sub string) string { return "HIRE#" + sub }

const pendingSK = "PENDING"

// appItem is an application or invitation as stored.
type appItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	JobID       string `dynamodbav:"jobId"`
	Sub         string `dynamodbav:"sub"`
	Kind        string `dynamodbav:"kind"`
	AStatus     string `dynamodbav:"astatus"`
	Message     string `dynamodbav:"message,omitempty"`
	CreatedAt   string `dynamodbav:"createdAt"`
	AnsweredAt  string `dynamodbav:"answeredAt,omitempty"`
	AnsweredBy  string `dynamodbav:"answeredBy,omitempty"`
	JobTitle    string `dynamodbav:"jobTitle"`
	EmployerSub string `dynamodbav:"employerSub"`
	GSI2PK      string `dynamodbav:"gsi2pk"`
	GSI2SK      string `dynamodbav:"gsi2sk"`
}

func (it appItem) application() builders.Application {
	return builders.Application{JobID: it.JobID, Sub: it.Sub, Kind: it.Kind, Status: it.AStatus, Message: it.Message,
		CreatedAt: parseTime(it.CreatedAt), AnsweredAt: parseTime(it.AnsweredAt), JobTitle: it.JobTitle, EmployerSub: it.EmployerSub}
}

// hireItem is a hire as stored; ver moves with every change (confirmations and cancellation condition on it).
type hireItem struct {
	PK                  string `dynamodbav:"pk"`
	SK                  string `dynamodbav:"sk"`
	Type                string `dynamodbav:"type"`
	JobID               string `dynamodbav:"jobId"`
	Sub                 string `dynamodbav:"sub"`
	EmployerSub         string `dynamodbav:"employerSub"`
	JobTitle            string `dynamodbav:"jobTitle"`
	Via                 string `dynamodbav:"via"`
	HStatus             string `dynamodbav:"hstatus"`
	HiredAt             string `dynamodbav:"hiredAt"`
	EmployerConfirmedAt string `dynamodbav:"employerConfirmedAt,omitempty"`
	WorkerConfirmedAt   string `dynamodbav:"workerConfirmedAt,omitempty"`
	CompletedAt         string `dynamodbav:"completedAt,omitempty"`
	CancelledAt         string `dynamodbav:"cancelledAt,omitempty"`
	CancelledBy         string `dynamodbav:"cancelledBy,omitempty"`
	Reason              string `dynamodbav:"reason,omitempty"`
	Ver                 int64  `dynamodbav:"ver"`
	GSI4PK              string `dynamodbav:"gsi4pk"`
	GSI4SK              string `dynamodbav:"gsi4sk"`
}

func (it hireItem) hire() builders.Hire {
	return builders.Hire{JobID: it.JobID, Sub: it.Sub, EmployerSub: it.EmployerSub, JobTitle: it.JobTitle, Via: it.Via,
		Status: it.HStatus, HiredAt: parseTime(it.HiredAt), EmployerConfirmedAt: parseTime(it.EmployerConfirmedAt),
		WorkerConfirmedAt: parseTime(it.WorkerConfirmedAt), CompletedAt: parseTime(it.CompletedAt), Version: it.Ver}
}

// Application returns the application or invitation of (job, sub) (builders.ErrApplicationNotFound).
func (s *Store) Application(ctx context.Context, jobID, sub string) (builders.Application, error) {
	var it appItem
	ok, err := s.getItem(ctx, "get application", jobPK(jobID), appSK(sub), &it)
	if err != nil {
		return builders.Application{}, err
	}
	if !ok || it.Type != "application" {
		return builders.Application{}, builders.ErrApplicationNotFound
	}
	return it.application(), nil
}

// HireOf returns the hire of (job, sub) (builders.ErrHireNotFound).
func (s *Store) HireOf(ctx context.Context, jobID, sub string) (builders.Hire, error) {
	var it hireItem
	ok, err := s.getItem(ctx, "get hire", jobPK(jobID), hireSK(sub), &it)
	if err != nil {
		return builders.Hire{}, err
	}
	if !ok || it.Type != "hire" {
		return builders.Hire{}, builders.ErrHireNotFound
	}
	return it.hire(), nil
}

// pendingUpdate moves the worker's pending count by delta (an increase only under MaxPending).
func (s *Store) pendingUpdate(sub string, delta int64) types.TransactWriteItem {
	u := &types.Update{TableName: &s.table, Key: keyOf(workerPK(sub), pendingSK),
		UpdateExpression:          aws.String("SET #type = :t ADD n :d"),
		ExpressionAttributeNames:  map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str("worker_pending"), ":d": num(delta)}}
	if delta > 0 {
		u.ConditionExpression = aws.String("attribute_not_exists(n) OR n < :max")
		u.ExpressionAttributeValues[":max"] = num(builders.MaxPending)
	}
	return types.TransactWriteItem{Update: u}
}

// Ask writes a new application or invitation in one transaction: the job's apps + 1 IF it is open, not
// past its end date, not full and under MaxApplications; the item IF there is none for the pair; the
// worker's pending + 1 IF under MaxPending; the KPI record (application or invitation, <jobId>#<sub>). One
// that exists is answered as it is (created false), so a re-sent request writes nothing.
func (s *Store) Ask(ctx context.Context, a builders.Application, today string) (builders.Application, bool, error) {
	created := timeKey(a.CreatedAt)
	item, err := attributevalue.MarshalMap(appItem{PK: jobPK(a.JobID), SK: appSK(a.Sub), Type: "application", JobID: a.JobID,
		Sub: a.Sub, Kind: a.Kind, AStatus: builders.AppPending, Message: a.Message, CreatedAt: created, JobTitle: a.JobTitle,
		EmployerSub: a.EmployerSub, GSI2PK: "WORKERAPPS#" + a.Sub, GSI2SK: created + "#" + a.JobID})
	if err != nil {
		return builders.Application{}, false, fmt.Errorf("ask: encode: %w", err)
	}
	kind := builders.RecApplication
	if a.Kind == builders.KindInvitation {
		kind = builders.RecInvitation
	}
	var att attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(a.JobID), jobSK),
			UpdateExpression:    aws.String("SET apps = if_not_exists(apps, :zero) + :one"),
			ConditionExpression: aws.String("jstatus = :open AND endDate >= :today AND hired < headcount AND (attribute_not_exists(apps) OR apps < :max)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":one": num(1), ":open": str(builders.JobOpen),
				":today": str(today), ":max": num(builders.MaxApplications)}}},
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		s.pendingUpdate(a.Sub, 1),
		s.builderRecordPut(builders.Record{ID: a.JobID + "#" + a.Sub, Kind: kind, N: 1, Sub: a.Sub, Ref: a.JobID, At: a.CreatedAt}),
	}}, att.option)
	f := failed(err)
	switch {
	case err == nil:
		return a, true, nil
	case f[1] || f[3]:
		got, err := s.Application(ctx, a.JobID, a.Sub)
		return got, false, err
	case f[0]:
		j, err := s.Job(ctx, a.JobID)
		switch {
		case err != nil:
			return builders.Application{}, false, err
		case j.Status == builders.JobFilled || (j.Status == builders.JobOpen && j.Hired >= j.Headcount):
			return builders.Application{}, false, builders.ErrJobFilled
		case j.Status == builders.JobOpen && j.EndDate >= today:
			return builders.Application{}, false, builders.ErrTooManyApplications
		}
		return builders.Application{}, false, builders.ErrJobClosed
	case f[2]:
		return builders.Application{}, false, builders.ErrTooManyPending
	}
	return builders.Application{}, false, att.settle("ask", err)
}

// Settle answers a pending application or invitation without a hire (declined, withdrawn): one transaction
// of the item IF pending and the worker's pending − 1. builders.ErrAlreadyAnswered when it is not pending.
func (s *Store) Settle(ctx context.Context, jobID, sub, status, by string, at time.Time) error {
	var att attempts
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(jobID), appSK(sub)),
			UpdateExpression:    aws.String("SET astatus = :s, answeredAt = :at, answeredBy = :by"),
			ConditionExpression: aws.String("astatus = :pending"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(status), ":at": str(timeKey(at)), ":by": str(by),
				":pending": str(builders.AppPending)}}},
		s.pendingUpdate(sub, -1),
	}}, att.option)
	if f := failed(err); f[0] {
		return builders.ErrAlreadyAnswered
	}
	if err != nil {
		return att.settle("answer application", err)
	}
	return nil
}

// Hire answers a pending application or invitation with a hire, in one transaction (the contract's): the
// job's hired + 1 IF open AND hired < headcount AND endDate >= today; the application accepted IF pending;
// the hire IF there is none; the KPI record hire (<jobId>#<sub>); the worker's pending − 1. No more hires
// than places whatever the concurrency: each takes the job's condition in turn. A failed job condition
// reads the job: full → builders.ErrJobFilled, otherwise builders.ErrJobClosed.
func (s *Store) Hire(ctx context.Context, a builders.Application, by string, at time.Time, today string) (builders.Hire, error) {
	hiredAt := timeKey(at)
	h := hireItem{PK: jobPK(a.JobID), SK: hireSK(a.Sub), Type: "hire", JobID: a.JobID, Sub: a.Sub, EmployerSub: a.EmployerSub,
		JobTitle: a.JobTitle, Via: a.Kind, HStatus: builders.HireHired, HiredAt: hiredAt, Ver: 1,
		GSI4PK: "WORKERHIRES#" + a.Sub, GSI4SK: hiredAt + "#" + a.JobID}
	item, err := attributevalue.MarshalMap(h)
	if err != nil {
		return builders.Hire{}, fmt.Errorf("hire: encode: %w", err)
	}
	var att attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(a.JobID), jobSK),
			UpdateExpression:    aws.String("SET hired = hired + :one"),
			ConditionExpression: aws.String("jstatus = :open AND hired < headcount AND endDate >= :today"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":open": str(builders.JobOpen),
				":today": str(today)}}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(a.JobID), appSK(a.Sub)),
			UpdateExpression:    aws.String("SET astatus = :accepted, answeredAt = :at, answeredBy = :by"),
			ConditionExpression: aws.String("astatus = :pending"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":accepted": str(builders.AppAccepted), ":at": str(hiredAt),
				":by": str(by), ":pending": str(builders.AppPending)}}},
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		s.builderRecordPut(builders.Record{ID: a.JobID + "#" + a.Sub, Kind: builders.RecHire, N: 1, Sub: a.Sub, Ref: a.JobID, At: at}),
		s.pendingUpdate(a.Sub, -1),
	}}, att.option)
	f := failed(err)
	switch {
	case err == nil:
		return h.hire(), nil
	case f[1] || f[2] || f[3]:
		return builders.Hire{}, builders.ErrAlreadyAnswered
	case f[0]:
		j, err := s.Job(ctx, a.JobID)
		switch {
		case err != nil:
			return builders.Hire{}, err
		case j.Status == builders.JobFilled || (j.Status == builders.JobOpen && j.Hired >= j.Headcount):
			return builders.Hire{}, builders.ErrJobFilled
		}
		return builders.Hire{}, builders.ErrJobClosed
	}
	return builders.Hire{}, att.settle("hire", err)
}

// Confirm records side's confirmation on h IF its version is still h's and it is hired; when the other
// side has confirmed, the same write completes it and puts the KPI record hire_completed (<jobId>#<sub>)
// in one transaction. builders.ErrStale when h changed meanwhile.
func (s *Store) Confirm(ctx context.Context, h builders.Hire, side string, at time.Time) (builders.Hire, error) {
	mine, other := "employerConfirmedAt", h.WorkerConfirmedAt
	if side == builders.SideWorker {
		mine, other = "workerConfirmedAt", h.EmployerConfirmedAt
	}
	upd := &types.Update{TableName: &s.table, Key: keyOf(jobPK(h.JobID), hireSK(h.Sub)),
		UpdateExpression:    aws.String("SET " + mine + " = :at, ver = ver + :one"),
		ConditionExpression: aws.String("ver = :v AND hstatus = :hired"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(timeKey(at)), ":one": num(1), ":v": num(h.Version),
			":hired": str(builders.HireHired)}}
	items := []types.TransactWriteItem{{Update: upd}}
	if !other.IsZero() {
		upd.UpdateExpression = aws.String("SET " + mine + " = :at, completedAt = :at, hstatus = :completed, ver = ver + :one")
		upd.ExpressionAttributeValues[":completed"] = str(builders.HireCompleted)
		items = append(items, s.builderRecordPut(builders.Record{ID: h.JobID + "#" + h.Sub, Kind: builders.RecHireCompleted, N: 1,
			Sub: h.Sub, Ref: h.JobID, At: at}))
	}
	var att attempts
	var err error
	if len(items) == 1 { // the first confirmation: one conditional update (a transaction would cost twice)
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: upd.TableName, Key: upd.Key,
			UpdateExpression: upd.UpdateExpression, ConditionExpression: upd.ConditionExpression,
			ExpressionAttributeValues: upd.ExpressionAttributeValues}, att.option)
		if _, ok := conditionFailed(err); ok {
			return builders.Hire{}, builders.ErrStale
		}
	} else {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, att.option)
		if f := failed(err); len(f) > 0 {
			return builders.Hire{}, builders.ErrStale
		}
	}
	if err != nil {
		return builders.Hire{}, att.settle("confirm hire", err)
	}
	if side == builders.SideWorker {
		h.WorkerConfirmedAt = at
	} else {
		h.EmployerConfirmedAt = at
	}
	if !other.IsZero() {
		h.Status, h.CompletedAt = builders.HireCompleted, at
	}
	h.Version++
	return h, nil
}

// CancelHire cancels h IF its version is still h's and it is hired, freeing its place in one transaction
// with the KPI record hire_cancelled (<jobId>#<sub>): the job's hired − 1. A filled job whose end date is
// not past is then reopened (jstatus open IF filled AND hired < headcount, listed again unless its
// employer is suspended, the employer's openJobs + 1). builders.ErrStale when h changed meanwhile.
func (s *Store) CancelHire(ctx context.Context, h builders.Hire, by, reason string, at time.Time, today string) (builders.Hire, error) {
	var att attempts
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(h.JobID), hireSK(h.Sub)),
			UpdateExpression:    aws.String("SET hstatus = :cancelled, cancelledAt = :at, cancelledBy = :by, reason = :reason, ver = ver + :one"),
			ConditionExpression: aws.String("ver = :v AND hstatus = :hired"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":cancelled": str(builders.HireCancelled), ":at": str(timeKey(at)),
				":by": str(by), ":reason": str(reason), ":one": num(1), ":v": num(h.Version), ":hired": str(builders.HireHired)}}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(h.JobID), jobSK),
			UpdateExpression: aws.String("SET hired = hired - :one"), ConditionExpression: aws.String("hired >= :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
		s.builderRecordPut(builders.Record{ID: h.JobID + "#" + h.Sub, Kind: builders.RecHireCancelled, N: 1, Sub: h.Sub, Ref: h.JobID, At: at}),
	}}, att.option)
	if f := failed(err); f[0] || f[2] {
		return builders.Hire{}, builders.ErrStale
	}
	if err != nil {
		return builders.Hire{}, att.settle("cancel hire", err)
	}
	h.Status, h.Version = builders.HireCancelled, h.Version+1
	return h, s.ReopenJob(ctx, h.JobID, today)
}

// ReopenJob puts a filled job with a free place back to open (idempotent: a job that is not filled, is full
// or is past its end date is left as it is, with one GetItem).
func (s *Store) ReopenJob(ctx context.Context, jobID, today string) error {
	j, err := s.Job(ctx, jobID)
	if err != nil || j.Status != builders.JobFilled || j.Hired >= j.Headcount || j.EndDate < today {
		return err
	}
	e, err := s.Employer(ctx, j.EmployerSub)
	if err != nil {
		return err
	}
	upd := &types.Update{TableName: &s.table, Key: keyOf(jobPK(jobID), jobSK), UpdateExpression: aws.String("SET jstatus = :open"),
		ConditionExpression:       aws.String("jstatus = :filled AND hired < headcount"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":open": str(builders.JobOpen), ":filled": str(builders.JobFilled)}}
	if e.Status != builders.EmployerSuspended { // a suspended employer's open jobs stay out of the listings
		for k, v := range jobListingKeys(j.Trade, j.Place.Lat, j.Place.Lng, timeKey(j.CreatedAt), j.ID) {
			upd.ExpressionAttributeValues[k] = v
		}
		upd.UpdateExpression = aws.String("SET jstatus = :open, gsi1pk = :g1pk, gsi1sk = :g1sk, gsi2pk = :g2pk, gsi2sk = :g2sk")
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: upd},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(employerPK(j.EmployerSub), "PROFILE"),
			UpdateExpression: aws.String("SET openJobs = openJobs + :one"), ConditionExpression: aws.String("attribute_exists(openJobs)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
	}})
	if f := failed(err); len(f) > 0 {
		return nil // reopened meanwhile, or full again
	}
	if err != nil {
		return translate("reopen job "+jobID, err)
	}
	return nil
}

// hireCursor is a page's opaque continuation: the last evaluated key of a Query.
type hireCursor struct {
	PK  string `json:"p"`
	SK  string `json:"s"`
	GPK string `json:"g,omitempty"`
	GSK string `json:"h,omitempty"`
}

func encodeHireCursor(lek map[string]types.AttributeValue, index string) string {
	if lek == nil {
		return ""
	}
	c := hireCursor{PK: stringAttr(lek, "pk"), SK: stringAttr(lek, "sk")}
	if index != "" {
		c.GPK, c.GSK = stringAttr(lek, index+"pk"), stringAttr(lek, index+"sk")
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeHireCursor checks a cursor is of this list (its partition and sort key prefix; for an index, its
// partition) and within DynamoDB's key limits: a cursor is client input.
func decodeHireCursor(cursor, pk, skPrefix, index, gpk string) (map[string]types.AttributeValue, error) {
	var c hireCursor
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	bad := err != nil || json.Unmarshal(b, &c) != nil || len(c.SK) <= len(skPrefix) || !strings.HasPrefix(c.SK, skPrefix) ||
		len(c.SK) > 1024 || len(c.PK) > 2048 || !strings.HasPrefix(c.PK, "JOB#") || len(c.PK) <= len("JOB#")
	if index == "" {
		bad = bad || c.PK != pk
	} else {
		bad = bad || c.GPK != gpk || c.GSK == "" || len(c.GSK) > 1024
	}
	if bad {
		return nil, report.ErrInvalidCursor
	}
	k := keyOf(c.PK, c.SK)
	if index != "" {
		k[index+"pk"], k[index+"sk"] = str(c.GPK), str(c.GSK)
	}
	return k, nil
}

// queryJobItems is a page of a job's items whose sort keys start with prefix.
func (s *Store) queryJobItems(ctx context.Context, op, jobID, prefix string, limit int, cursor string, out any) (string, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(jobPK(jobID)), ":p": str(prefix)},
		Limit:                     aws.Int32(int32(limit))}
	if cursor != "" {
		k, err := decodeHireCursor(cursor, jobPK(jobID), prefix, "", "")
		if err != nil {
			return "", err
		}
		in.ExclusiveStartKey = k
	}
	page, err := s.db.Query(ctx, in)
	if err != nil {
		return "", translate(op, err)
	}
	if err := attributevalue.UnmarshalListOfMaps(page.Items, out); err != nil {
		return "", fmt.Errorf("%s: decode: %w", op, err)
	}
	return encodeHireCursor(page.LastEvaluatedKey, ""), nil
}

// queryWorkerKeys is a page of an index partition's table keys, newest first.
func (s *Store) queryWorkerKeys(ctx context.Context, op, index, gpk, skPrefix string, limit int, cursor string) ([]map[string]types.AttributeValue, string, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(index),
		KeyConditionExpression:    aws.String(index + "pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gpk)},
		ProjectionExpression:      aws.String("pk, sk, " + index + "pk, " + index + "sk"),
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		k, err := decodeHireCursor(cursor, "", skPrefix, index, gpk)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = k
	}
	page, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate(op, err)
	}
	keys := make([]map[string]types.AttributeValue, 0, len(page.Items))
	for _, it := range page.Items {
		if strings.HasPrefix(stringAttr(it, "sk"), skPrefix) {
			keys = append(keys, keyOf(stringAttr(it, "pk"), stringAttr(it, "sk")))
		}
	}
	return keys, encodeHireCursor(page.LastEvaluatedKey, index), nil
}

// Applications is a page of a job's applications and invitations (by worker).
func (s *Store) Applications(ctx context.Context, jobID string, limit int, cursor string) ([]builders.Application, string, error) {
	var items []appItem
	next, err := s.queryJobItems(ctx, "list applications", jobID, "APP#", limit, cursor, &items)
	if err != nil {
		return nil, "", err
	}
	out := make([]builders.Application, len(items))
	for i, it := range items {
		out[i] = it.application()
	}
	return out, next, nil
}

// MyApplications is a page of a worker's applications and invitations, newest first: one Query of gsi2
// WORKERAPPS#<sub> (keys) and one BatchGetItem.
func (s *Store) MyApplications(ctx context.Context, sub string, limit int, cursor string) ([]builders.Application, string, error) {
	keys, next, err := s.queryWorkerKeys(ctx, "list my applications", "gsi2", "WORKERAPPS#"+sub, "APP#", limit, cursor)
	if err != nil || len(keys) == 0 {
		return []builders.Application{}, next, err
	}
	var items []appItem
	if err := s.batchGetAll(ctx, "read my applications", keys, &items); err != nil {
		return nil, "", err
	}
	byKey := map[string]appItem{}
	for _, it := range items {
		byKey[it.PK] = it
	}
	out := make([]builders.Application, 0, len(keys))
	for _, k := range keys {
		if it, ok := byKey[stringAttr(k, "pk")]; ok {
			out = append(out, it.application())
		}
	}
	return out, next, nil
}

// Workers reads worker profiles by sub with one BatchGetItem per 100 (absent ones are missing).
func (s *Store) Workers(ctx context.Context, subs []string) (map[string]builders.Worker, error) {
	out := map[string]builders.Worker{}
	if len(subs) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, len(subs))
	for i, sub := range subs {
		keys[i] = keyOf(workerPK(sub), "PROFILE")
	}
	var items []workerItem
	if err := s.batchGetAll(ctx, "read workers", keys, &items); err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Type == "worker" {
			out[it.Sub] = it.worker()
		}
	}
	return out, nil
}

// JobHires is a page of a job's hires with the workers' profiles: one Query and one BatchGetItem.
func (s *Store) JobHires(ctx context.Context, jobID string, limit int, cursor string) ([]builders.Hire, map[string]builders.Worker, string, error) {
	var items []hireItem
	next, err := s.queryJobItems(ctx, "list hires", jobID, "HIRE#", limit, cursor, &items)
	if err != nil {
		return nil, nil, "", err
	}
	hs := make([]builders.Hire, len(items))
	subs := make([]string, len(items))
	for i, it := range items {
		hs[i], subs[i] = it.hire(), it.Sub
	}
	ws, err := s.Workers(ctx, subs)
	if err != nil {
		return nil, nil, "", err
	}
	return hs, ws, next, nil
}

// MyHires is a page of a worker's hires, newest first, each with its employer's contact: one Query of
// gsi4 WORKERHIRES#<sub> (keys), a BatchGetItem of the hires and one of their employers.
func (s *Store) MyHires(ctx context.Context, sub string, limit int, cursor string) ([]builders.Hire, string, error) {
	keys, next, err := s.queryWorkerKeys(ctx, "list my hires", "gsi4", "WORKERHIRES#"+sub, "HIRE#", limit, cursor)
	if err != nil || len(keys) == 0 {
		return []builders.Hire{}, next, err
	}
	var items []hireItem
	if err := s.batchGetAll(ctx, "read my hires", keys, &items); err != nil {
		return nil, "", err
	}
	byKey := map[string]hireItem{}
	var ekeys []map[string]types.AttributeValue
	for _, it := range items {
		byKey[it.PK] = it
		ekeys = append(ekeys, keyOf(employerPK(it.EmployerSub), "PROFILE"))
	}
	var emps []employerItem
	if err := s.batchGetAll(ctx, "read my hires' employers", ekeys, &emps); err != nil {
		return nil, "", err
	}
	contacts := map[string]builders.Contact{}
	for _, e := range emps {
		contacts[e.Sub] = builders.Contact{Name: e.Contact.Name, Phone: e.Contact.Phone}
	}
	out := make([]builders.Hire, 0, len(keys))
	for _, k := range keys {
		if it, ok := byKey[stringAttr(k, "pk")]; ok {
			h := it.hire()
			if c, ok := contacts[it.EmployerSub]; ok {
				h.Employer = &c
			}
			out = append(out, h)
		}
	}
	return out, next, nil
}

var _ builders.HireStore = (*Store)(nil)
