package dynamostore

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/points"
)

// A builders_record's stream image decodes to the award's identity (its key), kind, worker and time; an
// image whose key does not name its kind and an event, or without a worker or time, is refused rather than
// awarded under a wrong identity.
func TestBuildersRecordFromImage(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	image := func(change func(map[string]types.AttributeValue)) map[string]types.AttributeValue {
		img := map[string]types.AttributeValue{"pk": str("BLDREC#hire_completed#j1#w1"), "sk": str("BLDREC"),
			"type": str("builders_record"), "kind": str("hire_completed"), "n": num(1), "sub": str("w1"), "at": str(timeKey(at))}
		if change != nil {
			change(img)
		}
		return img
	}
	cases := []struct {
		name string
		img  map[string]types.AttributeValue
		ok   bool
	}{
		{"a completed hire", image(nil), true},
		{"another item type", image(func(m map[string]types.AttributeValue) { m["type"] = str("hire") }), false},
		{"a key of another kind", image(func(m map[string]types.AttributeValue) { m["kind"] = str("consultation") }), false},
		{"no kind", image(func(m map[string]types.AttributeValue) { delete(m, "kind") }), false},
		{"a key without an event id", image(func(m map[string]types.AttributeValue) { m["pk"] = str("BLDREC#hire_completed#") }), false},
		{"no worker", image(func(m map[string]types.AttributeValue) { delete(m, "sub") }), false},
		{"no time", image(func(m map[string]types.AttributeValue) { delete(m, "at") }), false},
		{"a numeric kind (not the key's)", image(func(m map[string]types.AttributeValue) { m["kind"] = num(3) }), false},
	}
	for _, c := range cases {
		r, err := BuildersRecordFromImage(c.img)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %t", c.name, err, c.ok)
			continue
		}
		want := points.BuildersRecord{RecordID: "BLDREC#hire_completed#j1#w1", Kind: "hire_completed", Sub: "w1", At: at}
		if c.ok && (r.RecordID != want.RecordID || r.Kind != want.Kind || r.Sub != want.Sub || !r.At.Equal(want.At)) {
			t.Errorf("%s: %+v, want %+v", c.name, r, want)
		}
	}
}
