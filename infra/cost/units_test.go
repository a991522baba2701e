package cost

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/stack"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func TestItemSize(t *testing.T) {
	for _, c := range []struct {
		name string
		it   Item
		want int
	}{
		{"empty", nil, 0},
		{"string", Item{"pk": s("abc")}, 5},
		{"utf-8", Item{"d": s("路灯")}, 7},
		{"number", Item{"n": &types.AttributeValueMemberN{Value: "12345"}}, 1 + 4},
		{"bool", Item{"b": &types.AttributeValueMemberBOOL{Value: true}}, 2},
		{"list", Item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), s("c")}}}, 1 + 3 + 3 + 2},
		{"map", Item{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("vv")}}}, 1 + 3 + 1 + 1 + 2},
	} {
		if got := ItemSize(c.it); got != c.want {
			t.Errorf("%s: ItemSize = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestWriteUnits(t *testing.T) {
	keys := []stack.KeyElement{{Name: "gpk", KeyType: "HASH"}, {Name: "gsk", KeyType: "RANGE"}}
	all := Schema{Keys: []string{"pk", "sk"}, Indexes: []stack.Index{{Name: "g", KeySchema: keys, ProjectionType: "ALL"}}}
	only := Schema{Keys: []string{"pk", "sk"}, Indexes: []stack.Index{{Name: "g", KeySchema: keys, ProjectionType: "KEYS_ONLY"}}}
	big := string(make([]byte, 1500))
	base := Item{"pk": s("P"), "sk": s("S"), "gpk": s("Q#open"), "gsk": s("2026"), "note": s("a")}
	with := func(k string, v types.AttributeValue) Item {
		c := Item{}
		for x, y := range base {
			c[x] = y
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, c := range []struct {
		name          string
		schema        Schema
		before, after Item
		txn           bool
		table, index  float64
	}{
		{"new item enters the index", all, nil, base, false, 1, 1},
		{"transaction doubles the table", all, nil, base, true, 2, 1},
		{"2 KB item: 2 units", all, nil, with("note", s(big)), false, 2, 2},
		{"unchanged projected attribute: index not written", all, base, base, false, 1, 0},
		{"changed attribute projected (ALL)", all, base, with("note", s("b")), false, 1, 1},
		{"changed attribute not projected (KEYS_ONLY)", only, base, with("note", s("b")), false, 1, 0},
		{"index key changed: delete + put", only, base, with("gpk", s("Q#done")), false, 1, 2},
		{"leaves the index", only, base, with("gpk", nil), false, 1, 1},
		{"never in the index", only, with("gpk", nil), with("gpk", nil), false, 1, 0},
		{"KEYS_ONLY of a 2 KB item: 1 unit", only, nil, with("note", s(big)), false, 2, 1},
	} {
		w := c.schema.Write(c.before, c.after, c.txn)
		if w.Table != c.table || w.Index["g"] != c.index {
			t.Errorf("%s: table %v index %v, want %v %v", c.name, w.Table, w.Index["g"], c.table, c.index)
		}
	}
}

func TestReadUnits(t *testing.T) {
	for _, c := range []struct {
		bytes           int
		consistent, txn bool
		want            float64
	}{
		{0, false, false, 0.5}, {4096, false, false, 0.5}, {4097, false, false, 1}, {100, true, false, 1}, {100, true, true, 2},
	} {
		if got := ReadUnits(c.bytes, c.consistent, c.txn); got != c.want {
			t.Errorf("ReadUnits(%d, %v, %v) = %v, want %v", c.bytes, c.consistent, c.txn, got, c.want)
		}
	}
}
