// Package photo recognises the image formats civicsnap accepts by their magic bytes and removes metadata
// (EXIF with GPS above all) from them before a photo is stored under a report, so that a photo never
// reveals more about the reporter than the report itself.
//
// No well-kept Go library strips metadata without re-encoding the image (which costs memory, time and
// quality), so this walks the container formats directly: JPEG segments, PNG chunks, RIFF (WebP) chunks
// and ISO-BMFF (HEIC) boxes are length-prefixed structures, walked with a bounds check on every length.
// HEIC's EXIF and XMP are items whose bytes the item location table points at: they are overwritten in
// place, so no offset changes. After stripping, the output is searched once more for an EXIF header or a
// GPS directory anywhere (Leaks); a photo that still holds one is refused rather than stored.
package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Content types accepted for photos.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
	HEIC = "image/heic"
)

// Allowed reports whether contentType is an accepted photo type.
func Allowed(contentType string) bool {
	switch contentType {
	case JPEG, PNG, WebP, HEIC:
		return true
	}
	return false
}

// Ext returns the file extension used for keys of the given type.
func Ext(contentType string) string {
	switch contentType {
	case JPEG:
		return ".jpg"
	case PNG:
		return ".png"
	case WebP:
		return ".webp"
	case HEIC:
		return ".heic"
	}
	return ""
}

var pngSignature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}

// Sniff returns the accepted content type that data's magic bytes announce, or "" if none matches.
func Sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return JPEG
	case bytes.HasPrefix(data, pngSignature):
		return PNG
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return HEIC
		}
	}
	return ""
}

// ErrCorrupt is returned when an image's structure cannot be walked.
var ErrCorrupt = errors.New("photo: corrupt image structure")

// ErrMetadataRemains is returned when metadata cannot be removed: an EXIF header or a GPS directory outside
// the containers Strip knows (in pixel data, an unknown chunk, a HEIC item stored elsewhere), or a HEIC
// metadata item whose bytes are built from other items.
var ErrMetadataRemains = errors.New("photo: metadata that cannot be removed")

// Strip returns data without metadata that can identify a person or place: for JPEG the APPn segments
// other than JFIF, ICC profiles and Adobe's colour transform (so EXIF, XMP, IPTC, MPF), comments and
// everything after the end of the image (a second image of a multi-picture file, a motion photo's video);
// for PNG the eXIf, text and time chunks and anything after IEND; for WebP the EXIF and XMP chunks (and
// their VP8X flags) and anything after the RIFF size; for HEIC the Exif and XMP items' bytes, overwritten in
// place by an empty EXIF directory and an empty XMP packet. Pixels and colour profiles are kept byte for
// byte, and the output is never longer than data. stripped is false only for a content type Strip does not
// know, which it returns unchanged.
func Strip(contentType string, data []byte) (out []byte, stripped bool, err error) {
	switch contentType {
	case JPEG:
		out, err = stripJPEG(data)
	case PNG:
		out, err = stripPNG(data)
	case WebP:
		out, err = stripWebP(data)
	case HEIC:
		out, err = stripHEIF(data)
	default:
		return data, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if Leaks(out) {
		return nil, false, ErrMetadataRemains
	}
	return out, true, nil
}

// The two TIFF headers: little-endian (Intel) and big-endian (Motorola).
const (
	tiffLE = "II*\x00"
	tiffBE = "MM\x00*"
)

// exifHeader is how an EXIF block starts, in a JPEG's APP1 and in a HEIC's Exif item: "Exif\0\0" and a
// TIFF header. "Exif\0\0" alone is not enough: every iPhone HEIC's item table holds an item of type "Exif"
// with an empty, NUL-terminated name followed by the next box's size, which starts with zeros.
func exifHeader(b []byte) bool {
	for from := 0; ; {
		j := bytes.Index(b[from:], []byte("Exif\x00\x00"))
		if j < 0 {
			return false
		}
		at := from + j + 6
		if rest := string(b[at:min(at+4, len(b))]); rest == tiffLE || rest == tiffBE {
			return true
		}
		from = at
	}
}

// leakBudget bounds the IFD entries Leaks reads: an input made of TIFF headers cannot make it quadratic, and
// one that exhausts the budget (no photo comes near) counts as leaking.
const leakBudget = 1 << 20

// Leaks reports whether b holds an EXIF header (exifHeader) or a GPS directory (a TIFF header whose first
// directory has a GPS IFD pointer, tag 0x8825) anywhere, whatever the container around it.
func Leaks(b []byte) bool {
	if exifHeader(b) {
		return true
	}
	budget := leakBudget
	for _, hdr := range [...][]byte{[]byte(tiffLE), []byte(tiffBE)} {
		for from := 0; ; {
			j := bytes.Index(b[from:], hdr)
			if j < 0 {
				break
			}
			if gpsPointer(b[from+j:], &budget) {
				return true
			}
			from += j + 1
		}
	}
	return false
}

// gpsPointer reports whether the TIFF structure at the start of t has a GPS IFD pointer in its first
// directory. It spends budget on every entry read and reports true once it runs out.
func gpsPointer(t []byte, budget *int) bool {
	var order binary.ByteOrder = binary.LittleEndian
	if t[0] == 'M' {
		order = binary.BigEndian
	}
	if len(t) < 8 {
		return false
	}
	ifd := uint64(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > uint64(len(t)) {
		return false
	}
	n := int(order.Uint16(t[ifd:]))
	for k := range n {
		e := int(ifd) + 2 + 12*k
		if e+2 > len(t) {
			return false
		}
		if *budget--; *budget < 0 {
			return true
		}
		if order.Uint16(t[e:]) == 0x8825 {
			return true
		}
	}
	return false
}
