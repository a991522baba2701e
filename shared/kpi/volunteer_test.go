package kpi

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

func confirmed(sub, team, typ string, delta int64) VolunteerRecord {
	return VolunteerRecord{Sub: sub, Kind: volunteer.RecordConfirmed, Delta: delta, TeamID: team, Type: typ}
}

func revoked(sub, team, typ string, delta int64) VolunteerRecord {
	return VolunteerRecord{Sub: sub, Kind: volunteer.RecordRevoked, Delta: delta, TeamID: team, Type: typ}
}

// TestVolunteerDay: one day's figures from its items.
func TestVolunteerDay(t *testing.T) {
	tests := []struct {
		name   string
		in     VolunteerInputs
		want   VolunteerStat
		active int
	}{
		{name: "nothing", want: VolunteerStat{ByTeam: map[string]int64{}, ByType: map[string]int64{}}},
		{name: "registrations and verifications only", in: VolunteerInputs{Registered: 7, Verified: 3},
			want: VolunteerStat{Registered: 7, Verified: 3, ByTeam: map[string]int64{}, ByType: map[string]int64{}}},
		{name: "two confirmations of one volunteer count one active", in: VolunteerInputs{Records: []VolunteerRecord{
			confirmed("u1", "t1", volunteer.TypeCleanup, 120), confirmed("u1", "t2", volunteer.TypeShift, 45)}},
			want: VolunteerStat{Minutes: 165, Confirmations: 2, ByTeam: map[string]int64{"t1": 120, "t2": 45},
				ByType: map[string]int64{volunteer.TypeCleanup: 120, volunteer.TypeShift: 45}}, active: 1},
		{name: "a changed confirmation adds its delta", in: VolunteerInputs{Records: []VolunteerRecord{
			confirmed("u1", "t1", volunteer.TypeCleanup, 120), confirmed("u1", "t1", volunteer.TypeCleanup, -30)}},
			want: VolunteerStat{Minutes: 90, Confirmations: 2, ByTeam: map[string]int64{"t1": 90},
				ByType: map[string]int64{volunteer.TypeCleanup: 90}}, active: 1},
		{name: "a revocation takes minutes back and is no activity", in: VolunteerInputs{Records: []VolunteerRecord{
			confirmed("u1", "t1", volunteer.TypeWeekendCare, 60), revoked("u2", "t1", volunteer.TypeWeekendCare, -90)}},
			want: VolunteerStat{Minutes: -30, Confirmations: 1, Revocations: 1, ByTeam: map[string]int64{"t1": -30},
				ByType: map[string]int64{volunteer.TypeWeekendCare: -30}}, active: 1},
		{name: "an unknown type counts as other, a record without a team under other", in: VolunteerInputs{Records: []VolunteerRecord{
			confirmed("u1", "", "juggling", 15), confirmed("u2", "t1", volunteer.TypeTrafficCivility, 30)}},
			want: VolunteerStat{Minutes: 45, Confirmations: 2, ByTeam: map[string]int64{OtherTeam: 15, "t1": 30},
				ByType: map[string]int64{volunteer.TypeOther: 15, volunteer.TypeTrafficCivility: 30}}, active: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute("2026-11-30", Inputs{Volunteers: tt.in}, sh, at(30, 1, 0)).Volunteers
			if n := got.Active.Count(); n != tt.active {
				t.Errorf("active = %d, want %d", n, tt.active)
			}
			got.Active = Distinct{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBoundTeams(t *testing.T) {
	tests := []struct {
		name  string
		teams map[string]int64
		n     int
		want  map[string]int64
	}{
		{"under the bound: as it is", map[string]int64{"a": 1, "b": 2}, 2, map[string]int64{"a": 1, "b": 2}},
		{"other does not count toward the bound", map[string]int64{"a": 1, "b": 2, OtherTeam: 5}, 2, map[string]int64{"a": 1, "b": 2, OtherTeam: 5}},
		{"the most minutes stay, the rest join other", map[string]int64{"a": 1, "b": 20, "c": 30, "d": 4, OtherTeam: 5}, 2,
			map[string]int64{"b": 20, "c": 30, OtherTeam: 10}},
		{"ties by id", map[string]int64{"b": 5, "a": 5, "c": 5}, 2, map[string]int64{"a": 5, "b": 5, OtherTeam: 5}},
		{"a negative line is the smallest", map[string]int64{"a": -60, "b": 0, "c": 15}, 1, map[string]int64{"c": 15, OtherTeam: -60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := boundTeams(tt.teams, tt.n); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestVolunteerRange: a range's summary is the same from its days as from their month, the running
// totals keep the counts and no breakdown, and the summary names the top 10 teams and sums the rest.
func TestVolunteerRange(t *testing.T) {
	var days []Snapshot
	for d := 1; d <= 30; d++ {
		in := VolunteerInputs{Registered: d, Verified: d / 2}
		for i := range 12 {
			team := fmt.Sprintf("team-%02d", (d+i)%14)
			in.Records = append(in.Records, confirmed(fmt.Sprintf("u%d", (d*7+i)%40), team, volunteer.Types()[i%6], int64(15*(1+i%8))))
		}
		if d%5 == 0 {
			in.Records = append(in.Records, revoked("u1", "team-00", volunteer.TypeCleanup, -60))
		}
		days = append(days, Compute(fmt.Sprintf("2026-11-%02d", d), Inputs{Volunteers: in}, sh, at(d, 23, 0)))
	}
	month := Merge("2026-11", days)
	fromDays := Summarize("2026-11-01", "2026-11-30", days)
	fromMonth := Summarize("2026-11-01", "2026-11-30", []Snapshot{month})
	if asJSON(fromDays.Volunteers) != asJSON(fromMonth.Volunteers) {
		t.Errorf("from the days %+v\nfrom the month %+v", fromDays.Volunteers, fromMonth.Volunteers)
	}
	v := fromDays.Volunteers
	var minutes, confirmations int64
	for _, d := range days {
		minutes += d.Volunteers.Minutes
		confirmations += int64(d.Volunteers.Confirmations)
	}
	if v.Registered != 465 || v.Verified != 225 || v.Minutes != minutes || int64(v.Confirmations) != confirmations || v.Revocations != 6 || v.Active != 40 {
		t.Errorf("summary %+v (minutes %d, confirmations %d)", v, minutes, confirmations)
	}
	if v.Hours != hours(minutes) {
		t.Errorf("hours %v, want %v", v.Hours, hours(minutes))
	}
	if len(v.ByTeam) != TopVolunteerTeams+1 || v.ByTeam[TopVolunteerTeams].Key != OtherTeam {
		t.Fatalf("by team %+v: want the top %d and other", v.ByTeam, TopVolunteerTeams)
	}
	var teamSum, typeSum int64
	for i, r := range v.ByTeam {
		teamSum += r.Minutes
		if i > 0 && i < TopVolunteerTeams && r.Minutes > v.ByTeam[i-1].Minutes {
			t.Errorf("by team out of order at %d: %+v", i, v.ByTeam)
		}
	}
	for _, r := range v.ByType {
		typeSum += r.Minutes
	}
	if teamSum != minutes || typeSum != minutes || len(v.ByType) != len(volunteer.Types()) {
		t.Errorf("teams sum to %d, types to %d (%d types), want %d", teamSum, typeSum, len(v.ByType), minutes)
	}

	total := Merge(TotalKey, []Snapshot{Merge("2026", []Snapshot{month})})
	if total.Volunteers.ByTeam != nil || total.Volunteers.ByType != nil {
		t.Error("the running totals keep breakdowns")
	}
	var s VolunteerSummary
	s.withTotals(total.Volunteers)
	if s.RegisteredTotal != 465 || s.VerifiedTotal != 225 || s.HoursTotal != hours(minutes) {
		t.Errorf("totals %+v", s)
	}
}

func TestHours(t *testing.T) {
	for _, tt := range []struct {
		minutes int64
		want    float64
	}{{0, 0}, {15, 0.3}, {30, 0.5}, {45, 0.8}, {60, 1}, {135, 2.3}, {-90, -1.5}, {648000, 10800}} {
		if got := hours(tt.minutes); got != tt.want {
			t.Errorf("hours(%d) = %v, want %v", tt.minutes, got, tt.want)
		}
	}
}

// TestVolunteerTeamsBoundedInMerge: a month whose days name more teams than a snapshot keeps still names
// MaxVolunteerTeams of them, the rest under other, its total exact.
func TestVolunteerTeamsBoundedInMerge(t *testing.T) {
	var days []Snapshot
	var want int64
	for d := range 3 {
		var in VolunteerInputs
		for i := range MaxVolunteerTeams {
			m := int64(15 * (1 + (i+d)%40))
			want += m
			in.Records = append(in.Records, confirmed("u", fmt.Sprintf("d%d-t%04d", d, i), volunteer.TypeShift, m))
		}
		days = append(days, Compute(time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), Inputs{Volunteers: in}, sh, at(5, 0, 0)))
	}
	m := Merge("2026-11", days)
	var sum int64
	for _, n := range m.Volunteers.ByTeam {
		sum += n
	}
	if len(m.Volunteers.ByTeam) != MaxVolunteerTeams+1 || sum != want || m.Volunteers.Minutes != want {
		t.Errorf("month names %d teams summing to %d (minutes %d), want %d + other summing to %d", len(m.Volunteers.ByTeam), sum, m.Volunteers.Minutes, MaxVolunteerTeams, want)
	}
}

// TestVolunteerSummaryFromTheService: the KPI API's summary carries the range's volunteer figures, the
// running totals (every day so far, not only the range) and the named teams' names.
func TestVolunteerSummaryFromTheService(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, sh)
	st := newMemStore()
	svc := NewService(st, noDir{}, sh, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)), 5, "2026-01-01")
	for d := 1; d <= 29; d++ {
		in := VolunteerInputs{Registered: 2, Verified: 1, Records: []VolunteerRecord{confirmed(fmt.Sprint("u", d%3), "t1", volunteer.TypeCleanup, 60)}}
		if d > 20 {
			in.Records = append(in.Records, confirmed("u9", "t2", volunteer.TypeShift, 30))
		}
		if err := st.PutSnapshot(ctx, Compute(fmt.Sprintf("2026-11-%02d", d), Inputs{Volunteers: in}, sh, now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Remerge(ctx, "2026-11-01", "2026-11-29"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Summary(ctx, "2026-11-21", "2026-11-29")
	if err != nil {
		t.Fatal(err)
	}
	v := got.Volunteers
	want := VolunteerSummary{Registered: 18, RegisteredTotal: 58, Verified: 9, VerifiedTotal: 29, Active: 4, Confirmations: 18,
		Minutes: 9*60 + 9*30, Hours: 13.5, HoursTotal: 33.5,
		ByTeam: []HoursRow{{Key: "t1", Name: "team t1", Minutes: 540, Hours: 9}, {Key: "t2", Name: "team t2", Minutes: 270, Hours: 4.5}},
		ByType: []HoursRow{{Key: volunteer.TypeCleanup, Minutes: 540, Hours: 9}, {Key: volunteer.TypeShift, Minutes: 270, Hours: 4.5}}}
	if asJSON(v) != asJSON(want) {
		t.Errorf("volunteers %s\nwant %s", asJSON(v), asJSON(want))
	}
}
