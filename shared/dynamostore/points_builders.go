package dynamostore

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/points"
)

// buildersRecordImage is what the accrual reads of a builders_record's stream image (the contract's
// item, pk=BLDREC#<kind>#<event id> sk=BLDREC).
type buildersRecordImage struct {
	PK   string `dynamodbav:"pk"`
	Type string `dynamodbav:"type"`
	Kind string `dynamodbav:"kind"`
	Sub  string `dynamodbav:"sub"`
	At   string `dynamodbav:"at"`
}

// BuildersRecordFromImage decodes a builders_record's stream image for the points policy: the record's key
// (its award's identity), kind, worker and time. A record whose key does not name its kind, or without a
// worker or time, is an error: the stream consumer reports it rather than award under a wrong identity.
func BuildersRecordFromImage(img map[string]types.AttributeValue) (points.BuildersRecord, error) {
	var it buildersRecordImage
	if err := attributevalue.UnmarshalMap(img, &it); err != nil {
		return points.BuildersRecord{}, fmt.Errorf("decode builders record image: %w", err)
	}
	if it.Type != "builders_record" {
		return points.BuildersRecord{}, fmt.Errorf("image is a %q, not a builders record", it.Type)
	}
	r := points.BuildersRecord{RecordID: it.PK, Kind: it.Kind, Sub: it.Sub, At: parseTime(it.At)}
	switch {
	case it.Kind == "" || !strings.HasPrefix(it.PK, "BLDREC#"+it.Kind+"#") || len(it.PK) == len("BLDREC#"+it.Kind+"#"):
		return r, fmt.Errorf("builders record %q: its key does not name its kind %q and an event", it.PK, it.Kind)
	case r.Sub == "" || r.At.IsZero():
		return r, fmt.Errorf("builders record %s: no worker or time", it.PK)
	}
	return r, nil
}
