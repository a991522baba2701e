package photo

import (
	"bytes"
	"encoding/binary"
)

// stripJPEG walks the segments of a JPEG, scan by scan (a progressive JPEG has several, with tables and
// application segments between them), keeps the image's tables, frames and entropy-coded data verbatim,
// drops metadata segments and stops at the end of the image: what follows EOI — the second image of a
// multi-picture (MPF) file, a motion photo's video, anything appended — is not part of the picture and
// carries its own EXIF.
func stripJPEG(data []byte) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, ErrCorrupt
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	i := 2
	for {
		// A marker: 0xFF, any number of 0xFF fill bytes, the marker code.
		if i >= len(data) || data[i] != 0xFF {
			return nil, ErrCorrupt
		}
		for i < len(data) && data[i] == 0xFF {
			i++
		}
		if i >= len(data) {
			return nil, ErrCorrupt
		}
		marker := data[i]
		i++
		switch {
		case marker == 0xD9: // end of image
			return append(out, 0xFF, 0xD9), nil
		case marker == 0x00 || marker == 0xD8:
			return nil, ErrCorrupt
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // TEM and RSTn have no length
			out = append(out, 0xFF, marker)
			continue
		}
		if len(data)-i < 2 {
			return nil, ErrCorrupt
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || n > len(data)-i {
			return nil, ErrCorrupt
		}
		payload, end := data[i+2:i+n], i+n
		if keepSegment(marker, payload) {
			out = append(out, 0xFF, marker)
			out = append(out, data[i:end]...)
		}
		i = end
		if marker != 0xDA {
			continue
		}
		// Start of scan: entropy-coded data follows, up to the next marker. Inside it 0xFF is followed by
		// 0x00 (a stuffed data byte) or a restart marker, possibly after fill bytes.
		start := i
		for {
			j := bytes.IndexByte(data[i:], 0xFF)
			if j < 0 {
				return nil, ErrCorrupt // no EOI
			}
			k := i + j + 1
			for k < len(data) && data[k] == 0xFF {
				k++
			}
			if k >= len(data) {
				return nil, ErrCorrupt
			}
			if m := data[k]; m == 0x00 || (m >= 0xD0 && m <= 0xD7) {
				i = k + 1
				continue
			}
			i += j
			break
		}
		out = append(out, data[start:i]...)
	}
}

// keepSegment reports whether a segment belongs to the picture rather than to its metadata: everything but
// the application segments and comments, and of those only JFIF (APP0), ICC profiles (APP2) and Adobe's
// colour transform (APP14), which decoders need to show the colours right.
func keepSegment(marker byte, payload []byte) bool {
	switch {
	case marker == 0xFE: // comment
		return false
	case marker < 0xE0 || marker > 0xEF:
		return true
	case marker == 0xE0:
		return bytes.HasPrefix(payload, []byte("JFIF\x00")) || bytes.HasPrefix(payload, []byte("JFXX\x00"))
	case marker == 0xE2:
		return bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00"))
	case marker == 0xEE:
		return bytes.HasPrefix(payload, []byte("Adobe"))
	}
	return false
}
