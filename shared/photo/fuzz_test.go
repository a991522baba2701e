package photo

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzStrip: whatever the bytes, under each content type, Strip never panics, never returns more than it
// was given, and what it returns (what would be stored) holds no EXIF header and no GPS directory, is
// stripped already (stripping again changes nothing) and, for JPEG, is one image ending at EOI. Seeded
// with real-shaped JPEGs (APP1 EXIF and XMP, ICC, MPF with a second image, a motion photo), PNG, WebP and
// HEICs in each table layout. A bounded run is part of make test:
//
//	go test -run '^$' -fuzz FuzzStrip -fuzztime 10s ./shared/photo
func FuzzStrip(f *testing.F) {
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9})
	f.Add(jpegWith(f, exifSegment(binary.BigEndian), xmpSegment(), iccSegment(), segment(0xFE, []byte("comment"))))
	f.Add(jpegWith(f, exifSegment(binary.LittleEndian)))
	f.Add(mpfJPEG(f))
	f.Add(motionPhotoJPEG(f))
	f.Add(exifAfterScanJPEG(f))
	f.Add(append(append([]byte{}, pngSignature...), 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0, 0, 0, 0))
	f.Add(webpWithEXIF())
	apple, _ := appleHEIC()
	f.Add(apple)
	v3, _ := heicFile(heifLayout{infeVersion: 3, ilocVersion: 2, offSize: 8, baseSize: 8, largeMdat: true}, []heifItem{
		{id: 1, typ: "hvc1", payload: []byte{1, 2, 3}},
		{id: 2, typ: "Exif", payload: exifItem(), extents: 2},
	})
	f.Add(v3)
	idat, _ := heicFile(heifLayout{infeVersion: 2, ilocVersion: 1, offSize: 4, baseSize: 4}, []heifItem{
		{id: 1, typ: "hvc1", payload: []byte{9, 9}},
		{id: 2, typ: "Exif", payload: exifItem(), inIdat: true},
		{id: 3, typ: "mime", contentType: "application/rdf+xml", payload: []byte(xmpWithGPS), inIdat: true},
	})
	f.Add(idat)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{JPEG, PNG, WebP, HEIC} {
			out, stripped, err := Strip(typ, data)
			if err != nil {
				if out != nil || stripped {
					t.Fatalf("%s: an error with output", typ)
				}
				continue
			}
			if !stripped {
				t.Fatalf("%s: not stripped", typ)
			}
			if len(out) > len(data) {
				t.Fatalf("%s: %d bytes out of %d", typ, len(out), len(data))
			}
			if where := exifOrGPS(out); where != "" {
				t.Fatalf("%s: stored photo holds an %s", typ, where)
			}
			again, _, err := Strip(typ, out)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("%s: stripping the output again gave %d bytes, %v", typ, len(again), err)
			}
			if typ == JPEG && (!bytes.HasPrefix(out, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(out, []byte{0xFF, 0xD9})) {
				t.Fatalf("jpeg: output is not SOI … EOI")
			}
		}
	})
}
