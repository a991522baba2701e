// Package cost measures what one report's lifecycle costs on AWS: it runs the lifecycle through the real
// functions on the local stack, counts their calls per service and operation, computes DynamoDB's read and
// write units from the items each call read or wrote (the images before and after every write, the items
// every read returned) and prices them at AWS list prices (prices.go).
package cost

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/stack"
)

// Item is a DynamoDB item as the SDK reads it.
type Item = map[string]types.AttributeValue

// ItemSize is an item's size as DynamoDB counts it for capacity: each attribute's name in UTF-8 bytes plus
// its value — strings and binaries their length, numbers about one byte per two significant digits plus one,
// booleans and nulls one byte, lists and maps 3 bytes plus one per element plus their elements.
func ItemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, x := range v.Value {
			n += 1 + valueSize(x)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, x := range v.Value {
			n += 1 + len(k) + valueSize(x)
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := 0
	for _, r := range strings.TrimLeft(strings.TrimLeft(s, "-"), "0.") {
		if r >= '0' && r <= '9' {
			digits++
		}
		if r == 'e' || r == 'E' {
			break
		}
	}
	return (digits+1)/2 + 1
}

// IndexEntryOverhead is what DynamoDB adds to each index entry's size (its documented 100 bytes).
const IndexEntryOverhead = 100

// Schema is the table's key and its global secondary indexes, from template.yaml.
type Schema struct {
	Keys    []string
	Indexes []stack.Index
}

// SchemaOf reads a table's schema.
func SchemaOf(t stack.Table) Schema {
	s := Schema{Indexes: t.GlobalSecondaryIndexes}
	for _, k := range t.KeySchema {
		s.Keys = append(s.Keys, k.Name)
	}
	return s
}

// inIndex says whether an item is in the index: it has every key attribute of it.
func inIndex(it Item, ix stack.Index) bool {
	if it == nil {
		return false
	}
	for _, k := range ix.KeySchema {
		if _, ok := it[k.Name]; !ok {
			return false
		}
	}
	return true
}

// projected is the part of an item an index holds: the table's and the index's keys, and the projected
// attributes (all, none or the INCLUDE list).
func (s Schema) projected(it Item, ix stack.Index) Item {
	if ix.ProjectionType == "" || ix.ProjectionType == "ALL" {
		return it
	}
	keep := slices.Clone(s.Keys)
	for _, k := range ix.KeySchema {
		keep = append(keep, k.Name)
	}
	if ix.ProjectionType == "INCLUDE" {
		keep = append(keep, ix.NonKeyAttributes...)
	}
	out := Item{}
	for _, k := range keep {
		if v, ok := it[k]; ok {
			out[k] = v
		}
	}
	return out
}

// kb rounds a write's bytes up to write units (1 KB each, at least one).
func kb(n int) float64 { return math.Max(1, math.Ceil(float64(n)/1024)) }

// WriteUnits are the write units of one item's write: the table's and each index's.
type WriteUnits struct {
	Table float64
	Index map[string]float64
}

// Total is the table's and the indexes' units.
func (w WriteUnits) Total() float64 {
	t := w.Table
	for _, v := range w.Index {
		t += v
	}
	return t
}

// Write computes the units of one item's write from its images before and after (nil: absent), by
// DynamoDB's rules: the table is charged the larger image in KB (at least 1); an index is written when the
// item enters it (1 put), leaves it (1 delete), changes its index key (delete + put), or changes a
// projected attribute while staying (1 update, the larger projected image) — and not at all when none of
// its projected attributes or keys changed. txn doubles the table's units (transactional writes cost 2×).
func (s Schema) Write(before, after Item, txn bool) WriteUnits {
	w := WriteUnits{Table: kb(max(ItemSize(before), ItemSize(after))), Index: map[string]float64{}}
	if txn {
		w.Table *= 2
	}
	for _, ix := range s.Indexes {
		was, is := inIndex(before, ix), inIndex(after, ix)
		var pb, pa Item
		if was {
			pb = s.projected(before, ix)
		}
		if is {
			pa = s.projected(after, ix)
		}
		size := func(p Item) int { return ItemSize(p) + IndexEntryOverhead }
		var u float64
		switch {
		case was && is:
			keyChanged := false
			for _, k := range ix.KeySchema {
				if !equal(before[k.Name], after[k.Name]) {
					keyChanged = true
				}
			}
			switch {
			case keyChanged:
				u = kb(size(pb)) + kb(size(pa))
			case !sameItem(pb, pa):
				u = kb(max(size(pb), size(pa)))
			}
		case was:
			u = kb(size(pb))
		case is:
			u = kb(size(pa))
		}
		if u > 0 {
			w.Index[ix.Name] = u
		}
	}
	return w
}

func sameItem(a, b Item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !equal(v, b[k]) {
			return false
		}
	}
	return true
}

func equal(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberB:
		b, ok := b.(*types.AttributeValueMemberB)
		return ok && string(a.Value) == string(b.Value)
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberSS:
		b, ok := b.(*types.AttributeValueMemberSS)
		return ok && slices.Equal(slices.Sorted(slices.Values(a.Value)), slices.Sorted(slices.Values(b.Value)))
	case *types.AttributeValueMemberNS:
		b, ok := b.(*types.AttributeValueMemberNS)
		return ok && slices.Equal(slices.Sorted(slices.Values(a.Value)), slices.Sorted(slices.Values(b.Value)))
	case *types.AttributeValueMemberL:
		b, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(a.Value, b.Value, equal)
	case *types.AttributeValueMemberM:
		b, ok := b.(*types.AttributeValueMemberM)
		return ok && maps.EqualFunc(a.Value, b.Value, equal)
	}
	return false
}

// ReadUnits are the read units of one read of n bytes: 4 KB units, at least one, half of it when
// eventually consistent, twice when transactional.
func ReadUnits(bytes int, consistent, txn bool) float64 {
	u := math.Max(1, math.Ceil(float64(bytes)/4096))
	switch {
	case txn:
		return 2 * u
	case consistent:
		return u
	}
	return u / 2
}
