package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/builders"
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
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(jobPK(jobID), jobSK),
			UpdateExpression:          aws.String("SET jstatus = :filled REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk"),
			ConditionExpression:       aws.String("jstatus = :open AND hired >= headcount"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":filled": str(builders.JobFilled), ":open": str(builders.JobOpen)}}},
		s.openJobsDown(job.EmployerSub),
	}})
	if f := failed(err); f != nil && f[0] {
		return nil // repaired already, or a place was freed meanwhile
	}
	if err != nil {
		return translate("fill job "+jobID, err)
	}
	return nil
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
