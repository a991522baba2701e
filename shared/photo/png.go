package photo

import (
	"bytes"
	"encoding/binary"
)

// stripPNG drops the eXIf, text and time chunks, and whatever follows IEND.
func stripPNG(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil, ErrCorrupt
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngSignature...)
	for i := len(pngSignature); i < len(data); {
		if len(data)-i < 12 {
			return nil, ErrCorrupt
		}
		n := uint64(binary.BigEndian.Uint32(data[i:]))
		if n > uint64(len(data)-i-12) {
			return nil, ErrCorrupt
		}
		end := i + 12 + int(n)
		typ := string(data[i+4 : i+8])
		switch typ {
		case "eXIf", "tEXt", "zTXt", "iTXt", "tIME":
		default:
			out = append(out, data[i:end]...)
		}
		if typ == "IEND" {
			return out, nil
		}
		i = end
	}
	return nil, ErrCorrupt
}
