package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// Jobs of builders' home (README "Builders' home"):
//
//	job  pk=JOB#<id>  sk=JOB  while listed: gsi1 JOBS#<trade>#<geohash4>/<createdAt>#<id>,
//	                                         gsi2 JOBSALL#<geohash4>/<createdAt>#<id>;
//	                          always:        gsi3 EMPJOBS#<employerSub>/<createdAt>#<id>
//
// A job is listed while it is open, not full and its employer is not suspended; closing, filling and
// expiry REMOVE the gsi1/gsi2 keys.

// jobCellPrecision is the geohash length of a listing's cell (about 39 × 20 km).
const jobCellPrecision = 4

func jobPK(id string) string { return "JOB#" + id }

const jobSK = "JOB"

// jobCell is the geohash4 cell of a point.
func jobCell(lat, lng float64) string { return geohash.EncodeWithPrecision(lat, lng, jobCellPrecision) }

// jobPlaceAttr is a job's place as stored.
type jobPlaceAttr struct {
	Lat     float64 `dynamodbav:"lat"`
	Lng     float64 `dynamodbav:"lng"`
	Address string  `dynamodbav:"address,omitempty"`
}

// jobItem is a job as stored. lat and lng repeat the place's so gsi2 (which projects them) can filter by
// distance before the jobs are read.
type jobItem struct {
	PK           string       `dynamodbav:"pk"`
	SK           string       `dynamodbav:"sk"`
	Type         string       `dynamodbav:"type"`
	ID           string       `dynamodbav:"id"`
	EmployerSub  string       `dynamodbav:"employerSub"`
	EmployerName string       `dynamodbav:"employerName"`
	Title        string       `dynamodbav:"title"`
	Trade        string       `dynamodbav:"trade"`
	Place        jobPlaceAttr `dynamodbav:"place"`
	Lat          float64      `dynamodbav:"lat"`
	Lng          float64      `dynamodbav:"lng"`
	Wage         wageAttr     `dynamodbav:"wage"`
	DailyMin     float64      `dynamodbav:"dailyMin"`
	DailyMax     float64      `dynamodbav:"dailyMax"`
	Headcount    int          `dynamodbav:"headcount"`
	Hired        int          `dynamodbav:"hired"`
	StartDate    string       `dynamodbav:"startDate"`
	EndDate      string       `dynamodbav:"endDate"`
	Requirements string       `dynamodbav:"requirements,omitempty"`
	JStatus      string       `dynamodbav:"jstatus"`
	CreatedAt    string       `dynamodbav:"createdAt"`
	ClosedAt     string       `dynamodbav:"closedAt,omitempty"`
	Apps         int          `dynamodbav:"apps"`
	BodyHash     string       `dynamodbav:"bodyHash,omitempty"`
	GSI1PK       string       `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK       string       `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK       string       `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK       string       `dynamodbav:"gsi2sk,omitempty"`
	GSI3PK       string       `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK       string       `dynamodbav:"gsi3sk,omitempty"`
}

func (it jobItem) job() builders.Job {
	return builders.Job{
		ID: it.ID, EmployerSub: it.EmployerSub, EmployerName: it.EmployerName, Title: it.Title, Trade: it.Trade,
		Place:     builders.JobPlace{Lat: it.Place.Lat, Lng: it.Place.Lng, Address: it.Place.Address},
		Wage:      it.Wage.wage(),
		Headcount: it.Headcount, Hired: it.Hired, StartDate: it.StartDate, EndDate: it.EndDate,
		Requirements: it.Requirements, Status: it.JStatus, CreatedAt: parseTime(it.CreatedAt), ClosedAt: parseTime(it.ClosedAt),
		Applications: it.Apps,
	}
}

// jobListingKeys are the gsi1/gsi2 keys that list a job.
func jobListingKeys(trade string, lat, lng float64, createdAt, id string) map[string]types.AttributeValue {
	cell := jobCell(lat, lng)
	return map[string]types.AttributeValue{
		":g1pk": str("JOBS#" + trade + "#" + cell), ":g1sk": str(createdAt + "#" + id),
		":g2pk": str("JOBSALL#" + cell), ":g2sk": str(createdAt + "#" + id),
	}
}

// Job reads a job as stored, strongly consistently (builders.ErrJobNotFound).
func (s *Store) Job(ctx context.Context, id string) (builders.Job, error) {
	var it jobItem
	ok, err := s.getItem(ctx, "get job "+id, jobPK(id), jobSK, &it)
	if err != nil {
		return builders.Job{}, err
	}
	if !ok || it.Type != "job" {
		return builders.Job{}, builders.ErrJobNotFound
	}
	return it.job(), nil
}

// FillRepair marks an open job whose places are all taken filled, in one transaction: jstatus filled and
// the listing keys removed IF jstatus = open AND hired >= headcount, and the employer's openJobs - 1. A
// job that is not open and full (already repaired, or a place freed) fails the condition: nothing is
// written and nil is answered, so it is safe to run after every hire and to apply twice.
func (s *Store) FillRepair(ctx context.Context, jobID string) error {
	job, err := s.Job(ctx, jobID)
	if err != nil {
		return err
	}
	if job.Status != builders.JobOpen || job.Hired < job.Headcount {
		return nil
	}
	_, err = s.endJob(ctx, job, "SET jstatus = :filled", "jstatus = :open AND hired >= headcount",
		map[string]types.AttributeValue{":filled": str(builders.JobFilled), ":open": str(builders.JobOpen)})
	return err
}

// openJobsDown is the employer's openJobs - 1 (never below zero).
func (s *Store) openJobsDown(sub string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(employerPK(sub), "PROFILE"),
		UpdateExpression:          aws.String("SET openJobs = openJobs - :one"),
		ConditionExpression:       aws.String("openJobs >= :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}}
}

// SetJobListed takes an open job out of the listings (listed false: its employer was suspended) or puts it
// back (true: reinstated; only while it is open and not full). jstatus does not change. Both are
// idempotent; a job that is not open answers nil with nothing written.
func (s *Store) SetJobListed(ctx context.Context, jobID string, listed bool) error {
	in := &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(jobPK(jobID), jobSK),
		UpdateExpression:          aws.String("REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: nil}
	if listed {
		job, err := s.Job(ctx, jobID)
		if err != nil {
			return err
		}
		if job.Status != builders.JobOpen || job.Hired >= job.Headcount {
			return nil
		}
		v := jobListingKeys(job.Trade, job.Place.Lat, job.Place.Lng, timeKey(job.CreatedAt), job.ID)
		v[":open"] = str(builders.JobOpen)
		in.UpdateExpression = aws.String("SET gsi1pk = :g1pk, gsi1sk = :g1sk, gsi2pk = :g2pk, gsi2sk = :g2sk")
		in.ConditionExpression = aws.String("jstatus = :open AND hired < headcount")
		in.ExpressionAttributeValues = v
	}
	_, err := s.db.UpdateItem(ctx, in)
	if _, ok := conditionFailed(err); ok {
		if !listed {
			return builders.ErrJobNotFound
		}
		return nil // closed or filled meanwhile: it stays unlisted
	}
	if err != nil {
		return translate(fmt.Sprintf("set job %s listed=%t", jobID, listed), err)
	}
	return nil
}

// jobItemOf is j's item as first written: listed, and in its employer's list.
func jobItemOf(j builders.Job, bodyHash string) jobItem {
	lo, hi := builders.Daily(j.Wage)
	created := timeKey(j.CreatedAt)
	cell := jobCell(j.Place.Lat, j.Place.Lng)
	return jobItem{
		PK: jobPK(j.ID), SK: jobSK, Type: "job", ID: j.ID, EmployerSub: j.EmployerSub, EmployerName: j.EmployerName,
		Title: j.Title, Trade: j.Trade, Place: jobPlaceAttr{Lat: j.Place.Lat, Lng: j.Place.Lng, Address: j.Place.Address},
		Lat: j.Place.Lat, Lng: j.Place.Lng, Wage: wageAttrOf(j.Wage), DailyMin: lo, DailyMax: hi,
		Headcount: j.Headcount, StartDate: j.StartDate, EndDate: j.EndDate, Requirements: j.Requirements,
		JStatus: builders.JobOpen, CreatedAt: created, BodyHash: bodyHash,
		GSI1PK: "JOBS#" + j.Trade + "#" + cell, GSI1SK: created + "#" + j.ID,
		GSI2PK: "JOBSALL#" + cell, GSI2SK: created + "#" + j.ID,
		GSI3PK: "EMPJOBS#" + j.EmployerSub, GSI3SK: created + "#" + j.ID,
	}
}

// PostJob writes a new job in one transaction with its employer's openJobs + 1 (IF the employer is
// verified AND has fewer than MaxOpenJobs open) and the job_posted record (N = headcount). A job of that
// id stored before (the post re-sent) answers it, created false, when its body hash is bodyHash, and
// idem.ErrKeyReused otherwise; nothing is written then.
func (s *Store) PostJob(ctx context.Context, j builders.Job, bodyHash string) (builders.Job, bool, error) {
	item, err := attributevalue.MarshalMap(jobItemOf(j, bodyHash))
	if err != nil {
		return builders.Job{}, false, fmt.Errorf("post job: encode: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(employerPK(j.EmployerSub), "PROFILE"),
			UpdateExpression:          aws.String("SET openJobs = if_not_exists(openJobs, :zero) + :one"),
			ConditionExpression:       aws.String("estatus = :verified AND (attribute_not_exists(openJobs) OR openJobs < :max)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0), ":one": num(1), ":max": num(builders.MaxOpenJobs), ":verified": str(builders.EmployerVerified)}}},
		s.builderRecordPut(builders.Record{ID: j.ID, Kind: builders.RecJobPosted, N: j.Headcount, Ref: j.ID, Detail: j.Trade, At: j.CreatedAt}),
	}})
	f := failed(err)
	switch {
	case f[0]:
		var it jobItem
		ok, rerr := s.getItem(ctx, "read posted job "+j.ID, jobPK(j.ID), jobSK, &it)
		switch {
		case rerr != nil:
			return builders.Job{}, false, rerr
		case !ok || it.Type != "job" || it.EmployerSub != j.EmployerSub || it.BodyHash != bodyHash:
			return builders.Job{}, false, idem.ErrKeyReused
		}
		return it.job(), false, nil
	case f[1]:
		e, rerr := s.Employer(ctx, j.EmployerSub)
		switch {
		case errors.Is(rerr, builders.ErrEmployerNotFound):
			return builders.Job{}, false, builders.ErrNotEmployer
		case rerr != nil:
			return builders.Job{}, false, rerr
		case e.Status == builders.EmployerSuspended:
			return builders.Job{}, false, builders.ErrEmployerSuspended
		case e.Status != builders.EmployerVerified:
			return builders.Job{}, false, builders.ErrEmployerUnverified
		}
		return builders.Job{}, false, builders.ErrTooManyOpenJobs
	case len(f) > 0: // the record exists without the job: not this job's post
		return builders.Job{}, false, idem.ErrKeyReused
	case err != nil:
		return builders.Job{}, false, translate("post job", err)
	}
	return j, true, nil
}

// endJob moves an open job to status (closed or expired) and out of the listings, with its employer's
// openJobs - 1, in one transaction conditional on cond (which must hold jstatus = :open). It reports
// whether it wrote. An employer whose count is already 0 (an item older than the count) does not stop it.
func (s *Store) endJob(ctx context.Context, j builders.Job, set string, cond string, vals map[string]types.AttributeValue) (bool, error) {
	upd := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(j.ID), jobSK),
		UpdateExpression: aws.String(set + " REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk"), ConditionExpression: aws.String(cond),
		ExpressionAttributeValues: vals}}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{upd, s.openJobsDown(j.EmployerSub)}})
	f := failed(err)
	switch {
	case f[0]:
		return false, nil
	case f[1]:
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{upd}})
		if f := failed(err); f[0] {
			return false, nil
		}
	}
	if err != nil {
		return false, translate("end job "+j.ID, err)
	}
	return true, nil
}

// CloseJob closes j: an open job (unlisted, its employer's openJobs - 1) or a filled one (its count was
// given back when it filled). A job that is closed or expired already — or changes meanwhile — is
// answered as stored; closing twice writes once.
func (s *Store) CloseJob(ctx context.Context, j builders.Job, at time.Time) (builders.Job, error) {
	vals := map[string]types.AttributeValue{":closed": str(builders.JobClosed), ":at": str(timeKey(at))}
	switch j.Status {
	case builders.JobOpen:
		vals[":open"] = str(builders.JobOpen)
		if _, err := s.endJob(ctx, j, "SET jstatus = :closed, closedAt = :at", "jstatus = :open", vals); err != nil {
			return builders.Job{}, err
		}
	case builders.JobFilled:
		vals[":filled"] = str(builders.JobFilled)
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(jobPK(j.ID), jobSK),
			UpdateExpression: aws.String("SET jstatus = :closed, closedAt = :at"), ConditionExpression: aws.String("jstatus = :filled"),
			ExpressionAttributeValues: vals})
		if _, ok := conditionFailed(err); !ok && err != nil {
			return builders.Job{}, translate("close job "+j.ID, err)
		}
	default:
		return j, nil
	}
	got, err := s.Job(ctx, j.ID)
	if err != nil {
		return builders.Job{}, err
	}
	if got.Status == builders.JobFilled { // it filled between the read and the close: close it as filled
		return s.CloseJob(ctx, got, at)
	}
	return got, nil
}

// ExpireJob marks j expired when it is open and its end date is before today (unlisted, its employer's
// openJobs - 1), once: a job expired, closed or filled meanwhile is left as it is.
func (s *Store) ExpireJob(ctx context.Context, j builders.Job, today string) error {
	if j.Status != builders.JobOpen || j.EndDate >= today {
		return nil
	}
	_, err := s.endJob(ctx, j, "SET jstatus = :expired", "jstatus = :open AND endDate < :today",
		map[string]types.AttributeValue{":expired": str(builders.JobExpired), ":open": str(builders.JobOpen), ":today": str(today)})
	return err
}

// ListedJobs returns the keys and places of the jobs listed in cells, newest first: gsi1 JOBS#<trade>#<cell>
// when trade is given, else gsi2 JOBSALL#<cell> (which projects id, createdAt, lat, lng); one Query of at
// most perCell items per cell, reading only those attributes.
func (s *Store) ListedJobs(ctx context.Context, trade string, cells []string, perCell int) ([]builders.JobKey, error) {
	index, prefix := "gsi2", "JOBSALL#"
	if trade != "" {
		index, prefix = "gsi1", "JOBS#"+trade+"#"
	}
	var out []builders.JobKey
	for _, c := range cells {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(index),
			KeyConditionExpression:    aws.String(index + "pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(prefix + c)},
			ProjectionExpression:      aws.String("id, createdAt, lat, lng"),
			ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(perCell)),
		})
		if err != nil {
			return nil, translate("list jobs", err)
		}
		var keys []struct {
			ID        string  `dynamodbav:"id"`
			CreatedAt string  `dynamodbav:"createdAt"`
			Lat       float64 `dynamodbav:"lat"`
			Lng       float64 `dynamodbav:"lng"`
		}
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &keys); err != nil {
			return nil, fmt.Errorf("list jobs: decode: %w", err)
		}
		for _, k := range keys {
			out = append(out, builders.JobKey{ID: k.ID, CreatedAt: parseTime(k.CreatedAt), Lat: k.Lat, Lng: k.Lng})
		}
	}
	return out, nil
}

// JobsByID reads jobs with strongly consistent BatchGetItem calls (100 keys a call); missing ones are left
// out, the others answered in the order of ids.
func (s *Store) JobsByID(ctx context.Context, ids []string) ([]builders.Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(jobPK(id), jobSK)
	}
	var items []jobItem
	if err := s.batchGetAll(ctx, "read jobs", keys, &items); err != nil {
		return nil, err
	}
	byID := make(map[string]builders.Job, len(items))
	for _, it := range items {
		if it.Type == "job" {
			byID[it.ID] = it.job()
		}
	}
	out := make([]builders.Job, 0, len(byID))
	for _, id := range ids {
		if j, ok := byID[id]; ok {
			out = append(out, j)
			delete(byID, id)
		}
	}
	return out, nil
}

// EmployerJobs returns a page of an employer's jobs, newest first: one Query of gsi3 EMPJOBS#<sub> (keys)
// and one BatchGetItem; the cursor is the Query's last evaluated key.
func (s *Store) EmployerJobs(ctx context.Context, sub string, limit int, cursor string) ([]builders.Job, string, error) {
	gpk := "EMPJOBS#" + sub
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi3"), KeyConditionExpression: aws.String("gsi3pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gpk)},
		ProjectionExpression:      aws.String("pk, sk, gsi3pk, gsi3sk"),
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		c, err := decodeIndexCursor(cursor, gpk, "JOB#", jobSK)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "gsi3pk": str(c.GPK), "gsi3sk": str(c.GSK)}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("list employer jobs", err)
	}
	ids := make([]string, 0, len(res.Items))
	for _, it := range res.Items {
		ids = append(ids, strings.TrimPrefix(stringAttr(it, "pk"), "JOB#"))
	}
	jobs, err := s.JobsByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if lek := res.LastEvaluatedKey; lek != nil {
		b, _ := json.Marshal(queueCursor{PK: stringAttr(lek, "pk"), SK: stringAttr(lek, "sk"), GPK: stringAttr(lek, "gsi3pk"), GSK: stringAttr(lek, "gsi3sk")})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return jobs, next, nil
}

// PutBuilderRecord writes a KPI record on its own (a conditional put of builderRecordPut's item): false,
// with nothing written, when the event was counted before.
func (s *Store) PutBuilderRecord(ctx context.Context, rec builders.Record) (bool, error) {
	p := s.builderRecordPut(rec).Put
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues})
	if _, ok := conditionFailed(err); ok {
		return false, nil
	}
	if err != nil {
		return false, translate("put builders record "+rec.Kind, err)
	}
	return true, nil
}

// MatchEntries returns the match entries of trade in cells: one Query of gsi1 WORKERS#<trade>#<cell> per
// cell, at most perCell items each.
func (s *Store) MatchEntries(ctx context.Context, trade string, cells []string, perCell int) ([]builders.MatchEntry, error) {
	var out []builders.MatchEntry
	for _, c := range cells {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("WORKERS#" + trade + "#" + c)},
			Limit:                     aws.Int32(int32(perCell)),
		})
		if err != nil {
			return nil, translate("list match entries", err)
		}
		var items []matchEntryItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, fmt.Errorf("list match entries: decode: %w", err)
		}
		for _, it := range items {
			out = append(out, it.entry())
		}
	}
	return out, nil
}
