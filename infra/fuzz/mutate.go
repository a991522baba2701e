package fuzz

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// gen draws values from one seeded source, so a run is repeatable from its seed (the stack's own clock
// and ids aside).
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) intn(n int) int        { return g.r.IntN(n) }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// Strings that have broken parsers and stores before: empty, blank, long (past DynamoDB's 1,024- and
// 2,048-byte key limits and S3's 1,024-byte key limit), separators of composite keys, control
// characters, invalid UTF-8, surrogates, right-to-left marks, numbers and literals as strings.
var edgeStrings = []string{
	"", " ", "\t", "\n", "a", "0", "-1", "null", "true", "[]", "{}", "#", "##", "/", "..", "../..", "%", "%00", "%2F",
	"\x00", "\x7f", "a\x00b", "\u200f", "\ufeff", "\ufffd", "路灯不亮", "😀", "\xff", "\xc3\x28", "\xed\xa0\x80",
	"REPORT#x", "USER#u1", "ITEM#rice-5kg", "INBOUND#a#b", "uploads/pending/u1/x.jpg", "image/jpeg", "image/svg+xml",
	"report.accepted", "accepted", "resolved", "dispatched", "goods", "honor", "charity", "credit",
	"<script>alert(1)</script>", "' OR 1=1 --", "${jndi:ldap://x}", "http://127.0.0.1/", "https://169.254.169.254/",
}

// edgeLengths are lengths around the limits that matter.
var edgeLengths = []int{63, 64, 65, 127, 128, 129, 200, 201, 256, 257, 500, 501, 1000, 1001, 1024, 1025, 1500, 2000, 2001, 2048, 2049, 3000, 70000}

// str returns an edge string, a long one, or a random one.
func (g *gen) str() string {
	switch g.intn(4) {
	case 0:
		return pick(g, edgeStrings)
	case 1:
		unit := pick(g, []string{"a", "路", "😀", "#", "\xff", "A_-", "%41"})
		n := pick(g, edgeLengths)
		return strings.Repeat(unit, max(1, n/len(unit)))
	case 2:
		b := make([]byte, g.intn(40))
		for i := range b {
			b[i] = byte(g.intn(256))
		}
		return string(b)
	default:
		b := make([]byte, 1+g.intn(20))
		const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
		for i := range b {
			b[i] = chars[g.intn(len(chars))]
		}
		return string(b)
	}
}

// Numbers at the edges of int32, int64, float64 and JSON's exact integers, as JSON text.
var edgeNumbers = []string{
	"0", "-0", "1", "-1", "2", "10", "11", "100", "999", "1000", "1001", "100000", "100001", "2147483647", "2147483648",
	"-2147483649", "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"-9223372036854775809", "1.5", "-0.5", "1e3", "1e308", "-1e308", "1e309", "1e-400", "0.1e1", "23.3752", "103.3905",
	"91", "-181", "4.9e-324",
}

// value returns a JSON value of any type, as raw JSON.
func (g *gen) value(depth int) json.RawMessage {
	switch n := g.intn(10); {
	case n < 3:
		return quote(g.str())
	case n < 6:
		return json.RawMessage(pick(g, edgeNumbers))
	case n == 6:
		return json.RawMessage(pick(g, []string{"null", "true", "false"}))
	case n == 7 && depth < 3:
		arr := make([]json.RawMessage, pick(g, []int{0, 1, 2, 9, 10, 11, 100}))
		for i := range arr {
			arr[i] = g.value(depth + 1)
		}
		b, _ := json.Marshal(arr)
		return b
	case n == 8 && depth < 3:
		obj := map[string]json.RawMessage{}
		for range g.intn(4) {
			obj[g.str()] = g.value(depth + 1)
		}
		b, _ := json.Marshal(obj)
		return b
	default:
		// Deep nesting (encoding/json refuses more than 10,000 levels, even to encode; mutateBytes goes
		// past that).
		d := pick(g, []int{10, 1000, 9000})
		return json.RawMessage(strings.Repeat("[", d) + strings.Repeat("]", d))
	}
}

// mutateBody returns body changed in one to three ways: a field set to another value or type, removed,
// added (unknown), or an array grown or emptied, anywhere in the document.
func (g *gen) mutateBody(body map[string]any) map[string]any {
	out := cloneJSON(body).(map[string]any)
	for range 1 + g.intn(3) {
		g.mutateIn(out, 0)
	}
	return out
}

func (g *gen) mutateIn(v any, depth int) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(keys) == 0 || g.chance(0.15) {
			x[pick(g, []string{g.str(), "id", "sub", "status", "balance", "points", "__proto__"})] = json.RawMessage(g.value(0))
			return
		}
		k := pick(g, keys)
		switch c := x[k].(type) {
		case map[string]any, []any:
			if depth < 4 && g.chance(0.6) {
				g.mutateIn(c, depth+1)
				return
			}
		}
		if g.chance(0.2) {
			delete(x, k)
			return
		}
		x[k] = g.nearValue(x[k])
	case []any:
		if len(x) == 0 {
			return
		}
		i := g.intn(len(x))
		switch x[i].(type) {
		case map[string]any, []any:
			g.mutateIn(x[i], depth+1)
		default:
			x[i] = g.nearValue(x[i])
		}
	}
}

// nearValue is usually a value of the same type at an edge (so the request gets past type checks and
// reaches the rules), else any value.
func (g *gen) nearValue(v any) any {
	if g.chance(0.35) {
		return json.RawMessage(g.value(0))
	}
	switch x := v.(type) {
	case string:
		return g.str()
	case float64, int, int64, json.Number:
		return json.RawMessage(pick(g, edgeNumbers))
	case bool:
		return !x
	case []any:
		switch g.intn(3) {
		case 0:
			return []any{}
		case 1:
			if len(x) > 0 {
				n := pick(g, []int{2, 9, 10, 11, 100, 1000})
				out := make([]any, n)
				for i := range out {
					out[i] = x[i%len(x)]
				}
				return out
			}
		}
		return append(slices.Clone(x), json.RawMessage(g.value(0)))
	}
	return json.RawMessage(g.value(0))
}

// mutateBytes damages serialized JSON: flipped, inserted, deleted or repeated bytes, a cut, trailing data,
// or invalid UTF-8 inside a string.
func (g *gen) mutateBytes(b []byte) []byte {
	b = slices.Clone(b)
	switch g.intn(10) {
	case 0:
		if len(b) > 0 {
			b[g.intn(len(b))] ^= byte(1 << g.intn(8))
		}
	case 1:
		i := g.intn(len(b) + 1)
		b = slices.Insert(b, i, pick(g, []byte{'{', '}', '[', ']', '"', ',', ':', '\\', 0, 0xff, ' '}))
	case 2:
		if len(b) > 1 {
			i := g.intn(len(b) - 1)
			j := i + 1 + g.intn(min(16, len(b)-i-1))
			b = slices.Delete(b, i, j)
		}
	case 3:
		if len(b) > 0 {
			b = b[:g.intn(len(b))]
		}
	case 4:
		b = append(b, pick(g, []string{"}", "]", "}}", " x", "{}", "\n{\"a\":1}", "\x00", "null"})...)
	case 5:
		if i := strings.IndexByte(string(b), '"'); i >= 0 {
			b = slices.Insert(b, i+1, pick(g, [][]byte{{0xff}, {0xc3, 0x28}, {0xed, 0xa0, 0x80}, []byte(`\ud800`), []byte(`\udc00x`)})...)
		}
	case 6:
		if len(b) > 2 {
			i := g.intn(len(b) - 1)
			j := i + 1 + g.intn(min(32, len(b)-i-1))
			b = slices.Insert(b, j, b[i:j]...)
		}
	case 7:
		// Duplicate keys: the last one wins in encoding/json.
		if len(b) > 2 && b[0] == '{' {
			b = append([]byte(`{"itemId":"x","reportId":"y","to":"z",`), b[1:]...)
		}
	case 8:
		b = []byte(`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`)
	default:
		b = []byte(pick(g, []string{"", " ", "null", "[]", "\"s\"", "1", "{", "}", "{}", "{\"\":1}", "\xef\xbb\xbf{}"}))
	}
	return b
}

// cursor returns a forged pagination cursor: base64url of JSON with fields of edge lengths and values,
// or a seen cursor damaged.
func (g *gen) cursor(seen []string) string {
	if len(seen) > 0 && g.chance(0.4) {
		c := pick(g, seen)
		if g.chance(0.5) {
			return string(g.mutateBytes([]byte(c)))
		}
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			return base64.RawURLEncoding.EncodeToString(g.mutateBytes(raw))
		}
	}
	fields := map[string]any{}
	for _, k := range []string{"p", "s", "gp", "gs", "PK", "SK", "GPK", "GSK"} {
		if g.chance(0.7) {
			fields[k] = pick(g, []string{"", g.str(), "REPORT#" + g.str(), "USER#fuzz-citizen", "REDEEMER#fuzz-citizen",
				"QUEUE#municipal#dispatched", "ASSIGN#municipal", "DELIVERY#" + g.str(), "REDEMPTION#" + g.str(), "REPORT"})
		}
	}
	raw, _ := json.Marshal(fields)
	if g.chance(0.2) {
		raw = []byte("LEDGER#" + g.str())
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// pathParam returns a path parameter value, escaped for the URL.
func (g *gen) pathParam(valid []string) string {
	if len(valid) > 0 && g.chance(0.6) {
		return pick(g, valid)
	}
	return escapePath(g.str())
}

// escapePath escapes s as one path segment, keeping some raw separators that a gateway might pass.
func escapePath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
	}
	if b.Len() == 0 {
		return "%20"
	}
	return b.String()
}

// quote writes s as a JSON string, escaping only what JSON requires: unlike json.Marshal it keeps invalid
// UTF-8 as raw bytes (Marshal would send U+FFFD), so the server's reader meets them.
func quote(s string) json.RawMessage {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, fmt.Sprintf("\\u%04x", c)...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// cloneJSON deep-copies a decoded JSON document.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneJSON(e)
		}
		return s
	}
	return v
}
