package photo

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// HEIC (ISO/IEC 23008-12, on ISO-BMFF boxes) keeps its EXIF and XMP as items: the item information box
// (iinf) names each item's type — "Exif", or "mime" with content type application/rdf+xml for XMP — and the
// item location box (iloc) says where its bytes are: extents in the file (construction method 0, normally in
// mdat) or in the meta box's idat (method 1). Overwriting those bytes in place removes the metadata without
// moving anything, so no offset in iloc needs rewriting.
//
// The Go libraries that parse ISO-BMFF well (abema/go-mp4, Eyevinn/mp4ff) are not reachable from this
// project's module proxy, and go4.org/media/heif is read-only, "a work in progress", ignores base offsets
// and idat, and panics on an EXIF extent shorter than 4 bytes; hence this small parser, with a bounds check
// on every length and no allocation sized by a count read from the file.

// blank is what a metadata item's bytes become: fill, then pad to the item's length.
type blank struct {
	fill string
	pad  byte
}

// emptyExif is an EXIF item payload with no data: the 4-byte offset of the TIFF header (0), then a
// big-endian TIFF header whose first directory has no entries and no successor.
var emptyExif = blank{fill: "\x00\x00\x00\x00" + tiffBE + "\x00\x00\x00\x08" + "\x00\x00" + "\x00\x00\x00\x00"}

// emptyXMP is an XMP packet with no properties; XMP packets may be padded with whitespace to any length.
var emptyXMP = blank{fill: `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>`, pad: ' '}

// bmffBox is one box: its type, where it starts and ends, and where its payload starts.
type bmffBox struct {
	typ        string
	start, end int
	body       int
}

// walkBoxes calls fn for each box in data[from:to], which the boxes must tile exactly.
func walkBoxes(data []byte, from, to int, fn func(bmffBox) error) error {
	for i := from; i < to; {
		if to-i < 8 {
			return ErrCorrupt
		}
		size := uint64(binary.BigEndian.Uint32(data[i:]))
		b := bmffBox{typ: string(data[i+4 : i+8]), start: i, body: i + 8}
		switch size {
		case 0: // to the end of the container
			size = uint64(to - i)
		case 1: // a 64-bit size follows the type
			if to-i < 16 {
				return ErrCorrupt
			}
			size = binary.BigEndian.Uint64(data[i+8:])
			b.body += 8
		}
		if b.typ == "uuid" {
			b.body += 16
		}
		if size < uint64(b.body-i) || size > uint64(to-i) {
			return ErrCorrupt
		}
		b.end = i + int(size)
		if err := fn(b); err != nil {
			return err
		}
		i = b.end
	}
	return nil
}

// fields reads big-endian fields with bounds checks; after a read past the end, every read returns zero
// and bad is set.
type fields struct {
	b   []byte
	i   int
	bad bool
}

// uint reads an n-byte unsigned integer, n ≤ 8 (0 reads nothing and returns 0).
func (f *fields) uint(n int) uint64 {
	if f.bad || n > len(f.b)-f.i {
		f.bad = true
		return 0
	}
	var v uint64
	for _, c := range f.b[f.i : f.i+n] {
		v = v<<8 | uint64(c)
	}
	f.i += n
	return v
}

// str reads a NUL-terminated string.
func (f *fields) str() string {
	if f.bad {
		return ""
	}
	j := bytes.IndexByte(f.b[f.i:], 0)
	if j < 0 {
		f.bad = true
		return ""
	}
	s := string(f.b[f.i : f.i+j])
	f.i += j + 1
	return s
}

// span is a byte range of the file.
type span struct{ start, end int }

func stripHEIF(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return nil, ErrCorrupt
	}
	var meta *bmffBox
	var mdats []span
	err := walkBoxes(data, 0, len(data), func(b bmffBox) error {
		switch b.typ {
		case "meta":
			if meta != nil {
				return ErrCorrupt
			}
			meta = &b
		case "mdat":
			mdats = append(mdats, span{b.body, b.end})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if meta == nil || meta.end-meta.body < 4 {
		return nil, ErrCorrupt
	}
	var iinf, iloc, idat *bmffBox
	err = walkBoxes(data, meta.body+4, meta.end, func(b bmffBox) error { // meta is a full box
		var p **bmffBox
		switch b.typ {
		case "iinf":
			p = &iinf
		case "iloc":
			p = &iloc
		case "idat":
			p = &idat
		default:
			return nil
		}
		if *p != nil {
			return ErrCorrupt
		}
		*p = &b
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(data)
	if iinf == nil {
		return out, nil // no items, so no metadata items
	}
	items, err := metadataItems(data, *iinf)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return out, nil
	}
	if iloc == nil {
		return nil, ErrCorrupt
	}
	inside := func(s span, in []span) bool {
		for _, c := range in {
			if s.start >= c.start && s.end <= c.end {
				return true
			}
		}
		return false
	}
	// Items may share bytes; a file that has the same bytes overwritten more than its length in all is
	// refused rather than rewritten again and again.
	budget := len(data)
	err = itemLocations(data, *iloc, func(id uint32, method, dataRef uint64, extents []span) error {
		empty, ok := items[id]
		if !ok {
			return nil
		}
		if dataRef != 0 || method > 1 {
			return ErrMetadataRemains // in another file, or built from other items
		}
		// Only bytes inside mdat (method 0) or idat (method 1) are overwritten, so no box header or table
		// changes and stripping twice gives the same bytes.
		container := mdats
		if method == 1 {
			if idat == nil {
				return ErrCorrupt
			}
			container = []span{{idat.body, idat.end}}
		}
		written := 0
		for _, e := range extents {
			if method == 1 {
				e = span{e.start + idat.body, e.end + idat.body}
				if e.end == idat.body { // length 0: the rest of idat
					e.end = idat.end
				}
			} else if e.end == 0 {
				e.end = len(data)
			}
			if e.start > e.end || !inside(e, container) {
				return ErrCorrupt
			}
			if budget -= e.end - e.start; budget < 0 {
				return ErrCorrupt
			}
			for k := e.start; k < e.end; k++ {
				c := empty.pad
				if written < len(empty.fill) {
					c = empty.fill[written]
				}
				out[k] = c
				written++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// metadataItems maps the ids of the Exif and XMP items listed in iinf to what their bytes become.
func metadataItems(data []byte, iinf bmffBox) (map[uint32]blank, error) {
	f := fields{b: data[:iinf.end], i: iinf.body}
	version := f.uint(1)
	f.uint(3) // flags
	if version == 0 {
		f.uint(2) // entry count; the boxes that follow are walked instead
	} else {
		f.uint(4)
	}
	if f.bad {
		return nil, ErrCorrupt
	}
	items := map[uint32]blank{}
	err := walkBoxes(data, f.i, iinf.end, func(b bmffBox) error {
		if b.typ != "infe" {
			return nil
		}
		e := fields{b: data[:b.end], i: b.body}
		version := e.uint(1)
		e.uint(3)
		var id uint32
		var contentType string
		if version < 2 {
			id = uint32(e.uint(2))
			e.uint(2) // protection index
			e.str()   // name
			contentType = e.str()
		} else {
			if version == 2 {
				id = uint32(e.uint(2))
			} else {
				id = uint32(e.uint(4))
			}
			e.uint(2)
			typ := string(data[min(e.i, b.end):min(e.i+4, b.end)])
			e.uint(4)
			if e.bad {
				return ErrCorrupt
			}
			switch typ {
			case "Exif":
				items[id] = emptyExif
				return nil
			case "mime":
				e.str()
				contentType = e.str()
			default:
				return nil
			}
		}
		if e.bad {
			return ErrCorrupt // a mime item whose content type cannot be read may be XMP
		}
		if ct, _, _ := strings.Cut(contentType, ";"); strings.EqualFold(strings.TrimSpace(ct), "application/rdf+xml") {
			items[id] = emptyXMP
		}
		return nil
	})
	return items, err
}

// itemLocations calls fn for each item of the iloc box with its construction method, data reference and
// extents; an extent's end is 0 when its length is 0 (the rest of the data), and its offsets include the
// base offset.
func itemLocations(data []byte, iloc bmffBox, fn func(id uint32, method, dataRef uint64, extents []span) error) error {
	f := fields{b: data[:iloc.end], i: iloc.body}
	version := f.uint(1)
	f.uint(3)
	sizes := f.uint(2)
	offSize, lenSize, baseSize, idxSize := int(sizes>>12), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if version == 0 {
		idxSize = 0
	}
	for _, n := range []int{offSize, lenSize, baseSize, idxSize} {
		if n != 0 && n != 4 && n != 8 {
			return ErrCorrupt
		}
	}
	var count uint64
	switch version {
	case 0, 1:
		count = f.uint(2)
	case 2:
		count = f.uint(4)
	default:
		return ErrCorrupt
	}
	idSize := 2
	if version == 2 {
		idSize = 4
	}
	// An extent read from no bytes at all could be repeated 65,535 times per item for free.
	zeroWidth := offSize+lenSize+idxSize == 0
	var extents []span
	for k := uint64(0); k < count && !f.bad; k++ {
		id := uint32(f.uint(idSize))
		var method uint64
		if version > 0 {
			method = f.uint(2) & 15
		}
		dataRef := f.uint(2)
		base := f.uint(baseSize)
		n := f.uint(2)
		if zeroWidth && n > 1 {
			return ErrCorrupt
		}
		extents = extents[:0]
		for e := uint64(0); e < n && !f.bad; e++ {
			f.uint(idxSize)
			off, length := f.uint(offSize), f.uint(lenSize)
			start, end := base+off, base+off+length
			if start < base || end < start || end > uint64(len(data)) {
				return ErrCorrupt // past any file or container; checked against the container by fn
			}
			if length == 0 {
				end = 0
			}
			extents = append(extents, span{int(start), int(end)})
		}
		if f.bad {
			break
		}
		if err := fn(id, method, dataRef, extents); err != nil {
			return err
		}
	}
	if f.bad {
		return ErrCorrupt
	}
	return nil
}
