package photo

import "encoding/binary"

// stripWebP drops the EXIF and XMP chunks, clears their VP8X flags and drops whatever follows the RIFF
// size (which is rewritten).
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 {
		return nil, ErrCorrupt
	}
	size := uint64(binary.LittleEndian.Uint32(data[4:]))
	if size < 4 || size > uint64(len(data)-8) {
		return nil, ErrCorrupt
	}
	end := 8 + int(size)
	out := make([]byte, 0, end)
	out = append(out, data[:12]...)
	for i := 12; i < end; {
		if end-i < 8 {
			return nil, ErrCorrupt
		}
		n := uint64(binary.LittleEndian.Uint32(data[i+4:]))
		padded := n + n%2 // chunks are padded to an even length
		if padded > uint64(end-i-8) {
			return nil, ErrCorrupt
		}
		next := i + 8 + int(padded)
		switch string(data[i : i+4]) {
		case "EXIF", "XMP ":
		case "VP8X":
			at := len(out)
			out = append(out, data[i:next]...)
			if next-i > 8 {
				out[at+8] &^= 0x08 | 0x04 // clear the EXIF and XMP flags
			}
		default:
			out = append(out, data[i:next]...)
		}
		i = next
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
