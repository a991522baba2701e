package kpi

import (
	"testing"
	"time"
)

func TestAnswerRates(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name                   string
		answers                []AnswerLine
		want                   AnswerStat
		satisfaction, avg, reo *float64
	}{
		{"none", nil, AnswerStat{}, nil, nil, nil},
		{"only silent", []AnswerLine{{Answer: "auto_confirmed", LeadDept: "a"}}, AnswerStat{Answers: 1}, nil, nil, f(0)},
		{"4 and 5 are satisfied, 3 is not", []AnswerLine{{Answer: "confirmed", Rating: 5, LeadDept: "a"}, {Answer: "confirmed", Rating: 4, LeadDept: "a"}, {Answer: "confirmed", Rating: 3, LeadDept: "b"}},
			AnswerStat{Answers: 3, Rated: 3, Satisfied: 2, RatingSum: 12}, f(0.6667), f(4), f(0)},
		{"a contest is unsatisfied and a reopening", []AnswerLine{{Answer: "confirmed", Rating: 5, LeadDept: "a"}, {Answer: "contested", LeadDept: "a"}, {Answer: "auto_confirmed", LeadDept: "b"}, {Answer: "auto_confirmed", LeadDept: "b"}},
			AnswerStat{Answers: 4, Rated: 1, Satisfied: 1, RatingSum: 5, Contested: 1}, f(0.5), f(5), f(0.25)},
	}
	eq := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day := Compute("2026-11-30", Inputs{Answers: tt.answers}, time.UTC, time.Now())
			if day.Answers != tt.want {
				t.Fatalf("day's answers = %+v, want %+v", day.Answers, tt.want)
			}
			// A range of a day, or of its month (merged), reads the same figures.
			for _, snaps := range [][]Snapshot{{day}, {Merge("2026-11", []Snapshot{day})}} {
				s := Summarize("2026-11-01", "2026-11-30", snaps)
				if s.Answers != tt.want || !eq(s.SatisfactionRate, tt.satisfaction) || !eq(s.AverageRating, tt.avg) || !eq(s.ReopenRate, tt.reo) {
					t.Errorf("summary %s: %+v %v %v %v, want %v %v %v", snaps[0].Date, s.Answers, s.SatisfactionRate, s.AverageRating, s.ReopenRate, tt.satisfaction, tt.avg, tt.reo)
				}
				var sum AnswerStat
				for _, r := range League("2026-11-01", "2026-11-30", snaps, nil, 1) {
					sum.merge(r.Answers)
					if !eq(r.Rates.SatisfactionRate, r.Answers.rates().SatisfactionRate) {
						t.Errorf("%s's rates do not follow its counts: %+v", r.Dept, r)
					}
				}
				if sum != tt.want {
					t.Errorf("departments' answers add up to %+v, want %+v", sum, tt.want)
				}
			}
		})
	}
}
