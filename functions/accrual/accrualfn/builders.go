package accrualfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/streamfn"
)

// Builders' home records (issue 16): a completed hire and a served consultation each write one immutable
// builders_record, whose INSERT the template's FilterCriteria pass here (those two kinds only). The points
// policy (points.BuildersRules, off by default) awards the worker once per record: the award's identity is
// the record's key — points.Service.OnBuildersRecord.

// isBuildersRecord reports whether rec is the insertion of a builders' record.
func isBuildersRecord(rec events.DynamoDBEventRecord) bool {
	t, ok := rec.Change.NewImage["type"]
	return rec.EventName == string(events.DynamoDBOperationTypeInsert) && ok && t.DataType() == events.DataTypeString && t.String() == "builders_record"
}

// buildersRecord applies a builders' record's points policy.
func (f *Function) buildersRecord(ctx context.Context, rec events.DynamoDBEventRecord) error {
	r, err := dynamostore.BuildersRecordFromImage(streamfn.Image(rec.Change.NewImage))
	if err != nil {
		return fmt.Errorf("record %s: %w", rec.EventID, err)
	}
	a, err := f.svc.OnBuildersRecord(ctx, r)
	if err != nil {
		return err
	}
	log := f.log.With("recordId", r.RecordID, "kind", r.Kind)
	if a != nil {
		log.InfoContext(ctx, "builders points awarded", "points", a.Granted)
	} else {
		log.InfoContext(ctx, "builders record: nothing to award (policy off, already applied or no points)")
	}
	return nil
}
