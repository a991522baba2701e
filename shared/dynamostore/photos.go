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

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// PhotosOfDays returns the photos and proof photos of the reports created or resolved on the given local
// days (report.AttachedPhotos, for the photo sweeper): the day partitions CREATED#<day> and RESOLVED#<day>
// give the report ids (their pk, which every index entry carries), and BatchGetItem reads those reports'
// photo lists, 100 a call — work proportional to the days' reports. Eventually consistent reads suffice:
// the days are two days old when the sweeper asks.
func (s *Store) PhotosOfDays(ctx context.Context, days []string) ([]report.Photo, error) {
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for _, day := range days {
		// A report's resolution is indexed on gsi4 RESOLVED#<day> (the report item's own entry) or, for
		// resolutions made before that, on gsi3 RESOLVED#<day> (a resolution item): both are read.
		// A contest's photos are on its answer (FEEDBACK#<day>, feedback.go).
		for _, q := range [][2]string{{"gsi3", "CREATED#" + day}, {"gsi4", "RESOLVED#" + day}, {"gsi3", "RESOLVED#" + day}, {"gsi3", feedbackPKOf(day)}} {
			index, pk := q[0], q[1]
			in := dayQuery(s.table, index, pk, "pk", nil)
			for {
				page, err := s.db.Query(ctx, in)
				if err != nil {
					return nil, translate("query "+index+" "+pk, err)
				}
				for _, it := range page.Items {
					v, ok := it["pk"].(*types.AttributeValueMemberS)
					sk := reportSK
					if index == "gsi3" && strings.HasPrefix(pk, "FEEDBACK#") {
						sk = feedbackSK
					}
					if !ok || !strings.HasPrefix(v.Value, "REPORT#") || seen[v.Value+"#"+sk] {
						continue
					}
					seen[v.Value+"#"+sk] = true
					keys = append(keys, map[string]types.AttributeValue{"pk": str(v.Value), "sk": str(sk)})
				}
				if page.LastEvaluatedKey == nil {
					break
				}
				in.ExclusiveStartKey = page.LastEvaluatedKey
			}
		}
	}
	var out []report.Photo
	for start := 0; start < len(keys); start += 100 {
		req := map[string]types.KeysAndAttributes{s.table: {
			Keys: keys[start:min(start+100, len(keys))], ProjectionExpression: aws.String("photos, proofPhotos"),
		}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				// Keys left unprocessed: DynamoDB is short of capacity, so wait before asking again.
				if attempt > maxBatchGetAttempts {
					return nil, apperr.ErrThrottled.Wrap(fmt.Errorf("read report photos: keys still unprocessed after %d attempts", maxBatchGetAttempts))
				}
				select {
				case <-ctx.Done():
					return nil, fmt.Errorf("read report photos: %w", ctx.Err())
				case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, translate("read report photos", err)
			}
			for _, raw := range res.Responses[s.table] {
				var it struct {
					Photos      []report.Photo `dynamodbav:"photos"`
					ProofPhotos []report.Photo `dynamodbav:"proofPhotos"`
				}
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return nil, fmt.Errorf("decode report photos: %w", err)
				}
				out = append(append(out, it.Photos...), it.ProofPhotos...)
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// maxBatchGetAttempts bounds the retries of unprocessed keys (about 4 s of waiting in all).
const maxBatchGetAttempts = 8
