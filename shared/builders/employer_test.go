package builders_test

import (
	"errors"
	"testing"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func TestValidLicence(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"91440300708461136T", true},  // a real business's code
		{"91350100M000100Y43", true},  // GB 32100-2015's example
		{"91310000132200821H", true},  // a real business's code
		{"91440300708461136U", false}, // the wrong check character
		{"91440300708461136", false},  // 17 characters
		{"91440300708461136TT", false},
		{"9144030070846113IT", false}, // I is not in the alphabet
		{"91440300708461136t", false}, // capitals only (EmployerInput.Check upper-cases first)
		{"", false},
		{"９1440300708461136T", false}, // a full-width digit
	} {
		if got := builders.ValidLicence(c.in); got != c.want {
			t.Errorf("ValidLicence(%q) = %t, want %t", c.in, got, c.want)
		}
	}
}

func TestValidPhone(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"13800138000", true}, {"0873-3712345", true}, {"+86 138 0013 8000", true},
		{"1234", false}, {"12+345678", false}, {"138001380001380013800", false}, {"phone 12345", false}, {"+-- -", false},
	} {
		if got := builders.ValidPhone(c.in); got != c.want {
			t.Errorf("ValidPhone(%q) = %t, want %t", c.in, got, c.want)
		}
	}
}

func TestEmployerInputCheck(t *testing.T) {
	valid := func() builders.EmployerInput {
		return builders.EmployerInput{Name: " 蒙自建筑公司 ", Licence: " 91440300708461136t ",
			Contact: builders.Contact{Name: "李经理", Phone: "0873-3712345"}, Address: "天马路 1 号"}
	}
	got, err := valid().Check()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "蒙自建筑公司" || got.Licence != "91440300708461136T" {
		t.Errorf("normalised %+v", got)
	}
	long := string(make([]rune, builders.MaxName+1))
	for name, mutate := range map[string]func(*builders.EmployerInput){
		"no name":          func(in *builders.EmployerInput) { in.Name = "  " },
		"long name":        func(in *builders.EmployerInput) { in.Name = long },
		"control in name":  func(in *builders.EmployerInput) { in.Name = "a\nb" },
		"bad check":        func(in *builders.EmployerInput) { in.Licence = "91440300708461136U" },
		"short licence":    func(in *builders.EmployerInput) { in.Licence = "9144030070846113" },
		"no contact name":  func(in *builders.EmployerInput) { in.Contact.Name = "" },
		"bad phone":        func(in *builders.EmployerInput) { in.Contact.Phone = "call me" },
		"address too long": func(in *builders.EmployerInput) { in.Address = string(make([]byte, builders.MaxText+1)) },
	} {
		in := valid()
		mutate(&in)
		if _, err := in.Check(); !errors.Is(err, builders.ErrInvalid) {
			t.Errorf("%s: got %v, want invalid_builders_request", name, err)
		}
	}
}

func TestReasonInputCheck(t *testing.T) {
	if r, err := (builders.ReasonInput{Reason: " 拖欠工资 "}).Check(); err != nil || r.Reason != "拖欠工资" {
		t.Errorf("got %q %v", r.Reason, err)
	}
	for _, in := range []string{"", "   ", string(make([]rune, builders.MaxText+1))} {
		if _, err := (builders.ReasonInput{Reason: in}).Check(); !errors.Is(err, builders.ErrInvalid) {
			t.Errorf("reason of %d characters: got %v", len(in), err)
		}
	}
}

func TestSettingsInputCheck(t *testing.T) {
	for _, c := range []struct {
		mw builders.MinimumWage
		ok bool
	}{
		{builders.MinimumWage{Month: 1990, Day: 92}, true},
		{builders.MinimumWage{Month: 0, Day: 92}, false},
		{builders.MinimumWage{Month: 1990, Day: 0}, false},
		{builders.MinimumWage{Month: builders.MaxMinimumMonth + 1, Day: 92}, false},
		{builders.MinimumWage{Month: 1990, Day: builders.MaxMinimumDay + 1}, false},
		{builders.MinimumWage{Month: -1, Day: -1}, false},
	} {
		err := builders.SettingsInput{MinimumWage: c.mw}.Check()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, builders.ErrInvalid)) {
			t.Errorf("%+v: got %v, want ok=%t", c.mw, err, c.ok)
		}
	}
}
