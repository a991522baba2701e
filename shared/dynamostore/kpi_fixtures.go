package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/kpi"
	"github.com/civicsnap/civicsnap/shared/report"
)

// AssignmentItem is the item of one of r's assignments, as dispatch and casework write it (for bulk loads:
// an open backlog of any size).
func (s *Store) AssignmentItem(r report.Report, a report.Assignment) (Item, error) {
	return attributevalue.MarshalMap(toAssignmentItem(r, a))
}

// SnapshotItem is a stored KPI snapshot (for bulk loads: years of history).
func (s *Store) SnapshotItem(sn kpi.Snapshot) (Item, error) {
	kind, err := snapshotKind(sn.Date)
	if err != nil {
		return nil, err
	}
	b, err := sn.Encode()
	if err != nil {
		return nil, err
	}
	return Item{"pk": str(snapshotPK(kind)), "sk": str(sn.Date), "type": str("kpi"), "docz": &types.AttributeValueMemberB{Value: b}}, nil
}
