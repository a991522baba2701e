package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/jpeg"
	"testing"
)

// exifOrGPS says where b holds an EXIF header ("Exif\0\0" and a TIFF header) or a GPS directory, "" if
// nowhere. It is written apart from Leaks (every position, no budget) so that the two check each other.
func exifOrGPS(b []byte) string {
	for p := 0; p+10 <= len(b); p++ {
		if s := string(b[p : p+10]); s == "Exif\x00\x00II*\x00" || s == "Exif\x00\x00MM\x00*" {
			return fmt.Sprintf("EXIF header at %d", p)
		}
	}
	for p := 0; p+8 <= len(b); p++ {
		var order binary.ByteOrder
		switch string(b[p : p+4]) {
		case "II*\x00":
			order = binary.LittleEndian
		case "MM\x00*":
			order = binary.BigEndian
		default:
			continue
		}
		t := b[p:]
		ifd := int64(order.Uint32(t[4:]))
		if ifd < 8 || ifd+2 > int64(len(t)) {
			continue
		}
		n := int64(order.Uint16(t[ifd:]))
		for k := int64(0); k < n && ifd+2+12*k+2 <= int64(len(t)); k++ {
			if order.Uint16(t[ifd+2+12*k:]) == 0x8825 {
				return fmt.Sprintf("GPS IFD pointer in the TIFF directory at %d", p)
			}
		}
	}
	return ""
}

func decodeSame(t *testing.T, got []byte) {
	t.Helper()
	want, err := jpeg.Decode(bytes.NewReader(encodedJPEG(t)))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("stripped JPEG does not decode: %v", err)
	}
	if img.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", img.Bounds(), want.Bounds())
	}
	for x := range 8 {
		for y := range 8 {
			if img.At(x, y) != want.At(x, y) {
				t.Fatalf("pixel (%d,%d) changed", x, y)
			}
		}
	}
}

// TestStripRemovesEXIFAndGPS: every real-shaped photo comes out with no EXIF header, no GPS directory and no
// XMP GPS, its pixels intact. The multi-picture, motion-photo, after-scan and HEIC cases failed before the
// fix (issue 10, finding 7): the second image's EXIF survived, and HEIC was passed through.
func TestStripRemovesEXIFAndGPS(t *testing.T) {
	apple, appleSpans := appleHEIC()
	v3, v3Spans := heicFile(heifLayout{infeVersion: 3, ilocVersion: 2, offSize: 8, baseSize: 8, largeMdat: true}, []heifItem{
		{id: 70000, typ: "hvc1", payload: bytes.Repeat([]byte{1, 2, 3}, 30)},
		{id: 70001, typ: "Exif", payload: exifItem(), extents: 3},
		{id: 70002, typ: "mime", contentType: "application/rdf+xml; charset=utf-8", payload: []byte(xmpWithGPS)},
	})
	idat, idatSpans := heicFile(heifLayout{infeVersion: 2, ilocVersion: 1, offSize: 4, baseSize: 4}, []heifItem{
		{id: 1, typ: "hvc1", payload: bytes.Repeat([]byte{9}, 40)},
		{id: 2, typ: "Exif", payload: exifItem(), inIdat: true},
		{id: 3, typ: "mime", contentType: "application/rdf+xml", payload: []byte(xmpWithGPS), inIdat: true, extents: 2},
		{id: 4, typ: "mime", contentType: "image/jpeg", payload: []byte("not metadata")},
	})
	v0, v0Spans := heicFile(heifLayout{infeVersion: 2, ilocVersion: 0, offSize: 4}, []heifItem{
		{id: 1, typ: "hvc1", payload: bytes.Repeat([]byte{7}, 16)},
		{id: 2, typ: "Exif", payload: exifItem()},
	})
	type heicWant struct {
		spans map[uint32][]span
		kinds map[uint32]blank
	}
	tests := []struct {
		name   string
		typ    string
		data   []byte
		jpeg   bool      // decodes to the same pixels as the plain encoding
		prefix []byte    // the output is exactly this (the first image, stripped)
		heic   *heicWant // metadata items overwritten in place, nothing else changed
	}{
		{name: "jpeg exif, xmp, icc, comment", typ: JPEG, data: jpegWith(t, exifSegment(binary.BigEndian), xmpSegment(), iccSegment(), segment(0xFE, []byte("secret comment"))), jpeg: true},
		{name: "jpeg little-endian exif", typ: JPEG, data: jpegWith(t, exifSegment(binary.LittleEndian)), jpeg: true},
		{name: "jpeg multi-picture (MPF) with a second image", typ: JPEG, data: mpfJPEG(t), jpeg: true},
		{name: "jpeg motion photo", typ: JPEG, data: motionPhotoJPEG(t), jpeg: true},
		{name: "jpeg exif after the scan", typ: JPEG, data: exifAfterScanJPEG(t), jpeg: true},
		{name: "heic as an iPhone writes it", typ: HEIC, data: apple, heic: &heicWant{appleSpans, map[uint32]blank{2: emptyExif, 3: emptyXMP}}},
		{name: "heic infe v3, iloc v2, 64-bit offsets, base offset, large mdat, split exif", typ: HEIC, data: v3,
			heic: &heicWant{v3Spans, map[uint32]blank{70001: emptyExif, 70002: emptyXMP}}},
		{name: "heic metadata in idat", typ: HEIC, data: idat, heic: &heicWant{idatSpans, map[uint32]blank{2: emptyExif, 3: emptyXMP}}},
		{name: "heic iloc v0", typ: HEIC, data: v0, heic: &heicWant{v0Spans, map[uint32]blank{2: emptyExif}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if where := exifOrGPS(tt.data); where == "" {
				t.Fatal("the fixture has no EXIF to strip")
			}
			out, stripped, err := Strip(tt.typ, tt.data)
			if err != nil || !stripped {
				t.Fatalf("Strip = stripped %v, %v", stripped, err)
			}
			if where := exifOrGPS(out); where != "" {
				t.Errorf("output holds an %s", where)
			}
			for _, s := range []string{"GPSLatitude", "secret comment", "MPF\x00", "ftypmp42"} {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("output still contains %q", s)
				}
			}
			if tt.jpeg {
				decodeSame(t, out)
				if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) || bytes.Count(out, []byte{0xFF, 0xD8}) != 1 {
					t.Errorf("output is not one image ending at EOI")
				}
			}
			if bytes.Contains(tt.data, []byte("ICC_PROFILE")) && !bytes.Contains(out, iccSegment()) {
				t.Errorf("the ICC profile was not kept byte for byte")
			}
			if tt.heic != nil {
				checkHEIC(t, tt.data, out, tt.heic.spans, tt.heic.kinds)
			}
			again, _, err := Strip(tt.typ, out)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("stripping twice changed the output (%v)", err)
			}
		})
	}
}

// checkHEIC: out has in's length and bytes except in the metadata items' extents, which hold the blank.
func checkHEIC(t *testing.T, in, out []byte, spans map[uint32][]span, kinds map[uint32]blank) {
	t.Helper()
	if len(out) != len(in) {
		t.Fatalf("length %d, want %d", len(out), len(in))
	}
	changed := make([]bool, len(in))
	for id, b := range kinds {
		var got []byte
		for _, s := range spans[id] {
			got = append(got, out[s.start:s.end]...)
			for k := s.start; k < s.end; k++ {
				changed[k] = true
			}
		}
		want := []byte(b.fill)
		for len(want) < len(got) {
			want = append(want, b.pad)
		}
		if !bytes.Equal(got, want[:len(got)]) {
			t.Errorf("item %d = %q, want %q", id, got, want[:len(got)])
		}
	}
	for k := range in {
		if !changed[k] && in[k] != out[k] {
			t.Fatalf("byte %d outside the metadata items changed", k)
		}
	}
}

// TestStripJPEGScans walks entropy-coded data with stuffed bytes, restart markers and fill bytes, and a
// second scan after an application segment; the output is exact.
func TestStripJPEGScans(t *testing.T) {
	sos := segment(0xDA, []byte{1, 1, 0, 0, 63, 0})
	scan1 := []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0x00, 0x78}
	scan2 := []byte{0x9A, 0xFF, 0xD7, 0xBC}
	dqt := segment(0xDB, bytes.Repeat([]byte{1}, 65))
	in := []byte{0xFF, 0xD8}
	in = append(in, segment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00"))...)
	in = append(in, dqt...)
	in = append(in, sos...)
	in = append(in, scan1...)
	in = append(in, 0xFF, 0xFF) // fill bytes before the next marker
	in = append(in, exifSegment(binary.BigEndian)...)
	in = append(in, segment(0xEB, []byte("JP\x00\x01jumbC2PA manifest"))...) // APP11: JUMBF
	in = append(in, sos...)
	in = append(in, scan2...)
	in = append(in, 0xFF, 0xD9)
	in = append(in, "trailing data"...)

	want := []byte{0xFF, 0xD8}
	want = append(want, segment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00"))...)
	want = append(want, dqt...)
	want = append(want, sos...)
	want = append(want, scan1...)
	want = append(want, sos...)
	want = append(want, scan2...)
	want = append(want, 0xFF, 0xD9)

	out, _, err := Strip(JPEG, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("Strip =\n%x\nwant\n%x", out, want)
	}
}

// TestStripRefuses: what cannot be walked is corrupt; metadata Strip cannot remove refuses the photo.
func TestStripRefuses(t *testing.T) {
	raw := encodedJPEG(t)
	hiddenInScan := append(append([]byte{}, raw[:len(raw)-2]...), "Exif\x00\x00MM\x00*"...)
	hiddenInScan = append(hiddenInScan, 0xFF, 0xD9)
	uuidExif := append(appleHEICNoExif(), bmff("uuid", append(make([]byte, 16), exifItem()...))...)
	built, _ := heicFile(heifLayout{infeVersion: 2, ilocVersion: 1, offSize: 4}, []heifItem{{id: 1, typ: "hvc1", payload: []byte{1}}, {id: 2, typ: "Exif", payload: exifItem()}})
	method2 := patchILOCMethod(t, built, 2)
	elsewhere := patchILOCDataRef(t, built)
	outside := patchILOCOffset(t, built, 2, 0) // points at ftyp
	past := patchILOCOffset(t, built, 2, uint32(len(built)))

	tests := []struct {
		name string
		typ  string
		data []byte
		want error
	}{
		{"jpeg truncated segment", JPEG, []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x10, 0x00, 'E'}, ErrCorrupt},
		{"jpeg garbage", JPEG, []byte{0xFF, 0xD8, 0x00, 0x00}, ErrCorrupt},
		{"jpeg without EOI", JPEG, raw[:len(raw)-2], ErrCorrupt},
		{"jpeg without SOI", JPEG, raw[2:], ErrCorrupt},
		{"jpeg exif hidden in the scan", JPEG, hiddenInScan, ErrMetadataRemains},
		{"png truncated", PNG, append(append([]byte{}, pngSignature...), 0, 0, 0, 99, 'I', 'D', 'A', 'T'), ErrCorrupt},
		{"png exif in an unknown chunk", PNG, pngWithChunk(t, "exIf", exifItem()), ErrMetadataRemains},
		{"webp truncated", WebP, []byte("RIFF\x10\x00\x00\x00WEBPVP8L\xff\x00\x00\x00"), ErrCorrupt},
		{"webp size past the end", WebP, []byte("RIFF\xff\x00\x00\x00WEBP"), ErrCorrupt},
		{"heic without meta", HEIC, bmff("ftyp", []byte("heic\x00\x00\x00\x00mif1")), ErrCorrupt},
		{"heic box past the end", HEIC, append(bmff("ftyp", []byte("heic\x00\x00\x00\x00")), 0, 0, 1, 0, 'm', 'e', 't', 'a'), ErrCorrupt},
		{"heic exif in a uuid box", HEIC, uuidExif, ErrMetadataRemains},
		{"heic exif built from other items", HEIC, method2, ErrMetadataRemains},
		{"heic exif in another file", HEIC, elsewhere, ErrMetadataRemains},
		{"heic exif extent outside mdat", HEIC, outside, ErrCorrupt},
		{"heic exif extent past the end", HEIC, past, ErrCorrupt},
		{"heic items overwriting the same bytes over and over", HEIC, overlappingItems(500), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stripped, err := Strip(tt.typ, tt.data)
			if !errors.Is(err, tt.want) || out != nil || stripped {
				t.Errorf("Strip = %d bytes, stripped %v, %v; want %v", len(out), stripped, err, tt.want)
			}
		})
	}
}

func TestLeaks(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"exif header", []byte("..Exif\x00\x00MM\x00*.."), true},
		{"exif header, little-endian", []byte("Exif\x00\x00II*\x00"), true},
		{"an item type Exif with an empty name", []byte("infe\x02\x00\x00\x00\x00\x02\x00\x00Exif\x00\x00\x00\x00)infe"), false},
		{"tiff with gps, big-endian", tiffWithGPS(binary.BigEndian), true},
		{"tiff with gps, little-endian", append([]byte("xyz"), tiffWithGPS(binary.LittleEndian)...), true},
		{"empty exif item", []byte(emptyExif.fill), false},
		{"tiff header with a directory past the end", []byte("MM\x00*\x00\x00\xff\xff"), false},
		{"a real jpeg", encodedJPEG(t), false},
		{"many tiff headers exhaust the budget", bytes.Repeat(append([]byte("II*\x00\x08\x00\x00\x00\xff\xff"), make([]byte, 12*4000)...), 40), true},
		{"nothing", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Leaks(tt.data); got != tt.want {
				t.Errorf("Leaks = %v, want %v", got, tt.want)
			}
		})
	}
}

// appleHEICNoExif is a HEIC with an image item only.
func appleHEICNoExif() []byte {
	b, _ := heicFile(heifLayout{infeVersion: 2, ilocVersion: 1, offSize: 4}, []heifItem{{id: 1, typ: "hvc1", payload: []byte{1, 2, 3}}})
	return b
}

// overlappingItems is a HEIC with n XMP items whose one extent each covers the same mdat bytes.
func overlappingItems(n int) []byte {
	payload := bytes.Repeat([]byte{' '}, 4096)
	ftyp := bmff("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	meta := func(offset uint32) []byte {
		var infes []byte
		iloc := binary.BigEndian.AppendUint16([]byte{0x44, 0x00}, uint16(n)) // 4-byte offsets and lengths
		for id := 1; id <= n; id++ {
			e := binary.BigEndian.AppendUint16(nil, uint16(id))
			infes = append(infes, fullBox("infe", 2, append(e, "\x00\x00mime\x00application/rdf+xml\x00"...))...)
			iloc = binary.BigEndian.AppendUint16(iloc, uint16(id))
			iloc = append(iloc, 0, 0, 0, 0, 0, 1) // construction method 0, data reference 0, one extent
			iloc = binary.BigEndian.AppendUint32(iloc, offset)
			iloc = binary.BigEndian.AppendUint32(iloc, uint32(len(payload)))
		}
		iinf := fullBox("iinf", 0, append(binary.BigEndian.AppendUint16(nil, uint16(n)), infes...))
		return fullBox("meta", 0, append(iinf, fullBox("iloc", 1, iloc)...))
	}
	mdatBody := len(ftyp) + len(meta(0)) + 8
	return append(append(ftyp, meta(uint32(mdatBody))...), bmff("mdat", payload)...)
}

func pngWithChunk(t *testing.T, typ string, data []byte) []byte {
	in := pngWithText(t)
	at := 8 + 12 + 13
	return append(append(append([]byte{}, in[:at]...), pngChunk(typ, data)...), in[at:]...)
}

// ilocEntry returns where the iloc entry of item id starts in a generated HEIC (iloc v1, 4-byte offsets,
// no base offset, 16-bit ids).
func ilocEntry(t *testing.T, b []byte, id uint16) int {
	t.Helper()
	at := bytes.Index(b, []byte("iloc")) + 4 + 4 + 2 + 2
	for {
		if at+6 > len(b) {
			t.Fatal("no such item")
		}
		if binary.BigEndian.Uint16(b[at:]) == id {
			return at
		}
		n := int(binary.BigEndian.Uint16(b[at+6:]))
		at += 8 + 8*n
	}
}

func patchILOCMethod(t *testing.T, b []byte, method byte) []byte {
	b = bytes.Clone(b)
	b[ilocEntry(t, b, 2)+3] = method
	return b
}

func patchILOCDataRef(t *testing.T, b []byte) []byte {
	b = bytes.Clone(b)
	b[ilocEntry(t, b, 2)+5] = 1
	return b
}

func patchILOCOffset(t *testing.T, b []byte, id uint16, off uint32) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[ilocEntry(t, b, id)+8:], off)
	return b
}
