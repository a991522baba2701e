package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// createTable creates the table (or reuses an identical one), then applies TTL and point-in-time
// recovery, which CreateTable cannot set.
func (r *Resources) createTable(ctx context.Context, db *dynamodb.Client, name string, tbl Table) (TableInfo, error) {
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		// Always on demand locally: provisioned capacity would only add throttling that moto does not model.
		BillingMode:            types.BillingModePayPerRequest,
		KeySchema:              sdkKeySchema(tbl.KeySchema),
		GlobalSecondaryIndexes: sdkGSIs(tbl.GlobalSecondaryIndexes),
		LocalSecondaryIndexes:  sdkLSIs(tbl.LocalSecondaryIndexes),
	}
	for _, a := range tbl.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.Name), AttributeType: types.ScalarAttributeType(a.Type),
		})
	}
	if tbl.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(tbl.StreamViewType),
		}
	}
	if tbl.SSEEnabled {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true)}
	}
	_, err := db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return TableInfo{}, err
	}

	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	desc, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second)
	if err != nil {
		return TableInfo{}, fmt.Errorf("wait for table %s: %w", name, err)
	}
	if err := sameSchema(desc.Table, tbl); err != nil {
		return TableInfo{}, fmt.Errorf("table %s exists with another schema (%w): delete it or use another prefix", name, err)
	}
	info := TableInfo{
		Name:      name,
		ARN:       aws.ToString(desc.Table.TableArn),
		StreamARN: aws.ToString(desc.Table.LatestStreamArn),
	}

	if tbl.TTLAttribute != "" && tbl.TTLEnabled {
		if err := ensureTTL(ctx, db, name, tbl.TTLAttribute); err != nil {
			return info, err
		}
	}
	if tbl.PointInTimeRecovery {
		_, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: aws.String(name),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: aws.Bool(true),
			},
		})
		if err := r.optional(name+": point-in-time recovery", err); err != nil {
			return info, err
		}
	}
	return info, nil
}

// ensureTTL enables TTL unless it already is: AWS rejects enabling it twice.
func ensureTTL(ctx context.Context, db *dynamodb.Client, name, attr string) error {
	cur, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe ttl: %w", err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attr &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("update ttl: %w", err)
	}
	return nil
}

// sameSchema compares what cannot be changed in place on a reused table: keys, indexes and stream.
func sameSchema(desc *types.TableDescription, tbl Table) error {
	if !slices.Equal(keyStrings(desc.KeySchema), keyStrings(sdkKeySchema(tbl.KeySchema))) {
		return errors.New("key schema differs")
	}
	var have, want []string
	for _, g := range desc.GlobalSecondaryIndexes {
		have = append(have, aws.ToString(g.IndexName)+keysJoined(g.KeySchema))
	}
	for _, g := range sdkGSIs(tbl.GlobalSecondaryIndexes) {
		want = append(want, aws.ToString(g.IndexName)+keysJoined(g.KeySchema))
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return fmt.Errorf("global secondary indexes differ: have %v, want %v", have, want)
	}
	var stream string
	if s := desc.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		stream = string(s.StreamViewType)
	}
	if stream != tbl.StreamViewType {
		return fmt.Errorf("stream differs: have %q, want %q", stream, tbl.StreamViewType)
	}
	return nil
}

func keyStrings(ks []types.KeySchemaElement) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = aws.ToString(k.AttributeName) + ":" + string(k.KeyType)
	}
	return out
}

func keysJoined(ks []types.KeySchemaElement) string {
	return fmt.Sprint(keyStrings(ks))
}

func sdkKeySchema(ks []KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(ks))
	for i, k := range ks {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.Name), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

func sdkProjection(ix Index) *types.Projection {
	p := &types.Projection{ProjectionType: types.ProjectionType(ix.ProjectionType)}
	if p.ProjectionType == "" {
		p.ProjectionType = types.ProjectionTypeAll
	}
	if len(ix.NonKeyAttributes) > 0 {
		p.NonKeyAttributes = ix.NonKeyAttributes
	}
	return p
}

func sdkGSIs(ixs []Index) []types.GlobalSecondaryIndex {
	var out []types.GlobalSecondaryIndex
	for _, ix := range ixs {
		out = append(out, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: sdkKeySchema(ix.KeySchema), Projection: sdkProjection(ix),
		})
	}
	return out
}

func sdkLSIs(ixs []Index) []types.LocalSecondaryIndex {
	var out []types.LocalSecondaryIndex
	for _, ix := range ixs {
		out = append(out, types.LocalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: sdkKeySchema(ix.KeySchema), Projection: sdkProjection(ix),
		})
	}
	return out
}
