package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/faults"
	"github.com/civicsnap/civicsnap/shared/points"
)

// An award made before its ledger entry was its record (an AWARD#<report> item beside an entry without
// the award's figures) is still reversed by what it granted, exactly once; one already reversed then is
// left alone.
func TestLegacyAwardsAreReversedOnce(t *testing.T) {
	e := newFaultEnv(t, faults.Options{Seed: 1})
	st := e.plain
	ctx := context.Background()
	resolved := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	svc := points.NewService(st, func(context.Context, string) (int64, error) { return 10, nil }, time.UTC,
		func() time.Time { return resolved.Add(48 * time.Hour) })

	tests := []struct {
		name        string
		sub, report string
		reversed    bool // the legacy record says it was reversed already
		wantBalance int64
	}{
		{"granted, then revoked after the upgrade", "legacy-a", "rep-a", false, 0},
		{"reversed before the upgrade", "legacy-b", "rep-b", true, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := svc.OnResolved(ctx, points.Resolved{ID: tt.report, ReporterSub: tt.sub, Category: "rubbish", At: resolved}); err != nil {
				t.Fatal(err)
			}
			// Make it look as the old code wrote it: the entry without the award's figures, and the award's
			// own item.
			a := points.AwardKey(tt.report, tt.sub, points.RuleReport, resolved)
			a.Points, a.Granted, a.Merit, a.Reversed = 10, 10, 1, tt.reversed
			if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, UpdateExpression: aws.String("REMOVE #r, points, granted, merit"),
				ExpressionAttributeNames: map[string]string{"#r": "rule"},
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "USER#" + tt.sub},
					"sk": &types.AttributeValueMemberS{Value: "LEDGER#2026-11-02T10:00:00.000Z#" + a.EntryID()}}}); err != nil {
				t.Fatal(err)
			}
			item, err := attributevalue.MarshalMap(struct {
				PK   string `dynamodbav:"pk"`
				SK   string `dynamodbav:"sk"`
				Type string `dynamodbav:"type"`
				points.Award
			}{"AWARD#" + tt.report, tt.sub + "#report", "award", a})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: item}); err != nil {
				t.Fatal(err)
			}

			rev := points.Revoked{ID: tt.report, ReporterSub: tt.sub, ResolvedAt: resolved, At: resolved.Add(24 * time.Hour)}
			for range 2 {
				if err := svc.OnRevoked(ctx, rev); err != nil {
					t.Fatal(err)
				}
			}
			p, err := st.Profile(ctx, tt.sub)
			if err != nil {
				t.Fatal(err)
			}
			wantMerit := int64(0)
			if tt.reversed {
				wantMerit = 1
			}
			if p.Balance != tt.wantBalance || p.Merit != wantMerit || p.Debt != 0 {
				t.Errorf("balance %d merit %d debt %d, want %d, %d, 0", p.Balance, p.Merit, p.Debt, tt.wantBalance, wantMerit)
			}
			if sum, err := st.LedgerSum(ctx, tt.sub); err != nil || sum != p.Balance {
				t.Errorf("ledger sums to %d (%v), balance %d", sum, err, p.Balance)
			}
		})
	}
}
