package stack

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Table is an AWS::DynamoDB::Table.
type Table struct {
	LogicalID string
	// Condition names the template condition the table depends on; "" when unconditional.
	Condition              string
	BillingMode            string
	AttributeDefinitions   []AttributeDefinition
	KeySchema              []KeyElement
	GlobalSecondaryIndexes []Index
	LocalSecondaryIndexes  []Index
	// StreamViewType is "" when the table has no stream.
	StreamViewType string
	// TTLAttribute is the TimeToLiveSpecification attribute; it expires items only if TTLEnabled.
	TTLAttribute        string
	TTLEnabled          bool
	PointInTimeRecovery bool
	SSEEnabled          bool
}

// AttributeDefinition declares a key attribute and its type (S, N or B).
type AttributeDefinition struct {
	Name string
	Type string
}

// KeyElement is one element of a key schema; KeyType is HASH or RANGE.
type KeyElement struct {
	Name    string
	KeyType string
}

// Index is a global or local secondary index.
type Index struct {
	Name      string
	KeySchema []KeyElement
	// ProjectionType is ALL, KEYS_ONLY or INCLUDE; NonKeyAttributes go with INCLUDE.
	ProjectionType   string
	NonKeyAttributes []string
}

func (t *Template) parseTable(id string, res, props *yaml.Node) (Table, error) {
	tbl := Table{LogicalID: id}
	var err error
	if tbl.Condition, err = condition(res, id); err != nil {
		return tbl, err
	}
	if tbl.BillingMode, err = t.plainString(get(props, "BillingMode"), "BillingMode"); err != nil {
		return tbl, err
	}
	defs, err := items(get(props, "AttributeDefinitions"))
	if err != nil {
		return tbl, fmt.Errorf("AttributeDefinitions: %w", err)
	}
	for _, d := range defs {
		a := AttributeDefinition{}
		if a.Name, err = literal(get(d, "AttributeName"), "AttributeName"); err != nil {
			return tbl, err
		}
		if a.Type, err = literal(get(d, "AttributeType"), "AttributeType"); err != nil {
			return tbl, err
		}
		tbl.AttributeDefinitions = append(tbl.AttributeDefinitions, a)
	}
	if tbl.KeySchema, err = keySchema(get(props, "KeySchema")); err != nil {
		return tbl, err
	}
	if len(tbl.KeySchema) == 0 {
		return tbl, fmt.Errorf("no KeySchema")
	}
	if tbl.GlobalSecondaryIndexes, err = indexes(get(props, "GlobalSecondaryIndexes")); err != nil {
		return tbl, fmt.Errorf("GlobalSecondaryIndexes: %w", err)
	}
	if tbl.LocalSecondaryIndexes, err = indexes(get(props, "LocalSecondaryIndexes")); err != nil {
		return tbl, fmt.Errorf("LocalSecondaryIndexes: %w", err)
	}
	if tbl.StreamViewType, err = t.plainString(path(props, "StreamSpecification", "StreamViewType"), "StreamViewType"); err != nil {
		return tbl, err
	}
	ttl := get(props, "TimeToLiveSpecification")
	if tbl.TTLAttribute, err = t.plainString(get(ttl, "AttributeName"), "TimeToLiveSpecification.AttributeName"); err != nil {
		return tbl, err
	}
	if tbl.TTLEnabled, err = t.plainBool(get(ttl, "Enabled"), "TimeToLiveSpecification.Enabled", false); err != nil {
		return tbl, err
	}
	if tbl.PointInTimeRecovery, err = t.plainBool(path(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), "PointInTimeRecoveryEnabled", false); err != nil {
		return tbl, err
	}
	if tbl.SSEEnabled, err = t.plainBool(path(props, "SSESpecification", "SSEEnabled"), "SSEEnabled", false); err != nil {
		return tbl, err
	}
	return tbl, nil
}

func keySchema(n *yaml.Node) ([]KeyElement, error) {
	elems, err := items(n)
	if err != nil {
		return nil, fmt.Errorf("KeySchema: %w", err)
	}
	var out []KeyElement
	for _, e := range elems {
		k := KeyElement{}
		if k.Name, err = literal(get(e, "AttributeName"), "KeySchema.AttributeName"); err != nil {
			return nil, err
		}
		if k.KeyType, err = literal(get(e, "KeyType"), "KeySchema.KeyType"); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func indexes(n *yaml.Node) ([]Index, error) {
	elems, err := items(n)
	if err != nil {
		return nil, err
	}
	var out []Index
	for _, e := range elems {
		ix := Index{}
		if ix.Name, err = literal(get(e, "IndexName"), "IndexName"); err != nil {
			return nil, err
		}
		if ix.KeySchema, err = keySchema(get(e, "KeySchema")); err != nil {
			return nil, fmt.Errorf("index %s: %w", ix.Name, err)
		}
		if ix.ProjectionType, err = literal(path(e, "Projection", "ProjectionType"), "ProjectionType"); err != nil {
			return nil, err
		}
		if ix.NonKeyAttributes, err = strs(path(e, "Projection", "NonKeyAttributes"), "NonKeyAttributes"); err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, nil
}
