package kpi

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Extremes of the size test: more departments and categories than Mengzi's 8 and 10, every id as long as
// the API allows (64 characters).
const (
	extremeDepts      = 40
	extremeCategories = 40
)

func longID(prefix string, i int) string { return fmt.Sprintf("%s%0*d", prefix, 64-len(prefix), i) }

// TestSnapshotSizeBound: every snapshot the roll-up writes — a day, a month, a year, the totals — stays
// under the item limit at the extremes: a 50,000-report day whose resolutions span every histogram bucket
// and every creation day a snapshot tells apart, with 50,000 distinct reporters, and 50,000 service records
// of 50,000 volunteers in 2,000 teams with random 64-character ids; and, for the merged periods, every
// bucket and day of every department filled with counts as large as a year of such days, MaxVolunteerTeams
// teams and the volunteers' sketch full.
func TestSnapshotSizeBound(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	date := "2026-11-30"
	ref := time.Date(2026, 11, 30, 12, 0, 0, 0, sh)
	var in Inputs
	for i := range 50_000 {
		dept, cat := longID("d", i%extremeDepts), longID("c", i%extremeCategories)
		in.Created = append(in.Created, Created{ID: longID("r", i), Category: cat, Status: "dispatched", ReporterSub: longID("u", i), LeadDept: dept})
		// Created from a minute to MaxLateDays+10 days before: every bucket, every creation day, and some
		// older than the snapshot tells apart.
		created := ref.Add(-time.Duration(rnd.Int64N(int64((MaxLateDays + 10) * 24 * time.Hour))))
		in.Resolutions = append(in.Resolutions, Resolution{ReportID: longID("r", i), Category: cat, LeadDept: dept,
			CreatedAt: created, ResolvedAt: ref, SLADeadline: created.Add(72 * time.Hour)})
		in.Ledger = append(in.Ledger, LedgerLine{Kind: "award", Delta: 5})
		in.Answers = append(in.Answers, AnswerLine{Answer: []string{"confirmed", "contested", "auto_confirmed"}[i%3], Rating: 1 + i%5, LeadDept: dept})
		in.Redemptions = append(in.Redemptions, RedemptionLine{Kind: []string{"goods", "honor", "charity", "credit"}[i%4], Amount: 10, Status: "reserved"})
	}
	in.Registered = 50_000
	// Volunteers: 50,000 service records of 50,000 distinct volunteers in twice as many teams as a snapshot
	// keeps, each id 64 random hex digits (no compression helps), every activity type.
	teamID := func(i int) string {
		return fmt.Sprintf("%016x%016x%016x%016x", i, rnd.Uint64(), rnd.Uint64(), rnd.Uint64())
	}
	teams := make([]string, 2*MaxVolunteerTeams)
	for i := range teams {
		teams[i] = teamID(i)
	}
	for i := range 50_000 {
		in.Volunteers.Records = append(in.Volunteers.Records, VolunteerRecord{Sub: longID("v", i), Kind: "confirmed", Delta: int64(15 * (1 + i%48)),
			TeamID: teams[i%len(teams)], Type: []string{"cleanup", "weekend_care", "clean_home", "traffic_civility", "shift", "other"}[i%6]})
	}
	in.Volunteers.Registered, in.Volunteers.Verified = 50_000, 50_000
	day := Compute(date, in, sh, ref)
	if n := len(day.Volunteers.ByTeam); n != MaxVolunteerTeams+1 {
		t.Errorf("the day names %d teams, want %d and other", n, MaxVolunteerTeams)
	}
	check := func(name string, s Snapshot) {
		t.Helper()
		b, err := s.Encode()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(b) > MaxEncodedBytes {
			t.Errorf("%s encodes to %d bytes, want ≤ %d", name, len(b), MaxEncodedBytes)
		}
		back, err := DecodeSnapshot(b)
		if err != nil || back.Received != s.Received || back.Durations.Count() != s.Durations.Count() {
			t.Errorf("%s does not read back: %v", name, err)
		}
		t.Logf("%s: %d bytes stored", name, len(b))
	}
	check("a 50,000-report day", day)
	if n := len(day.ResolvedByCreatedDay); n > MaxLateDays+2 {
		t.Errorf("the day tells %d creation days apart, want ≤ %d + older", n, MaxLateDays+1)
	}
	if day.ResolvedByCreatedDay[olderKey] == 0 {
		t.Error("no resolution older than MaxLateDays was folded")
	}

	// Worst case for merged periods: every count of every department's histogram and creation days set.
	fill := func(h *Histogram, m DayCounts, first time.Time, days int) {
		for range ExactDurations + 1 {
			h.Add(1)
		}
		for i := 1; i <= maxBucket; i++ {
			h.addBucket(i, 1+rnd.Int64N(60_000))
		}
		for i := range days {
			m[first.AddDate(0, 0, i).Format(time.DateOnly)] = 1 + rnd.IntN(60_000)
		}
	}
	year := Snapshot{Date: "2026", ResolvedByCreatedDay: DayCounts{}, ByDept: map[string]*DeptStat{}, ByCategory: map[string]*CategoryStat{},
		Redemptions: map[string]Count{"goods": {Count: 1 << 40, Points: 1 << 50}}}
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -MaxLateDays)
	fill(&year.Durations, year.ResolvedByCreatedDay, first, MaxLateDays+365)
	for d := range extremeDepts {
		st := &DeptStat{Assigned: 1 << 30, Resolved: 1 << 30, ResolvedByCreatedDay: DayCounts{}}
		fill(&st.Durations, st.ResolvedByCreatedDay, first, MaxLateDays+365)
		year.ByDept[longID("d", d)] = st
	}
	for c := range extremeCategories {
		year.ByCategory[longID("c", c)] = &CategoryStat{Received: 1 << 30, Resolved: 1 << 30}
	}
	year.Reporters.Merge(day.Reporters)
	year.Volunteers = VolunteerStat{Registered: 1 << 30, Verified: 1 << 30, Minutes: 1 << 50, Confirmations: 1 << 30,
		ByTeam: map[string]int64{}, ByType: map[string]int64{}}
	year.Volunteers.Active.Merge(day.Volunteers.Active)
	for i := range MaxVolunteerTeams {
		year.Volunteers.ByTeam[teamID(i)] = 1 + rnd.Int64N(1<<40)
	}
	year.Volunteers.ByTeam[OtherTeam] = 1 << 40
	for _, ty := range []string{"cleanup", "weekend_care", "clean_home", "traffic_civility", "shift", "other"} {
		year.Volunteers.ByType[ty] = 1 << 40
	}
	// Builders' home (issue 16): a fixed set of counts, every one at its largest.
	big := int64(1 << 50)
	year.Builders = BuildersStat{EmployersVerified: big, JobsPosted: big, PlacesOffered: big, Searches: big, Applications: big, Invitations: big,
		Hires: big, HiresCompleted: big, HiresCancelled: big, Fairs: big, FairEmployers: big, FairCheckins: big, Transfers: big,
		TransferredWorkers: big, Consultations: Consultations{Medical: big, Legal: big}}
	check("a year with every count set", year)
	merged := Merge("2026", []Snapshot{year, day})
	check("that year merged with the day", merged)
	if n := len(merged.Volunteers.ByTeam); n != MaxVolunteerTeams+1 {
		t.Errorf("the merged year names %d teams, want %d and other", n, MaxVolunteerTeams)
	}
	check("the totals of 20 such years", Merge(TotalKey, []Snapshot{year, year, year, year, year, year, year, year, year, year,
		year, year, year, year, year, year, year, year, year, year}))
	if tot := Merge(TotalKey, []Snapshot{year}); len(tot.ByDept) != 0 || len(tot.ByCategory) != 0 || len(tot.ResolvedByCreatedDay) != 1 {
		t.Error("the totals keep breakdowns")
	}
}
