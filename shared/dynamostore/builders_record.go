package dynamostore

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// Builders' home KPI records (README "Builders' home"): one immutable item per event the KPIs count,
//
//	record  pk=BLDREC#<kind>#<event id>  sk=BLDREC  gsi1 BLDREC#<local day of at>/<at>#<kind>#<event id>
//
// written in the same transaction as the change it counts; its key derives from the event, so a re-sent
// request (or a repeated event) writes it once.

func bldRecPK(kind, id string) string { return "BLDREC#" + kind + "#" + id }

// builderRecordItem is a KPI record as stored.
type builderRecordItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	Kind   string `dynamodbav:"kind"`
	N      int    `dynamodbav:"n"`
	Sub    string `dynamodbav:"sub,omitempty"`
	Ref    string `dynamodbav:"ref,omitempty"`
	Detail string `dynamodbav:"detail,omitempty"`
	At     string `dynamodbav:"at"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
}

// builderRecord is rec's item: rec.ID is the event id (unique per kind), rec.At its time.
func (s *Store) builderRecord(rec builders.Record) builderRecordItem {
	return builderRecordItem{
		PK: bldRecPK(rec.Kind, rec.ID), SK: "BLDREC", Type: "builders_record", Kind: rec.Kind, N: rec.N,
		Sub: rec.Sub, Ref: rec.Ref, Detail: rec.Detail, At: timeKey(rec.At),
		GSI1PK: "BLDREC#" + s.dayKey(rec.At), GSI1SK: timeKey(rec.At) + "#" + rec.Kind + "#" + rec.ID,
	}
}

// builderRecordPut is the transaction item that writes rec once: a Put on the condition that the record
// does not exist. In a transaction, a record that exists cancels it (ConditionalCheckFailed on this item):
// the event was counted already, i.e. the request is a re-sent one. It is a method, not the contract's bare
// function, because the item needs the table and the city's time zone (gsi1's local day).
func (s *Store) builderRecordPut(rec builders.Record) types.TransactWriteItem {
	it := s.builderRecord(rec)
	item := map[string]types.AttributeValue{
		"pk": str(it.PK), "sk": str(it.SK), "type": str(it.Type), "kind": str(it.Kind),
		"n": &types.AttributeValueMemberN{Value: strconv.Itoa(it.N)}, "at": str(it.At),
		"gsi1pk": str(it.GSI1PK), "gsi1sk": str(it.GSI1SK),
	}
	for k, v := range map[string]string{"sub": it.Sub, "ref": it.Ref, "detail": it.Detail} {
		if v != "" {
			item[k] = str(v)
		}
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}
