package report

import (
	"errors"
	"strings"
	"testing"
)

func ptr(f float64) *float64 { return &f }

func TestValidate(t *testing.T) {
	cats := map[string]Category{"rubbish": {Code: "rubbish", Active: true}, "retired": {Code: "retired"}}
	bbox := BBox{MinLat: 23.2, MinLng: 103.15, MaxLat: 23.6, MaxLng: 103.6}
	key := "photos/2026-11-30/0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b.jpg"
	good := func() NewReport {
		return NewReport{Category: "rubbish", Description: "垃圾堆在路边\n已三天", Location: &LatLng{ptr(23.37), ptr(103.38)}, PhotoKeys: []string{key}}
	}
	tests := []struct {
		name   string
		mutate func(*NewReport)
		want   error
	}{
		{"good", func(*NewReport) {}, nil},
		{"unknown category", func(n *NewReport) { n.Category = "ufo" }, ErrUnknownCategory},
		{"retired category", func(n *NewReport) { n.Category = "retired" }, ErrUnknownCategory},
		{"description 2000 runes", func(n *NewReport) { n.Description = strings.Repeat("灯", 2000) }, nil},
		{"description 2001 runes", func(n *NewReport) { n.Description = strings.Repeat("灯", 2001) }, ErrDescription},
		{"description control char", func(n *NewReport) { n.Description = "bad\x07bell" }, ErrDescription},
		{"description invalid utf8", func(n *NewReport) { n.Description = "\xff\xfe" }, ErrDescription},
		{"address newline", func(n *NewReport) { n.Address = "a\nb" }, ErrAddress},
		{"address too long", func(n *NewReport) { n.Address = strings.Repeat("a", 201) }, ErrAddress},
		{"no location", func(n *NewReport) { n.Location = nil }, ErrLocationMissing},
		{"no lng", func(n *NewReport) { n.Location.Lng = nil }, ErrLocationMissing},
		{"outside city", func(n *NewReport) { n.Location = &LatLng{ptr(39.9), ptr(116.4)} }, ErrOutsideCity},
		{"on the edge", func(n *NewReport) { n.Location = &LatLng{ptr(23.2), ptr(103.6)} }, nil},
		{"no photos", func(n *NewReport) { n.PhotoKeys = nil }, ErrPhotoCount},
		{"ten photos", func(n *NewReport) {
			n.PhotoKeys = nil
			for i := range 10 {
				n.PhotoKeys = append(n.PhotoKeys, strings.Replace(key, "0190", "019"+string(rune('0'+i)), 1))
			}
		}, ErrPhotoCount},
		{"same photo twice", func(n *NewReport) { n.PhotoKeys = []string{key, key} }, ErrPhotoCount},
		{"a key with an owner (the shape before)", func(n *NewReport) { n.PhotoKeys = []string{strings.Replace(key, "30/", "30/u1/", 1)} }, ErrPhotoKey},
		{"key outside the uploads", func(n *NewReport) { n.PhotoKeys = []string{"reports/x/1.jpg"} }, ErrPhotoKey},
		{"path traversal", func(n *NewReport) {
			n.PhotoKeys = []string{"photos/2026-11-30/../0190a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b.jpg"}
		}, ErrPhotoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := good()
			tt.mutate(&n)
			_, err := n.validate("u1", bbox, cats)
			if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Errorf("validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseBBox(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"23.20,103.15,23.60,103.60", true},
		{" 23.2 , 103.15 , 23.6 , 103.6 ", true},
		{"23.6,103.15,23.2,103.6", false},
		{"1,2,3", false},
		{"a,b,c,d", false},
		{"-91,0,0,1", false},
	}
	for _, tt := range tests {
		if _, err := ParseBBox(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseBBox(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
