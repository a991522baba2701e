// Package photo recognises the image formats civicsnap accepts by their magic bytes and removes metadata
// (EXIF with GPS above all) from them before a photo is stored under a report, so that a photo never
// reveals more about the reporter than the report itself.
//
// No well-kept Go library strips metadata without re-encoding the image (which costs memory, time and
// quality), so this walks the container formats directly: JPEG segments, PNG chunks and RIFF (WebP)
// chunks are simple, length-prefixed structures. HEIC metadata lives inside ISO-BMFF item tables whose
// offsets would have to be rewritten; it is accepted but passed through unchanged (see Strip).
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

// Strip returns data without metadata that can identify a person or place: for JPEG the APP1 (EXIF, XMP),
// APP13 (IPTC) and comment segments; for PNG the eXIf, text and time chunks; for WebP the EXIF and XMP
// chunks (and their VP8X flags). Pixels and colour profiles are kept byte for byte. HEIC is returned
// unchanged, with stripped=false.
func Strip(contentType string, data []byte) (out []byte, stripped bool, err error) {
	switch contentType {
	case JPEG:
		out, err = stripJPEG(data)
	case PNG:
		out, err = stripPNG(data)
	case WebP:
		out, err = stripWebP(data)
	default:
		return data, false, nil
	}
	return out, err == nil, err
}

func stripJPEG(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	i := 2
	for i < len(data) {
		if data[i] != 0xFF || i+1 >= len(data) {
			return nil, ErrCorrupt
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD9: // end of image
			return append(out, 0xFF, 0xD9), nil
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			out = append(out, 0xFF, marker)
			i += 2
			continue
		}
		if i+4 > len(data) {
			return nil, ErrCorrupt
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		end := i + 2 + n
		if n < 2 || end > len(data) {
			return nil, ErrCorrupt
		}
		if marker == 0xDA { // start of scan: the rest is entropy-coded image data, copied verbatim
			return append(out, data[i:]...), nil
		}
		if marker != 0xE1 && marker != 0xED && marker != 0xFE {
			out = append(out, data[i:end]...)
		}
		i = end
	}
	return nil, ErrCorrupt
}

func stripPNG(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil, ErrCorrupt
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngSignature...)
	for i := len(pngSignature); i < len(data); {
		if i+12 > len(data) {
			return nil, ErrCorrupt
		}
		n := int(binary.BigEndian.Uint32(data[i:]))
		end := i + 12 + n
		if n < 0 || end > len(data) || end < i {
			return nil, ErrCorrupt
		}
		switch string(data[i+4 : i+8]) {
		case "eXIf", "tEXt", "zTXt", "iTXt", "tIME":
		default:
			out = append(out, data[i:end]...)
		}
		if string(data[i+4:i+8]) == "IEND" {
			return out, nil
		}
		i = end
	}
	return nil, ErrCorrupt
}

func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 {
		return nil, ErrCorrupt
	}
	out := make([]byte, 0, len(data))
	out = append(out, data[:12]...)
	for i := 12; i < len(data); {
		if i+8 > len(data) {
			return nil, ErrCorrupt
		}
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		end := i + 8 + n + n%2 // chunks are padded to an even length
		if n < 0 || end > len(data) || end < i {
			return nil, ErrCorrupt
		}
		switch string(data[i : i+4]) {
		case "EXIF", "XMP ":
		case "VP8X":
			chunk := append([]byte(nil), data[i:end]...)
			if len(chunk) > 8 {
				chunk[8] &^= 0x08 | 0x04 // clear the EXIF and XMP flags
			}
			out = append(out, chunk...)
		default:
			out = append(out, data[i:end]...)
		}
		i = end
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
