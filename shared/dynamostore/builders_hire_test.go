package dynamostore

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/report"
)

// TestHireCursor: a page's cursor round-trips to its start key, and a cursor of another list (another job,
// another worker, another kind of item), a malformed or an oversized one is refused as invalid_cursor
// before it reaches DynamoDB (which would answer a ValidationException: a 500).
func TestHireCursor(t *testing.T) {
	appKey := map[string]types.AttributeValue{"pk": str("JOB#j1"), "sk": str("APP#w1")}
	mineKey := map[string]types.AttributeValue{"pk": str("JOB#j1"), "sk": str("APP#w1"),
		"gsi2pk": str("WORKERAPPS#w1"), "gsi2sk": str("2026-12-01T02:00:00.000Z#j1")}
	hireKey := map[string]types.AttributeValue{"pk": str("JOB#j1"), "sk": str("HIRE#w1"),
		"gsi4pk": str("WORKERHIRES#w1"), "gsi4sk": str("2026-12-01T02:00:00.000Z#j1")}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name                     string
		cursor                   string
		pk, skPrefix, index, gpk string
		ok                       bool
	}{
		{"the job's applications", encodeHireCursor(appKey, ""), "JOB#j1", "APP#", "", "", true},
		{"another job's", encodeHireCursor(appKey, ""), "JOB#j2", "APP#", "", "", false},
		{"the job's hires with an applications cursor", encodeHireCursor(appKey, ""), "JOB#j1", "HIRE#", "", "", false},
		{"the worker's applications", encodeHireCursor(mineKey, "gsi2"), "", "APP#", "gsi2", "WORKERAPPS#w1", true},
		{"another worker's", encodeHireCursor(mineKey, "gsi2"), "", "APP#", "gsi2", "WORKERAPPS#w2", false},
		{"the worker's hires", encodeHireCursor(hireKey, "gsi4"), "", "HIRE#", "gsi4", "WORKERHIRES#w1", true},
		{"a hires cursor for applications", encodeHireCursor(hireKey, "gsi4"), "", "APP#", "gsi2", "WORKERAPPS#w1", false},
		{"not base64", "%%%", "JOB#j1", "APP#", "", "", false},
		{"not JSON", raw("{"), "JOB#j1", "APP#", "", "", false},
		{"an empty sort key", raw(`{"p":"JOB#j1","s":"APP#"}`), "JOB#j1", "APP#", "", "", false},
		{"an oversized sort key", raw(`{"p":"JOB#j1","s":"APP#` + strings.Repeat("x", 1100) + `"}`), "JOB#j1", "APP#", "", "", false},
		{"another item's partition", raw(`{"p":"WORKER#w1","s":"APP#w1","g":"WORKERAPPS#w1","h":"x"}`), "", "APP#", "gsi2", "WORKERAPPS#w1", false},
	}
	for _, c := range cases {
		k, err := decodeHireCursor(c.cursor, c.pk, c.skPrefix, c.index, c.gpk)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %t", c.name, err, c.ok)
			continue
		}
		if err != nil && !errors.Is(err, report.ErrInvalidCursor) {
			t.Errorf("%s: err %v, want invalid_cursor", c.name, err)
		}
		if err == nil && (stringAttr(k, "pk") != "JOB#j1" || stringAttr(k, "sk") == "" ||
			(c.index != "" && stringAttr(k, c.index+"pk") != c.gpk)) {
			t.Errorf("%s: start key %v", c.name, k)
		}
	}
	if encodeHireCursor(nil, "") != "" {
		t.Error("the last page has a cursor")
	}
}
