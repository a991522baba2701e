package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Item shapes for bulk loads (large test datasets and demo history). They are the very items the services
// write, so a dataset loaded with BatchPut is read back exactly as production data would be. moto copies the
// whole table on every transaction; BatchWriteItem does not, which makes large fixtures affordable.

// Item is one raw item.
type Item = map[string]types.AttributeValue

// ReportItem is the item of a report (not its timeline or assignments).
func (s *Store) ReportItem(r report.Report) (Item, error) {
	return attributevalue.MarshalMap(s.toReportItem(r))
}

// ResolvedReportItem is the item of report r resolved at `at` by lead, whose deadline was deadline: the
// report carries its resolution (resolvedAt and the gsi4 RESOLVED#<day> entry casework's Apply writes).
func (s *Store) ResolvedReportItem(r report.Report, lead string, at, deadline time.Time) (Item, error) {
	it, err := s.ReportItem(r)
	if err != nil {
		return nil, err
	}
	it["resolvedAt"] = str(timeKey(at))
	it["gsi4pk"], it["gsi4sk"] = str(s.resolvedPK(at)), str(resolvedSK(r, lead, at, deadline))
	return it, nil
}

// LedgerItem is a ledger entry of sub.
func (s *Store) LedgerItem(sub string, e points.Entry) (Item, error) {
	it, err := s.ledgerPut(sub, e)
	if err != nil {
		return nil, err
	}
	return it.Put.Item, nil
}

// RedemptionItem is a redemption's item.
func (s *Store) RedemptionItem(r market.Redemption) (Item, error) {
	return attributevalue.MarshalMap(s.toRedemptionItem(r))
}

// ProfileItem is a profile's item, written at `at`.
func (s *Store) ProfileItem(p points.Profile, at time.Time) (Item, error) {
	return attributevalue.MarshalMap(s.toProfileItem(p, at))
}

// BatchPut writes items 25 to a BatchWriteItem call, retrying unprocessed ones. Not for money-like state
// in production: it has no conditions.
func (s *Store) BatchPut(ctx context.Context, items []Item) error {
	for start := 0; start < len(items); start += 25 {
		reqs := make([]types.WriteRequest, 0, 25)
		for _, it := range items[start:min(start+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for tries := 0; len(pending) > 0; tries++ {
			if tries > 10 {
				return fmt.Errorf("batch put: items still unprocessed after %d tries", tries)
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return translate("batch put", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
