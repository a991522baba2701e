package dynamostore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// serviceRecordImage is what the accrual reads of a service record's stream image (the contract's item,
// pk=ACT#<id> sk=REC#<sub>#<revision>): every attribute but the keys and the index's.
type serviceRecordImage struct {
	Type       string `dynamodbav:"type"`
	ActivityID string `dynamodbav:"activityId"`
	Sub        string `dynamodbav:"sub"`
	Revision   int64  `dynamodbav:"revision"`
	Kind       string `dynamodbav:"kind"`
	Minutes    int64  `dynamodbav:"minutes"`
	Delta      int64  `dynamodbav:"delta"`
	PrevAt     string `dynamodbav:"prevAt"`
	By         string `dynamodbav:"by"`
	At         string `dynamodbav:"at"`
	TeamID     string `dynamodbav:"teamId"`
	AType      string `dynamodbav:"atype"`
	Title      string `dynamodbav:"title"`
	Start      string `dynamodbav:"start"`
	End        string `dynamodbav:"end"`
}

// ServiceRecordFromImage decodes a service record's stream image. A record without the attributes its
// award is located by (activity, volunteer, revision ≥ 1, kind, time; the previous record's time after
// revision 1) is an error: the stream consumer reports it rather than award under a wrong identity.
func ServiceRecordFromImage(img map[string]types.AttributeValue) (volunteer.Record, error) {
	var it serviceRecordImage
	if err := attributevalue.UnmarshalMap(img, &it); err != nil {
		return volunteer.Record{}, fmt.Errorf("decode service record image: %w", err)
	}
	if it.Type != "service_record" {
		return volunteer.Record{}, fmt.Errorf("image is a %q, not a service record", it.Type)
	}
	r := volunteer.Record{ActivityID: it.ActivityID, Sub: it.Sub, Revision: it.Revision, Kind: it.Kind, Minutes: it.Minutes,
		Delta: it.Delta, By: it.By, At: parseTime(it.At), TeamID: it.TeamID, Type: it.AType, Title: it.Title,
		Start: parseTime(it.Start), End: parseTime(it.End)}
	if it.PrevAt != "" {
		r.PrevAt = parseTime(it.PrevAt)
	}
	switch {
	case r.ActivityID == "" || r.Sub == "" || r.Revision < 1 || r.At.IsZero():
		return r, fmt.Errorf("service record %s/%s r%d: no activity, volunteer, revision or time", r.ActivityID, r.Sub, r.Revision)
	case r.Kind != volunteer.RecordConfirmed && r.Kind != volunteer.RecordRevoked:
		return r, fmt.Errorf("service record %s/%s r%d: unknown kind %q", r.ActivityID, r.Sub, r.Revision, r.Kind)
	case r.Revision > 1 && r.PrevAt.IsZero():
		return r, fmt.Errorf("service record %s/%s r%d: no prevAt to find revision %d's award by", r.ActivityID, r.Sub, r.Revision, r.Revision-1)
	}
	return r, nil
}
