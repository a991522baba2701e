package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// Configuration items (departments, areas, rules) are small JSON documents, one partition per kind, so a
// kind loads with one Query and an item with one GetItem:
//
//	pk=CONFIG#DEPT | CONFIG#AREA | CONFIG#RULE   sk=<id>   doc=<JSON>
//
// Every write of configuration (these and categories) then bumps a version item, so a container whose
// cached configuration has aged checks it with one GetItem of that tiny item instead of reloading every
// kind (dispatch.Directory):
//
//	pk=CONFIG  sk=VERSION  v=<number>
const (
	deptPK = "CONFIG#DEPT"
	areaPK = "CONFIG#AREA"
	rulePK = "CONFIG#RULE"

	configVersionPK = "CONFIG"
	configVersionSK = "VERSION"
)

// ConfigVersion returns the configuration's version ("" before any write that bumps it). The read is
// eventually consistent: a container may see an edit a moment late, as it saw it up to a TTL late before.
func (s *Store) ConfigVersion(ctx context.Context) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: map[string]types.AttributeValue{"pk": str(configVersionPK), "sk": str(configVersionSK)},
	})
	if err != nil {
		return "", translate("get configuration version", err)
	}
	if v, ok := out.Item["v"].(*types.AttributeValueMemberN); ok {
		return v.Value, nil
	}
	return "", nil
}

// bumpConfigVersion runs after a configuration write. The write comes first, so a container that sees
// the new version loads the new configuration; one that loaded the new configuration under the old version
// loads it once more. A re-sent bump counts twice, which costs one reload more and nothing else.
func (s *Store) bumpConfigVersion(ctx context.Context) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: map[string]types.AttributeValue{"pk": str(configVersionPK), "sk": str(configVersionSK)},
		UpdateExpression:          aws.String("ADD v :one SET #t = :t"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":t": str("config")},
	})
	if err != nil {
		return translate("bump configuration version", err)
	}
	return nil
}

func queryDocs[T any](ctx context.Context, s *Store, pk string) ([]T, error) {
	var out []T
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query "+pk, err)
		}
		for _, it := range page.Items {
			var v T
			doc, _ := it["doc"].(*types.AttributeValueMemberS)
			if doc == nil || json.Unmarshal([]byte(doc.Value), &v) != nil {
				return nil, fmt.Errorf("decode %s item", pk)
			}
			out = append(out, v)
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func getDoc[T any](ctx context.Context, s *Store, pk, id string) (T, error) {
	var v T
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: map[string]types.AttributeValue{"pk": str(pk), "sk": str(id)},
	})
	if err != nil {
		return v, translate("get "+pk+" "+id, err)
	}
	doc, _ := out.Item["doc"].(*types.AttributeValueMemberS)
	if doc == nil {
		return v, dispatch.ErrConfigMissing.With("no %s %q", pk[len("CONFIG#"):], id)
	}
	if err := json.Unmarshal([]byte(doc.Value), &v); err != nil {
		return v, fmt.Errorf("decode %s %s: %w", pk, id, err)
	}
	return v, nil
}

func putDoc(ctx context.Context, s *Store, pk, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item:      map[string]types.AttributeValue{"pk": str(pk), "sk": str(id), "type": str("config"), "doc": str(string(b))},
	})
	if err != nil {
		return translate("put "+pk+" "+id, err)
	}
	return s.bumpConfigVersion(ctx)
}

// Departments returns every department.
func (s *Store) Departments(ctx context.Context) ([]dispatch.Department, error) {
	return queryDocs[dispatch.Department](ctx, s, deptPK)
}

// Areas returns every area.
func (s *Store) Areas(ctx context.Context) ([]dispatch.Area, error) {
	return queryDocs[dispatch.Area](ctx, s, areaPK)
}

// Rules returns every rule.
func (s *Store) Rules(ctx context.Context) ([]dispatch.Rule, error) {
	return queryDocs[dispatch.Rule](ctx, s, rulePK)
}

// Department returns one department or dispatch.ErrConfigMissing.
func (s *Store) Department(ctx context.Context, id string) (dispatch.Department, error) {
	return getDoc[dispatch.Department](ctx, s, deptPK, id)
}

// Area returns one area or dispatch.ErrConfigMissing.
func (s *Store) Area(ctx context.Context, id string) (dispatch.Area, error) {
	return getDoc[dispatch.Area](ctx, s, areaPK, id)
}

// Rule returns one rule or dispatch.ErrConfigMissing.
func (s *Store) Rule(ctx context.Context, id string) (dispatch.Rule, error) {
	return getDoc[dispatch.Rule](ctx, s, rulePK, id)
}

// PutDepartment creates or replaces a department.
func (s *Store) PutDepartment(ctx context.Context, d dispatch.Department) error {
	return putDoc(ctx, s, deptPK, d.ID, d)
}

// PutArea creates or replaces an area.
func (s *Store) PutArea(ctx context.Context, a dispatch.Area) error {
	return putDoc(ctx, s, areaPK, a.ID, a)
}

// PutRule creates or replaces a rule.
func (s *Store) PutRule(ctx context.Context, r dispatch.Rule) error {
	return putDoc(ctx, s, rulePK, r.ID, r)
}
