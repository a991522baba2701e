package report_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/civicsnap/civicsnap/shared/report"
)

func TestOpen311IDs(t *testing.T) {
	v7 := "0196d4a2-8c1f-7e5b-9c3d-aa11bb22cc33"
	id := report.NewOpen311ID(v7)
	if id != "0196d4a2-8c1f-8e5b-9c3d-aa11bb22cc33" {
		t.Fatalf("NewOpen311ID(%s) = %s", v7, id)
	}
	cases := []struct {
		id   string
		want bool
	}{
		{id, true},
		{v7, false}, // a citizen's report
		{"0196d4a2-8c1f-4e5b-9c3d-aa11bb22cc33", false}, // a v4 fallback id
		{"0196d4a2-8c1f-8e5b-9c3d-aa11bb22cc3", false},  // short
		{"0196D4A2-8C1F-8E5B-9C3D-AA11BB22CC33", false}, // not the shape ids have
		{"", false},
	}
	for _, tc := range cases {
		if got := report.IsOpen311ID(tc.id); got != tc.want {
			t.Errorf("IsOpen311ID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func streetLight() report.Category {
	return report.Category{Code: "street_light", Active: true, Attributes: []report.Attribute{
		{Code: "fault", Datatype: report.TypeSingle, Required: true, Description: "故障 Fault", Order: 2,
			Values: []report.AttributeValue{{Key: "dark", Name: "不亮 Not lit"}, {Key: "damaged", Name: "损坏 Damaged"}}},
		{Code: "pole_number", Datatype: report.TypeString, Description: "灯杆编号 Pole number", Order: 1},
		{Code: "height_m", Datatype: report.TypeNumber, Order: 3},
		{Code: "seen_at", Datatype: report.TypeDatetime, Description: "Seen", Order: 4},
		{Code: "parts", Datatype: report.TypeMulti, Description: "Parts", Order: 5,
			Values: []report.AttributeValue{{Key: "lamp", Name: "Lamp"}, {Key: "pole", Name: "Pole"}}},
	}}
}

func TestAttributeLines(t *testing.T) {
	cases := []struct {
		name   string
		posted map[string][]string
		want   string
		err    bool
	}{
		{"required only", map[string][]string{"fault": {"dark"}}, "故障 Fault: 不亮 Not lit", false},
		{"in the definition's order, a code for a label when there is no description",
			map[string][]string{"fault": {"damaged"}, "pole_number": {" MZ-0421 "}, "height_m": {"7.5"}},
			"灯杆编号 Pole number: MZ-0421\n故障 Fault: 损坏 Damaged\nheight_m: 7.5", false},
		{"a multi-valued list repeats its key", map[string][]string{"fault": {"dark"}, "parts": {"lamp", "pole"}},
			"故障 Fault: 不亮 Not lit\nParts: Lamp, Pole", false},
		{"an empty optional value is none", map[string][]string{"fault": {"dark"}, "pole_number": {""}}, "故障 Fault: 不亮 Not lit", false},
		{"codes the category does not ask for are ignored", map[string][]string{"fault": {"dark"}, "fixmystreet_id": {"991"}, "title": {"x"}},
			"故障 Fault: 不亮 Not lit", false},
		{"a datetime with a zone", map[string][]string{"fault": {"dark"}, "seen_at": {"2026-11-30T17:52:08+08:00"}},
			"故障 Fault: 不亮 Not lit\nSeen: 2026-11-30T17:52:08+08:00", false},
		{"required missing", map[string][]string{"pole_number": {"1"}}, "", true},
		{"required empty", map[string][]string{"fault": {" "}}, "", true},
		{"not one of the keys", map[string][]string{"fault": {"Not lit"}}, "", true},
		{"two values of a single list", map[string][]string{"fault": {"dark", "damaged"}}, "", true},
		{"not a number", map[string][]string{"fault": {"dark"}, "height_m": {"tall"}}, "", true},
		{"infinite", map[string][]string{"fault": {"dark"}, "height_m": {"Inf"}}, "", true},
		{"a datetime without a zone", map[string][]string{"fault": {"dark"}, "seen_at": {"2026-11-30 17:52"}}, "", true},
		{"a newline in a string", map[string][]string{"fault": {"dark"}, "pole_number": {"a\nb"}}, "", true},
		{"a control character", map[string][]string{"fault": {"dark"}, "pole_number": {"a\x01"}}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := report.AttributeLines(streetLight(), tc.posted)
			if tc.err {
				if !errors.Is(err, report.ErrAttribute) {
					t.Errorf("error %v, want invalid_attribute", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestSeededAttributeCodesAreASCII: some clients double-encode every value of a POST when a code is not
// ASCII, so every seeded code is lower-case ASCII; names and descriptions may be any language.
func TestSeededAttributeCodesAreASCII(t *testing.T) {
	raw, err := os.ReadFile("../../infra/seed/categories.json")
	if err != nil {
		t.Fatal(err)
	}
	var cats []report.Category
	if err := json.Unmarshal(raw, &cats); err != nil {
		t.Fatal(err)
	}
	asks := 0
	for _, c := range cats {
		if c.Group == "" || len(c.Keywords) == 0 {
			t.Errorf("%s has no Open311 group or keywords", c.Code)
		}
		for _, a := range c.Attributes {
			asks++
			if !report.ValidAttributeCode(a.Code) {
				t.Errorf("%s: attribute code %q is not lower-case ASCII", c.Code, a.Code)
			}
			switch a.Datatype {
			case report.TypeString, report.TypeNumber, report.TypeDatetime, report.TypeText:
			case report.TypeSingle, report.TypeMulti:
				if len(a.Values) == 0 {
					t.Errorf("%s.%s is a list without values", c.Code, a.Code)
				}
				for _, v := range a.Values {
					if !report.ValidAttributeCode(v.Key) {
						t.Errorf("%s.%s: value key %q is not lower-case ASCII", c.Code, a.Code, v.Key)
					}
				}
			default:
				t.Errorf("%s.%s: datatype %q is not GeoReport's", c.Code, a.Code, a.Datatype)
			}
		}
	}
	if asks == 0 {
		t.Error("no seeded category asks for anything: the street light's pole number is missing")
	}
	for _, code := range []string{"pole_number", "Pole_number", "杆号", "1pole", "pole-number", ""} {
		if got := report.ValidAttributeCode(code); got != (code == "pole_number") {
			t.Errorf("ValidAttributeCode(%q) = %v", code, got)
		}
	}
}
