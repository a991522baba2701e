package pump

import (
	"strings"
	"testing"
	"time"
)

func TestParseExpressionNext(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr  string
		tz    string
		after string
		want  string // "" means never
	}{
		{"rate(1 minute)", "", "2026-03-14T01:02:03Z", "2026-03-14T01:03:03Z"},
		{"rate(15 minutes)", "", "2026-03-14T01:02:03Z", "2026-03-14T01:17:03Z"},
		{"rate(2 hours)", "", "2026-03-14T01:02:03Z", "2026-03-14T03:02:03Z"},
		{"rate(1 day)", "", "2026-03-14T01:02:03Z", "2026-03-15T01:02:03Z"},
		{"rate( 3 days )", "", "2026-03-14T01:02:03Z", "2026-03-17T01:02:03Z"},
		{"cron(0 12 * * ? *)", "", "2026-03-14T01:02:03Z", "2026-03-14T12:00:00Z"},
		{"cron(0 12 * * ? *)", "", "2026-03-14T12:00:00Z", "2026-03-15T12:00:00Z"},
		{"cron(0/15 * * * ? *)", "", "2026-03-14T10:07:00Z", "2026-03-14T10:15:00Z"},
		{"cron(0/15 * * * ? *)", "", "2026-03-14T10:45:00Z", "2026-03-14T11:00:00Z"},
		{"cron(5,35 8-9 * * ? *)", "", "2026-03-14T08:40:00Z", "2026-03-14T09:05:00Z"},
		{"cron(0 8 1 * ? *)", "", "2026-03-14T00:00:00Z", "2026-04-01T08:00:00Z"},
		{"cron(0 18 ? * MON-FRI *)", "", "2026-03-13T19:00:00Z", "2026-03-16T18:00:00Z"},
		{"cron(15 10 ? * 6L 2026)", "", "2026-03-01T00:00:00Z", "2026-03-27T10:15:00Z"},
		{"cron(0 10 ? * 2#1 *)", "", "2026-03-14T00:00:00Z", "2026-04-06T10:00:00Z"},
		{"cron(0 10 ? * L *)", "", "2026-03-14T00:00:00Z", "2026-03-28T10:00:00Z"},
		{"cron(0 10 L * ? *)", "", "2026-02-01T00:00:00Z", "2026-02-28T10:00:00Z"},
		{"cron(0 10 LW * ? *)", "", "2026-02-01T00:00:00Z", "2026-02-27T10:00:00Z"},
		{"cron(0 10 LW * ? *)", "", "2026-05-01T00:00:00Z", "2026-05-29T10:00:00Z"},
		{"cron(0 10 15W * ? *)", "", "2026-08-01T00:00:00Z", "2026-08-14T10:00:00Z"},
		{"cron(0 10 1W * ? *)", "", "2026-07-31T12:00:00Z", "2026-08-03T10:00:00Z"},
		{"cron(0 0 1 JAN ? 2030)", "", "2026-03-14T00:00:00Z", "2030-01-01T00:00:00Z"},
		{"cron(0 0 1 jan,jul ? *)", "", "2026-03-14T00:00:00Z", "2026-07-01T00:00:00Z"},
		{"cron(0 0 1 1 ? 2020)", "", "2026-03-14T00:00:00Z", ""},
		{"cron(0 9 31 2 ? *)", "", "2026-03-14T00:00:00Z", ""},
		// 02:00 in Shanghai (UTC+8) is 18:00 UTC the day before.
		{"cron(0 2 * * ? *)", "Asia/Shanghai", "2026-03-14T01:02:03Z", "2026-03-14T18:00:00Z"},
		{"at(2030-01-01T08:00:00)", "", "2026-03-14T00:00:00Z", "2030-01-01T08:00:00Z"},
		{"at(2030-01-01T08:00:00)", "Asia/Shanghai", "2026-03-14T00:00:00Z", "2030-01-01T00:00:00Z"},
		{"at(2020-01-01T08:00:00)", "", "2026-03-14T00:00:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" "+tt.tz+" after "+tt.after, func(t *testing.T) {
			loc := time.UTC
			if tt.tz != "" {
				var err error
				if loc, err = time.LoadLocation(tt.tz); err != nil {
					t.Skipf("no time zone data: %v", err)
				}
			}
			timing, err := parseExpression(tt.expr, loc)
			if err != nil {
				t.Fatal(err)
			}
			got := timing.next(utc(tt.after))
			switch {
			case tt.want == "" && !got.IsZero():
				t.Errorf("next = %v, want never", got)
			case tt.want != "" && !got.Equal(utc(tt.want)):
				t.Errorf("next = %v, want %s", got.UTC(), tt.want)
			}
		})
	}
}

func TestParseExpressionErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{"", "want rate(...), cron(...) or at(...)"},
		{"every(5 minutes)", "want rate(...), cron(...) or at(...)"},
		{"rate(5 minutes", "want rate(...), cron(...) or at(...)"},
		{"rate(5)", "want rate(value unit)"},
		{"rate(0 minutes)", "positive integer"},
		{"rate(x minutes)", "positive integer"},
		{"rate(1 minutes)", "singular for 1"},
		{"rate(5 minute)", "singular for 1"},
		{"rate(2 weeks)", "want minutes, hours or days"},
		{"cron(0 12 * * *)", "want 6 fields"},
		{"cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"},
		{"cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week"},
		{"cron(60 12 * * ? *)", "minutes"},
		{"cron(0 24 * * ? *)", "hours"},
		{"cron(0 12 32 * ? *)", "day-of-month"},
		{"cron(0 12 ? 13 * *)", "month"},
		{"cron(0 12 ? * 8 *)", "day-of-week"},
		{"cron(0 12 ? * 2#6 *)", "day-of-week"},
		{"cron(0 12 ? * XL *)", "day-of-week"},
		{"cron(0 12 40W * ? *)", "day-of-month"},
		{"cron(*/0 12 * * ? *)", "bad step"},
		{"cron(5-1 12 * * ? *)", "range ends before it starts"},
		{"cron(0 12 * * ? 1969)", "year"},
		{"at(2026-13-01T00:00:00)", "want at(yyyy-mm-ddThh:mm:ss)"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := parseExpression(tt.expr, time.UTC)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseExpression(%q) = %v, want an error containing %q", tt.expr, err, tt.want)
			}
		})
	}
}
