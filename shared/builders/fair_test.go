package builders

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// fairErrCode is the stable error code of err ("" when it has none).
func fairErrCode(err error) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestFairInputCheck(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	start := now.Add(24 * time.Hour)
	good := FairInput{Title: " 春风行动招聘会 ", Start: start, End: start.Add(4 * time.Hour),
		Place:     volunteer.Place{Name: "人力资源市场", Lat: 23.3962, Lng: 103.3756, RadiusM: 200},
		Employers: []string{"e1", "e2"}, Staff: []string{"s1"}, Capacity: 500}
	square := json.RawMessage(`{"type":"Polygon","coordinates":[[[103.37,23.39],[103.38,23.39],[103.38,23.40],[103.37,23.40],[103.37,23.39]]]}`)
	tests := []struct {
		name string
		edit func(*FairInput)
		want string // "" valid, else the error's message fragment
	}{
		{"valid", func(*FairInput) {}, ""},
		{"a polygon", func(in *FairInput) { in.Place.RadiusM, in.Place.Geometry = 0, square }, ""},
		{"ended already", func(in *FairInput) { in.Start, in.End = now.Add(-2*time.Hour), now }, "ended"},
		{"still running may be published", func(in *FairInput) { in.Start = now.Add(-time.Hour) }, ""},
		{"no title", func(in *FairInput) { in.Title = "  " }, "title"},
		{"a title too long", func(in *FairInput) { in.Title = strings.Repeat("会", MaxName+1) }, "title"},
		{"a control character", func(in *FairInput) { in.Title = "a\x07b" }, "control"},
		{"end before start", func(in *FairInput) { in.End = in.Start.Add(-time.Minute) }, "end after start"},
		{"no start", func(in *FairInput) { in.Start = time.Time{} }, "end after start"},
		{"longer than 72 hours", func(in *FairInput) { in.End = in.Start.Add(73 * time.Hour) }, "72 hours"},
		{"no capacity", func(in *FairInput) { in.Capacity = 0 }, "capacity"},
		{"too much capacity", func(in *FairInput) { in.Capacity = MaxFairCapacity + 1 }, "capacity"},
		{"a radius too small", func(in *FairInput) { in.Place.RadiusM = 5 }, "radiusM"},
		{"a radius and a polygon", func(in *FairInput) { in.Place.Geometry = square }, "not both"},
		{"off the globe", func(in *FairInput) { in.Place.Lat = 91 }, "lat"},
		{"an open ring", func(in *FairInput) {
			in.Place.RadiusM = 0
			in.Place.Geometry = json.RawMessage(`{"type":"Polygon","coordinates":[[[103.37,23.39],[103.38,23.39],[103.38,23.40],[103.37,23.40]]]}`)
		}, "closed"},
		{"an employer twice", func(in *FairInput) { in.Employers = []string{"e1", "e1"} }, "twice"},
		{"a bad account id", func(in *FairInput) { in.Staff = []string{"a b"} }, "account id"},
		{"too many staff", func(in *FairInput) { in.Staff = make([]string, MaxStaff+1) }, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			in.Employers, in.Staff = append([]string(nil), good.Employers...), append([]string(nil), good.Staff...)
			tt.edit(&in)
			got, err := in.Check(now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Title != strings.TrimSpace(in.Title) || got.Start.Location() != time.UTC {
					t.Errorf("not normalised: %+v", got)
				}
				return
			}
			if fairErrCode(err) != "invalid_builders_request" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want invalid_builders_request about %q", err, tt.want)
			}
		})
	}
}

func TestCheckinOpen(t *testing.T) {
	start := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	f := Fair{Start: start, End: start.Add(4 * time.Hour)}
	tests := []struct {
		at   time.Duration
		want bool
	}{
		{-61 * time.Minute, false}, {-60 * time.Minute, true}, {0, true}, {4*time.Hour - time.Millisecond, true}, {4 * time.Hour, false},
	}
	for _, tt := range tests {
		if got := checkinOpen(f, start.Add(tt.at)); got != tt.want {
			t.Errorf("start%+v: %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestFairCodeErrors(t *testing.T) {
	secret := []byte("0123456789abcdefghij")
	shown := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	c, err := volunteer.CurrentCode("f1", secret, shown)
	if err != nil {
		t.Fatal(err)
	}
	if qr := FairQR("f1", c.Code); qr != "civicsnap:fair:f1:"+c.Code {
		t.Errorf("qr %q", qr)
	}
	tests := []struct {
		name, code string
		at         time.Time
		want       string
	}{
		{"in its step", c.Code, shown, ""},
		{"the next step", c.Code, shown.Add(time.Minute), ""},
		{"three steps later", c.Code, shown.Add(3 * time.Minute), "code_expired"},
		{"an hour later", c.Code, shown.Add(time.Hour), "code_invalid"},
		{"letters", "12a456", shown, "code_invalid"},
	}
	for _, tt := range tests {
		_, err := volunteer.CheckCode(secret, tt.code, tt.at)
		if got := fairErrCode(codeError(err)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, s := range []struct {
		code string
		ok   bool
	}{{"123456", true}, {"12345", false}, {"1234567", false}, {"１２３４５６", false}, {"", false}} {
		if fairCodeOK(s.code) != s.ok {
			t.Errorf("fairCodeOK(%q) = %v", s.code, !s.ok)
		}
	}
}

func TestTransferInputCheck(t *testing.T) {
	good := TransferInput{Employer: "宁波某电子厂", Destination: "浙江宁波", Trade: "factory", Headcount: 120, Date: "2026-12-08"}
	tests := []struct {
		name string
		edit func(*TransferInput)
		want string
	}{
		{"valid", func(*TransferInput) {}, ""},
		{"no trade", func(in *TransferInput) { in.Trade = "" }, ""},
		{"no employer", func(in *TransferInput) { in.Employer = "" }, "invalid_builders_request"},
		{"no destination", func(in *TransferInput) { in.Destination = " " }, "invalid_builders_request"},
		{"no one", func(in *TransferInput) { in.Headcount = 0 }, "invalid_builders_request"},
		{"too many", func(in *TransferInput) { in.Headcount = MaxTransfer + 1 }, "invalid_builders_request"},
		{"not a date", func(in *TransferInput) { in.Date = "2026-13-01" }, "invalid_builders_request"},
		{"an unknown trade", func(in *TransferInput) { in.Trade = "astronaut" }, "unknown_trade"},
		{"a note too long", func(in *TransferInput) { in.Note = strings.Repeat("x", MaxText+1) }, "invalid_builders_request"},
	}
	for _, tt := range tests {
		in := good
		tt.edit(&in)
		_, err := in.Check()
		if got := fairErrCode(err); got != tt.want || (tt.want == "" && err != nil) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSlotsInputCheck(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	at := now.Add(24 * time.Hour)
	slot := func(start time.Time, minutes, capacity int) SlotInput {
		return SlotInput{Start: start, End: start.Add(time.Duration(minutes) * time.Minute), Capacity: capacity}
	}
	many := make([]SlotInput, MaxSlotsPerCall+1)
	for i := range many {
		many[i] = slot(at.Add(time.Duration(i)*time.Hour), 30, 1)
	}
	tests := []struct {
		name  string
		slots []SlotInput
		ok    bool
	}{
		{"two", []SlotInput{slot(at, 30, 3), slot(at.Add(30*time.Minute), 30, 3)}, true},
		{"a hundred", many[:MaxSlotsPerCall], true},
		{"none", nil, false},
		{"a hundred and one", many, false},
		{"two at one start", []SlotInput{slot(at, 30, 3), slot(at, 60, 3)}, false},
		{"started", []SlotInput{slot(now, 30, 3)}, false},
		{"too far ahead", []SlotInput{slot(now.Add(MaxSlotAhead+time.Hour), 30, 3)}, false},
		{"empty", []SlotInput{slot(at, 0, 3)}, false},
		{"too long", []SlotInput{slot(at, MaxSlotMinutes+1, 3)}, false},
		{"no capacity", []SlotInput{slot(at, 30, 0)}, false},
		{"too much capacity", []SlotInput{slot(at, 30, MaxSlotCapacity+1)}, false},
	}
	for _, tt := range tests {
		got, err := SlotsInput{Slots: tt.slots}.Check("d1", now)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if err != nil && fairErrCode(err) != "invalid_builders_request" {
			t.Errorf("%s: code %q", tt.name, fairErrCode(err))
		}
		for i, sl := range got {
			if start, ok := SlotStart(sl.ID); !ok || !start.Equal(tt.slots[i].Start) || sl.DeskID != "d1" || sl.Status != "open" {
				t.Errorf("%s: slot %d is %+v", tt.name, i, sl)
			}
		}
	}
	for _, id := range []string{"", "x", "20261202T010000", "20261202T010000Z0", "20261302T010000Z"} {
		if _, ok := SlotStart(id); ok {
			t.Errorf("SlotStart(%q) took it", id)
		}
	}
}

func TestLostRace(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a failed condition", ErrChanged, true},
		{"a transaction conflict", apperr.ErrContention.Wrap(errors.New("TransactionConflict")), true},
		{"a conflict whose outcome is unknown", errors.Join(apperr.ErrContention, apperr.ErrOutcomeUnknown), false},
		{"throttled", apperr.ErrThrottled, false},
		{"another error", ErrNotRegistered, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		if got := lostRace(tt.err); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
