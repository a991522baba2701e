package kpi

import (
	"cmp"
	"slices"
)

// Summary is a range's figures.
type Summary struct {
	From               string           `json:"from"`
	To                 string           `json:"to"`
	Received           int              `json:"received"`
	Duplicates         int              `json:"duplicates"`
	Invalid            int              `json:"invalid"`
	Resolved           int              `json:"resolved"`
	ResolvedOfReceived int              `json:"resolvedOfReceived"`
	CompletionRate     *float64         `json:"completionRate"`
	OnTime             int              `json:"onTime"`
	OnTimeRate         *float64         `json:"onTimeRate"`
	MedianHours        *float64         `json:"medianHours"`
	P90Hours           *float64         `json:"p90Hours"`
	PointsIssued       int64            `json:"pointsIssued"`
	PointsRedeemed     int64            `json:"pointsRedeemed"`
	PointsReversed     int64            `json:"pointsReversed"`
	Redemptions        map[string]Count `json:"redemptions"`
	RegisteredUsers    int              `json:"registeredUsers"`
	ActiveReporters    int              `json:"activeReporters"`
	MeToos             int              `json:"meToos"`           // citizens' "me too"s added in the window
	CitizensAffected   int              `json:"citizensAffected"` // received + meToos
	ByCategory         []CategoryRow    `json:"byCategory"`
	// Reporters' answers to resolutions in the range (answers.go): counts and rates.
	Answers AnswerStat `json:"answers"`
	Rates
	// Volunteer service in the range (volunteer.go), with the running totals.
	Volunteers VolunteerSummary `json:"volunteers"`
	// Builders' home in the range (builders.go), with the running totals.
	Builders BuildersSummary `json:"builders"`
}

// CategoryRow is a category's range.
type CategoryRow struct {
	Category string `json:"category"`
	Received int    `json:"received"`
	Resolved int    `json:"resolved"`
}

// inRange reports whether date lies in [from, to].
func inRange(date, from, to string) bool { return date >= from && date <= to }

// covered reports whether the whole period of a snapshot (a day, month or year) lies in [from, to].
func covered(sn Snapshot, from, to string) bool {
	first, last := sn.Period()
	return first >= from && last <= to
}

// Summarize sums the snapshots whose periods lie in [from, to] (days, months, years: they must not
// overlap). snaps may also hold periods after to (up to today): their resolutions of reports received in
// the range count toward the completion rate.
func Summarize(from, to string, snaps []Snapshot) Summary {
	s := Summary{From: from, To: to, Redemptions: map[string]Count{}}
	cats := map[string]*CategoryRow{}
	var reporters Distinct
	var durations Histogram
	var volunteers VolunteerStat
	for _, sn := range snaps {
		for created, n := range sn.ResolvedByCreatedDay {
			if inRange(created, from, to) {
				s.ResolvedOfReceived += n
			}
		}
		if !covered(sn, from, to) {
			continue
		}
		s.Received += sn.Received
		s.MeToos += sn.MeToos
		s.Duplicates += sn.Duplicates
		s.Invalid += sn.Invalid
		s.Resolved += sn.Resolved
		s.OnTime += sn.OnTime
		durations.Merge(sn.Durations)
		s.PointsIssued += sn.PointsIssued
		s.PointsRedeemed += sn.PointsRedeemed
		s.PointsReversed += sn.PointsReversed
		s.RegisteredUsers += sn.Registered
		for k, c := range sn.Redemptions {
			t := s.Redemptions[k]
			t.Count += c.Count
			t.Points += c.Points
			s.Redemptions[k] = t
		}
		reporters.Merge(sn.Reporters)
		s.Answers.merge(sn.Answers)
		volunteers.merge(sn.Volunteers, true)
		s.Builders.merge(sn.Builders)
		for c, st := range sn.ByCategory {
			row := cats[c]
			if row == nil {
				row = &CategoryRow{Category: c}
				cats[c] = row
			}
			row.Received += st.Received
			row.Resolved += st.Resolved
		}
	}
	s.ActiveReporters = reporters.Count()
	s.CitizensAffected = s.Received + s.MeToos
	s.CompletionRate = ratio(s.ResolvedOfReceived, s.Received-s.Duplicates-s.Invalid)
	s.OnTimeRate = ratio(s.OnTime, s.Resolved)
	s.MedianHours, s.P90Hours = percentile(durations, 50), percentile(durations, 90)
	s.Rates = s.Answers.rates()
	s.Volunteers = summarizeVolunteers(volunteers)
	for _, row := range cats {
		s.ByCategory = append(s.ByCategory, *row)
	}
	slices.SortFunc(s.ByCategory, func(a, b CategoryRow) int {
		return cmp.Or(cmp.Compare(b.Received, a.Received), cmp.Compare(a.Category, b.Category))
	})
	if s.ByCategory == nil {
		s.ByCategory = []CategoryRow{}
	}
	return s
}

// DayRow is one day of the time series.
type DayRow struct {
	Date               string   `json:"date"`
	Received           int      `json:"received"`
	Resolved           int      `json:"resolved"`
	Duplicates         int      `json:"duplicates"`
	Invalid            int      `json:"invalid"`
	ResolvedOfReceived int      `json:"resolvedOfReceived"`
	CompletionRate     *float64 `json:"completionRate"`
	PointsIssued       int64    `json:"pointsIssued"`
	PointsRedeemed     int64    `json:"pointsRedeemed"`
}

// Daily is the time series of [from, to]; days without a snapshot are zeros. snaps may extend past to, as
// days, months or years.
func Daily(days []string, snaps []Snapshot) []DayRow {
	by := map[string]Snapshot{}
	resolvedOf := map[string]int{}
	for _, sn := range snaps {
		if first, last := sn.Period(); first == last {
			by[sn.Date] = sn
		}
		for created, n := range sn.ResolvedByCreatedDay {
			resolvedOf[created] += n
		}
	}
	rows := make([]DayRow, len(days))
	for i, d := range days {
		sn := by[d]
		rows[i] = DayRow{Date: d, Received: sn.Received, Resolved: sn.Resolved, Duplicates: sn.Duplicates, Invalid: sn.Invalid,
			ResolvedOfReceived: resolvedOf[d], PointsIssued: sn.PointsIssued, PointsRedeemed: sn.PointsRedeemed,
			CompletionRate: ratio(resolvedOf[d], sn.Received-sn.Duplicates-sn.Invalid)}
	}
	return rows
}

// DeptRow is a department's line in the league table.
type DeptRow struct {
	Dept           string   `json:"dept"`
	NameZH         string   `json:"nameZh"`
	NameEN         string   `json:"nameEn"`
	Assigned       int      `json:"assigned"`
	Resolved       int      `json:"resolved"`
	OnTime         int      `json:"onTime"`
	OnTimeRate     *float64 `json:"onTimeRate"`
	CompletionRate *float64 `json:"completionRate"`
	MedianHours    *float64 `json:"medianHours"`
	Rank           *int     `json:"rank"`
	// Reporters' answers to the department's resolutions (answers.go).
	Answers AnswerStat `json:"answers"`
	Rates
}

// League ranks departments over [from, to] by completion rate, then on-time rate, then median hours.
// Departments with fewer than minCases assigned cases are listed after the ranked ones, unranked: a rate
// over three cases says little.
func League(from, to string, snaps []Snapshot, names map[string][2]string, minCases int) []DeptRow {
	type acc struct {
		row       DeptRow
		resolvedR int
		durations Histogram
	}
	rows := map[string]*acc{}
	get := func(d string) *acc {
		if rows[d] == nil {
			n := names[d]
			rows[d] = &acc{row: DeptRow{Dept: d, NameZH: n[0], NameEN: n[1]}}
		}
		return rows[d]
	}
	for _, sn := range snaps {
		for d, st := range sn.ByDept {
			a := get(d)
			for created, n := range st.ResolvedByCreatedDay {
				if inRange(created, from, to) {
					a.resolvedR += n
				}
			}
			if !covered(sn, from, to) {
				continue
			}
			a.row.Assigned += st.Assigned
			a.row.Resolved += st.Resolved
			a.row.OnTime += st.OnTime
			a.row.Answers.merge(st.Answers)
			a.durations.Merge(st.Durations)
		}
	}
	var ranked, unranked []DeptRow
	for _, a := range rows {
		r := a.row
		r.OnTimeRate = ratio(r.OnTime, r.Resolved)
		r.CompletionRate = ratio(a.resolvedR, r.Assigned)
		r.MedianHours = percentile(a.durations, 50)
		r.Rates = r.Answers.rates()
		if r.Assigned >= minCases && r.Assigned > 0 {
			ranked = append(ranked, r)
		} else {
			unranked = append(unranked, r)
		}
	}
	val := func(p *float64, def float64) float64 {
		if p == nil {
			return def
		}
		return *p
	}
	slices.SortFunc(ranked, func(a, b DeptRow) int {
		return cmp.Or(
			cmp.Compare(val(b.CompletionRate, -1), val(a.CompletionRate, -1)),
			cmp.Compare(val(b.OnTimeRate, -1), val(a.OnTimeRate, -1)),
			cmp.Compare(val(a.MedianHours, 1e9), val(b.MedianHours, 1e9)),
			cmp.Compare(a.Dept, b.Dept))
	})
	for i := range ranked {
		n := i + 1
		ranked[i].Rank = &n
	}
	slices.SortFunc(unranked, func(a, b DeptRow) int { return cmp.Compare(a.Dept, b.Dept) })
	return append(ranked, unranked...)
}
