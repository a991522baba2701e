package volunteer

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestActivityInputCheck(t *testing.T) {
	now := time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)
	start := now.Add(24 * time.Hour)
	valid := func() ActivityInput {
		return ActivityInput{TeamID: "t1", Type: TypeCleanup, Title: "清扫", Start: start, End: start.Add(2 * time.Hour),
			Place: Place{Lat: 23.4, Lng: 103.4, RadiusM: 100}, Capacity: 10}
	}
	poly := json.RawMessage(`{"type":"Polygon","coordinates":[[[103.37,23.39],[103.38,23.39],[103.38,23.40],[103.37,23.39]]]}`)
	cases := []struct {
		name   string
		change func(*ActivityInput)
		ok     bool
	}{
		{"valid", func(*ActivityInput) {}, true},
		{"polygon", func(a *ActivityInput) { a.Place.RadiusM, a.Place.Geometry = 0, poly }, true},
		{"12 hours", func(a *ActivityInput) { a.End = a.Start.Add(MaxWindow) }, true},
		{"52 shifts", func(a *ActivityInput) { a.Recurrence = &Recurrence{EveryDays: 7, Count: MaxOccurrences} }, true},
		{"no team", func(a *ActivityInput) { a.TeamID = "" }, false},
		{"team id with a #", func(a *ActivityInput) { a.TeamID = "a#b" }, false},
		{"unknown type", func(a *ActivityInput) { a.Type = "party" }, false},
		{"empty title", func(a *ActivityInput) { a.Title = "  " }, false},
		{"title of two lines", func(a *ActivityInput) { a.Title = "a\nb" }, false},
		{"title too long", func(a *ActivityInput) { a.Title = strings.Repeat("长", MaxTitle+1) }, false},
		{"end = start", func(a *ActivityInput) { a.End = a.Start }, false},
		{"over 12 hours", func(a *ActivityInput) { a.End = a.Start.Add(MaxWindow + time.Minute) }, false},
		{"started", func(a *ActivityInput) { a.Start, a.End = now, now.Add(time.Hour) }, false},
		{"radius 19", func(a *ActivityInput) { a.Place.RadiusM = MinRadiusM - 1 }, false},
		{"radius 3001", func(a *ActivityInput) { a.Place.RadiusM = MaxRadiusM + 1 }, false},
		{"lat 91", func(a *ActivityInput) { a.Place.Lat = 91 }, false},
		{"radius and polygon", func(a *ActivityInput) { a.Place.Geometry = poly }, false},
		{"capacity 0", func(a *ActivityInput) { a.Capacity = 0 }, false},
		{"capacity 1001", func(a *ActivityInput) { a.Capacity = MaxCapacity + 1 }, false},
		{"53 shifts", func(a *ActivityInput) { a.Recurrence = &Recurrence{EveryDays: 7, Count: MaxOccurrences + 1} }, false},
		{"every 29 days", func(a *ActivityInput) { a.Recurrence = &Recurrence{EveryDays: MaxEveryDays + 1, Count: 2} }, false},
		{"repeated skill", func(a *ActivityInput) { a.Skills = []string{"a", "a"} }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := valid()
			c.change(&in)
			_, err := in.Check(now)
			if (err == nil) != c.ok {
				t.Errorf("Check: %v; want ok=%v", err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "invalid_volunteer_request") {
				t.Errorf("code: %v", err)
			}
		})
	}
}

func TestShifts(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2030, 5, 4, 9, 0, 0, 0, tz)
	in := ActivityInput{TeamID: "t1", Type: TypeShift, Title: "岗", Start: start, End: start.Add(3 * time.Hour), Capacity: 2,
		Recurrence: &Recurrence{EveryDays: 7, Count: 3}}
	n := 0
	acts, err := Shifts(in, "pub", "org", start, tz, func() ([]byte, error) { n++; return make([]byte, SecretBytes), nil })
	if err != nil || len(acts) != 3 || n != 3 {
		t.Fatalf("%d shifts, %d secrets, %v", len(acts), n, err)
	}
	for i, a := range acts {
		if want := start.AddDate(0, 0, 7*i); !a.Start.Equal(want) || a.End.Sub(a.Start) != 3*time.Hour || a.SeriesID != "pub" || a.ID == acts[0].ID && i > 0 {
			t.Errorf("shift %d: %+v", i, a)
		}
	}
	one, _ := Shifts(ActivityInput{Start: start, End: start.Add(time.Hour)}, "pub", "org", start, tz, func() ([]byte, error) { return nil, nil })
	if len(one) != 1 || one[0].ID != "pub" || one[0].SeriesID != "" {
		t.Errorf("one publication: %+v", one)
	}
}

func TestParseListQuery(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct {
		date, near, radius string
		ok                 bool
		radiusKm           float64
	}{
		{"2030-05-04", "", "", true, DefaultRadiusKm},
		{"2030-05-04", "23.39,103.37", "2.5", true, 2.5},
		{"2030-5-4", "", "", false, 0},
		{"2030-05-04", "23.39", "", false, 0},
		{"2030-05-04", "91,103", "", false, 0},
		{"2030-05-04", "23,103", "0", false, 0},
		{"2030-05-04", "23,103", "51", false, 0},
	}
	for _, c := range cases {
		q, err := ParseListQuery(c.date, c.near, c.radius, tz)
		if (err == nil) != c.ok || c.ok && q.RadiusKm != c.radiusKm {
			t.Errorf("%q %q %q: %+v %v", c.date, c.near, c.radius, q, err)
		}
	}
}
