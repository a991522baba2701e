package dynamostore

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/shared/report"
)

func TestDecodeIndexCursorRefusesWhatDynamoDBWould(t *testing.T) {
	enc := func(c queueCursor) string {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	const gpk = "QUEUE#roads#assigned"
	good := queueCursor{PK: "REPORT#r1", SK: "ASSIGN#roads", GPK: gpk, GSK: "2026-11-30T10:00:00Z#r1"}
	with := func(f func(*queueCursor)) string { c := good; f(&c); return enc(c) }
	cases := []struct {
		name   string
		cursor string
		ok     bool
	}{
		{"well formed", enc(good), true},
		{"not base64", "!!!", false},
		{"not json", base64.RawURLEncoding.EncodeToString([]byte("{")), false},
		{"another partition", with(func(c *queueCursor) { c.GPK = "QUEUE#parks#assigned" }), false},
		{"empty table sort key", with(func(c *queueCursor) { c.SK = "" }), false},
		{"empty index sort key", with(func(c *queueCursor) { c.GSK = "" }), false},
		{"bare partition prefix", with(func(c *queueCursor) { c.PK = "REPORT#" }), false},
		{"other partition kind", with(func(c *queueCursor) { c.PK = "USER#u1" }), false},
		{"sort key of another kind", with(func(c *queueCursor) { c.SK = "TIMELINE#x" }), false},
		{"sort key over 1,024 bytes", with(func(c *queueCursor) { c.SK = "ASSIGN#" + strings.Repeat("x", 1024) }), false},
		{"index sort key over 1,024 bytes", with(func(c *queueCursor) { c.GSK = strings.Repeat("x", 1025) }), false},
		{"partition key over 2,048 bytes", with(func(c *queueCursor) { c.PK = "REPORT#" + strings.Repeat("x", 2048) }), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := decodeIndexCursor(tc.cursor, gpk, "REPORT#", "ASSIGN#")
			if tc.ok {
				if err != nil || c != good {
					t.Fatalf("decode = %+v, %v; want %+v", c, err, good)
				}
				return
			}
			if !errors.Is(err, report.ErrInvalidCursor) {
				t.Fatalf("decode = %+v, %v; want ErrInvalidCursor", c, err)
			}
		})
	}
}
