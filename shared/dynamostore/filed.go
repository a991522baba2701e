package dynamostore

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Intake's single write: a report whose id is derived from (reporter, Idempotency-Key) is its own
// idempotency record. One conditional PutItem writes it with the hash of the request body; a request sent
// again meets the item in the failed condition (ReturnValuesOnConditionCheckFailure=ALL_OLD, in the same
// call) and answers from it. Its first timeline entry ("submitted") is implied by createdAt (getReport).

// InsertReport writes r, which must be new, with the hash of the request that filed it. When a report
// with r's id exists it writes nothing and returns that report (no error). Errors say whether nothing was
// written for certain (apperr.NotApplied) or the outcome is unknown.
func (s *Store) InsertReport(ctx context.Context, r report.Report, bodyHash string) (*report.Filed, error) {
	it := s.toReportItem(r)
	h, err := hex.DecodeString(bodyHash)
	if err != nil || len(h) == 0 {
		return nil, fmt.Errorf("insert report %s: body hash %q is not hex", r.ID, bodyHash)
	}
	it.BodyHash = h
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, err
	}
	var watch attempts
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, watch.option)
	if err == nil {
		return nil, nil
	}
	ccf, ok := conditionFailed(err)
	if !ok {
		return nil, watch.settle("insert report "+r.ID, err)
	}
	if ccf.Item == nil { // a store that does not return the item: read it
		f, err := s.FiledReport(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if f == nil { // gone in between (no report is ever deleted): nothing was written by this call
			return nil, apperr.ErrContention.Wrap(fmt.Errorf("insert report %s: refused, then not found", r.ID))
		}
		return f, nil
	}
	return filedFromItem(ccf.Item)
}

// FiledReport reads report id (consistently) with the hash of the request that filed it; nil if there is
// no such report.
func (s *Store) FiledReport(ctx context.Context, id string) (*report.Filed, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: reportKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, translate("read report "+id, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	return filedFromItem(out.Item)
}

func filedFromItem(item map[string]types.AttributeValue) (*report.Filed, error) {
	var it reportItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	return &report.Filed{Report: it.report(), BodyHash: hex.EncodeToString(it.BodyHash)}, nil
}
