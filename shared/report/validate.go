package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a new report.
const (
	MaxDescription = 2000
	MaxAddress     = 200
	MaxPhotos      = 9
)

// BBox is the rectangle a report's location must lie in.
type BBox struct {
	MinLat, MinLng, MaxLat, MaxLng float64
}

// Contains reports whether l lies inside b (edges included).
func (b BBox) Contains(l Location) bool {
	return l.Lat >= b.MinLat && l.Lat <= b.MaxLat && l.Lng >= b.MinLng && l.Lng <= b.MaxLng
}

// ParseBBox reads "minLat,minLng,maxLat,maxLng".
func ParseBBox(s string) (BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return BBox{}, fmt.Errorf("bounding box %q: want minLat,minLng,maxLat,maxLng", s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return BBox{}, fmt.Errorf("bounding box %q: %w", s, err)
		}
		v[i] = f
	}
	b := BBox{v[0], v[1], v[2], v[3]}
	if b.MinLat >= b.MaxLat || b.MinLng >= b.MaxLng || b.MinLat < -90 || b.MaxLat > 90 || b.MinLng < -180 || b.MaxLng > 180 {
		return BBox{}, fmt.Errorf("bounding box %q is empty or off the globe", s)
	}
	return b, nil
}

// NewReport is what a citizen submits. Location fields are pointers so that a missing one is told apart
// from the equator.
type NewReport struct {
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Location    *LatLng  `json:"location"`
	Address     string   `json:"address,omitempty"`
	PhotoKeys   []string `json:"photoKeys"`
	Anonymous   bool     `json:"anonymous,omitempty"`
	// Public false files the report as not public (off the public map, Open311 and "me too"); left out
	// or true, it is public.
	Public *bool `json:"public,omitempty"`
}

// LatLng is a location as submitted.
type LatLng struct {
	Lat *float64 `json:"lat"`
	Lng *float64 `json:"lng"`
}

// plainText accepts valid UTF-8 without control characters other than newline and tab.
func plainText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}

// validate checks everything about n that needs no I/O but the category list, and returns the location.
func (n NewReport) validate(sub string, bbox BBox, categories map[string]Category) (Location, error) {
	if c, ok := categories[n.Category]; !ok || !c.Active {
		return Location{}, ErrUnknownCategory.With("no such category %q", n.Category)
	}
	if !plainText(n.Description, MaxDescription) {
		return Location{}, ErrDescription
	}
	if !plainText(n.Address, MaxAddress) || strings.ContainsAny(n.Address, "\n\t") {
		return Location{}, ErrAddress
	}
	if n.Location == nil || n.Location.Lat == nil || n.Location.Lng == nil {
		return Location{}, ErrLocationMissing
	}
	loc := Location{Lat: *n.Location.Lat, Lng: *n.Location.Lng}
	if math.IsNaN(loc.Lat) || math.IsNaN(loc.Lng) || !bbox.Contains(loc) {
		return Location{}, ErrOutsideCity
	}
	if len(n.PhotoKeys) < 1 || len(n.PhotoKeys) > MaxPhotos {
		return Location{}, ErrPhotoCount
	}
	seen := make(map[string]bool, len(n.PhotoKeys))
	for _, k := range n.PhotoKeys {
		if seen[k] {
			return Location{}, ErrPhotoCount
		}
		seen[k] = true
		if _, ok := parseUploadKey(k); !ok { // whose it is, VerifyPhotos reads from the upload
			return Location{}, ErrPhotoKey.With("photo key %q is not one of your uploads", k)
		}
	}
	return loc, nil
}
