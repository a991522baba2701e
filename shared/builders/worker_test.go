package builders_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func validWorker() builders.WorkerInput {
	return builders.WorkerInput{Name: " 张三 ", Phone: "13800138000", Trades: []string{"bricklayer", "tiler", "bricklayer"},
		Years: 5, Area: builders.Area{Lat: 23.3962, Lng: 103.3756, RadiusKm: 10, Name: "蒙自"},
		Expected: builders.Wage{Min: 200, Unit: builders.UnitDay}, AvailableFrom: "2026-12-01"}
}

func TestWorkerInputCheck(t *testing.T) {
	today := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	got, err := validWorker().Check(today)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "张三" || !slices.Equal(got.Trades, []string{"bricklayer", "tiler"}) || got.Visibility != builders.VisibilityProfile {
		t.Errorf("normalised %+v", got)
	}
	for name, c := range map[string]struct {
		mutate func(*builders.WorkerInput)
		want   error
	}{
		"no name":            {func(in *builders.WorkerInput) { in.Name = "" }, builders.ErrInvalid},
		"bad phone":          {func(in *builders.WorkerInput) { in.Phone = "12" }, builders.ErrInvalid},
		"no trades":          {func(in *builders.WorkerInput) { in.Trades = nil }, builders.ErrInvalid},
		"too many trades":    {func(in *builders.WorkerInput) { in.Trades = []string{"a", "b", "c", "d", "e", "f"} }, builders.ErrInvalid},
		"unknown trade":      {func(in *builders.WorkerInput) { in.Trades = []string{"astronaut"} }, builders.ErrUnknownTrade},
		"negative years":     {func(in *builders.WorkerInput) { in.Years = -1 }, builders.ErrInvalid},
		"too many years":     {func(in *builders.WorkerInput) { in.Years = builders.MaxYears + 1 }, builders.ErrInvalid},
		"lat off the map":    {func(in *builders.WorkerInput) { in.Area.Lat = 91 }, builders.ErrInvalid},
		"NaN":                {func(in *builders.WorkerInput) { in.Area.Lng = math.NaN() }, builders.ErrInvalid},
		"null island":        {func(in *builders.WorkerInput) { in.Area.Lat, in.Area.Lng = 0, 0 }, builders.ErrInvalid},
		"radius 0":           {func(in *builders.WorkerInput) { in.Area.RadiusKm = 0 }, builders.ErrInvalid},
		"radius too far":     {func(in *builders.WorkerInput) { in.Area.RadiusKm = builders.MaxRadiusKm + 1 }, builders.ErrInvalid},
		"no unit":            {func(in *builders.WorkerInput) { in.Expected.Unit = "" }, builders.ErrInvalid},
		"wage 0":             {func(in *builders.WorkerInput) { in.Expected.Min = 0 }, builders.ErrInvalid},
		"max below min":      {func(in *builders.WorkerInput) { in.Expected.Max = 100 }, builders.ErrInvalid},
		"piece, no daily":    {func(in *builders.WorkerInput) { in.Expected.Unit = builders.UnitPiece }, builders.ErrInvalid},
		"not a date":         {func(in *builders.WorkerInput) { in.AvailableFrom = "1 Dec" }, builders.ErrInvalid},
		"too far ahead":      {func(in *builders.WorkerInput) { in.AvailableFrom = "2027-12-02" }, builders.ErrInvalid},
		"unknown visibility": {func(in *builders.WorkerInput) { in.Visibility = "public" }, builders.ErrInvalid},
	} {
		in := validWorker()
		c.mutate(&in)
		if _, err := in.Check(today); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func TestDailyWant(t *testing.T) {
	for _, c := range []struct {
		w    builders.Wage
		want float64
	}{
		{builders.Wage{Min: 200, Unit: builders.UnitDay}, 200},
		{builders.Wage{Min: 4350, Unit: builders.UnitMonth}, 200}, // 4350 / 21.75
		{builders.Wage{Min: 3, Unit: builders.UnitPiece, DailyEstimate: 180}, 180},
	} {
		if got := builders.DailyWant(c.w); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("DailyWant(%+v) = %v, want %v", c.w, got, c.want)
		}
	}
}

func TestMatchEntries(t *testing.T) {
	w := builders.Worker{Sub: "w1", Name: "张三", Phone: "13800138000", Trades: []string{"bricklayer", "tiler"}, Years: 5,
		Area: builders.Area{Lat: 23.4, Lng: 103.4, RadiusKm: 10}, Expected: builders.Wage{Min: 4350, Unit: builders.UnitMonth},
		AvailableFrom: "2026-12-01"}
	for _, c := range []struct {
		visibility string
		names      []string
	}{
		{builders.VisibilityHidden, nil},
		{builders.VisibilityProfile, []string{"张师傅", "张师傅"}},
		{builders.VisibilityFull, []string{"张三", "张三"}},
	} {
		w.Visibility = c.visibility
		es := builders.MatchEntries(w)
		var names []string
		for i, e := range es {
			names = append(names, e.DisplayName)
			if e.Trade != w.Trades[i] || e.Sub != "w1" || e.DailyWant != 200 || e.AvailableFrom != w.AvailableFrom {
				t.Errorf("%s: entry %+v", c.visibility, e)
			}
		}
		if !slices.Equal(names, c.names) {
			t.Errorf("%s: names %v, want %v", c.visibility, names, c.names)
		}
	}
}
