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

// The volunteer KPIs of a local day (issue 15; README "KPI definitions") are read through that day's
// index partitions only, so no read grows with history or with the number of volunteers:
//
//	registered   gsi3 VOLREG#<day>   a profile's creation day    Select COUNT (keys only are counted)
//	verified     gsi4 VOLVER#<day>   a profile's verification    Select COUNT
//	service      gsi1 VOLREC#<day>   the day's service records   sub, kind, delta, teamId, atype
//
// A COUNT query returns no items, only how many matched (1 MB of index entries a page: one page for
// thousands of a day's profiles), and reads the entries' size in capacity either way.

// volunteerRecordLine is what the roll-up reads of a service record.
type volunteerRecordLine struct {
	Sub    string `dynamodbav:"sub"`
	Kind   string `dynamodbav:"kind"`
	Delta  int64  `dynamodbav:"delta"`
	TeamID string `dynamodbav:"teamId"`
	Type   string `dynamodbav:"atype"`
}

// VolunteerDayInputs reads one local day's volunteer registrations, verifications and service records
// (three Queries and their pages).
func (s *Store) VolunteerDayInputs(ctx context.Context, date string, st *kpi.ReadStats) (kpi.VolunteerInputs, error) {
	var in kpi.VolunteerInputs
	var err error
	if in.Registered, err = s.countDay(ctx, "gsi3", "VOLREG#"+date, st); err != nil {
		return in, err
	}
	if in.Verified, err = s.countDay(ctx, "gsi4", "VOLVER#"+date, st); err != nil {
		return in, err
	}
	recs, err := queryAll[volunteerRecordLine](ctx, s, dayQuery(s.table, "gsi1", "VOLREC#"+date, "#sub, kind, delta, teamId, atype",
		map[string]string{"#sub": "sub"}), st)
	if err != nil {
		return in, err
	}
	for _, r := range recs {
		in.Records = append(in.Records, kpi.VolunteerRecord{Sub: r.Sub, Kind: r.Kind, Delta: r.Delta, TeamID: r.TeamID, Type: r.Type})
	}
	return in, nil
}

// countDay counts the entries of one index partition with Select COUNT, page by page.
func (s *Store) countDay(ctx context.Context, index, pk string, st *kpi.ReadStats) (int, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(index),
		KeyConditionExpression:    aws.String(index + "pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		Select:                    types.SelectCount,
	}
	n := 0
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, translate("count "+pk, err)
		}
		st.Queries++
		n += int(page.Count)
		if page.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// TeamNames returns the names of the given teams (the summary's top ones: one BatchGetItem of at most
// kpi.TopVolunteerTeams keys). A team that no longer exists has no name.
func (s *Store) TeamNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[start:min(start+100, len(ids))] {
			keys = append(keys, map[string]types.AttributeValue{"pk": str("TEAM#" + id), "sk": str("TEAM")})
		}
		err := s.batchGetEach(ctx, keys, "id, #n", map[string]string{"#n": "name"}, func(it map[string]types.AttributeValue) error {
			var t struct {
				ID   string `dynamodbav:"id"`
				Name string `dynamodbav:"name"`
			}
			if err := attributevalue.UnmarshalMap(it, &t); err != nil {
				return fmt.Errorf("decode team: %w", err)
			}
			out[t.ID] = t.Name
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
