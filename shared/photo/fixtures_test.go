package photo

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"testing"
)

// Real-shaped photos, built the way cameras and phones lay them out, with GPS in every place metadata goes.

// byteOrder is binary.BigEndian or binary.LittleEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffWithGPS returns an EXIF TIFF structure: IFD0 with Make, Orientation and a GPS IFD pointer (tag
// 0x8825), and the GPS IFD with latitude and longitude (23°22'30" N, 103°23'24" E: Mengzi).
func tiffWithGPS(order byteOrder) []byte {
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline when ≤ 4 bytes, else stored after the IFD
	}
	rational := func(pairs ...uint32) []byte {
		var b []byte
		for _, v := range pairs {
			b = order.AppendUint32(b, v)
		}
		return b
	}
	ifd := func(base int, entries []entry, next uint32) []byte {
		out := order.AppendUint16(nil, uint16(len(entries)))
		dataAt := base + 2 + 12*len(entries) + 4
		var data []byte
		for _, e := range entries {
			out = order.AppendUint16(out, e.tag)
			out = order.AppendUint16(out, e.typ)
			out = order.AppendUint32(out, e.count)
			if len(e.value) <= 4 {
				out = append(out, append(e.value, make([]byte, 4-len(e.value))...)...)
			} else {
				out = order.AppendUint32(out, uint32(dataAt+len(data)))
				data = append(data, e.value...)
			}
		}
		out = order.AppendUint32(out, next)
		return append(out, data...)
	}
	hdr := []byte("II*\x00")
	if order == binary.BigEndian {
		hdr = []byte("MM\x00*")
	}
	hdr = order.AppendUint32(hdr, 8)
	ifd0Len := len(ifd(8, []entry{{0x010F, 2, 6, []byte("Apple\x00")}, {0x0112, 3, 1, order.AppendUint16(nil, 1)}, {0x8825, 4, 1, []byte{0, 0, 0, 0}}}, 0))
	gpsAt := 8 + ifd0Len
	ifd0 := ifd(8, []entry{{0x010F, 2, 6, []byte("Apple\x00")}, {0x0112, 3, 1, order.AppendUint16(nil, 1)}, {0x8825, 4, 1, order.AppendUint32(nil, uint32(gpsAt))}}, 0)
	gps := ifd(gpsAt, []entry{
		{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 3, rational(23, 1, 22, 1, 30, 1)},
		{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rational(103, 1, 23, 1, 24, 1)},
	}, 0)
	return append(append(hdr, ifd0...), gps...)
}

// xmpWithGPS is an XMP packet as phones write it, GPS included.
const xmpWithGPS = `<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">` +
	`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" ` +
	`exif:GPSLatitude="23,22.5N" exif:GPSLongitude="103,23.4E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`

func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker}
	s = binary.BigEndian.AppendUint16(s, uint16(len(payload)+2))
	return append(s, payload...)
}

func exifSegment(order byteOrder) []byte {
	return segment(0xE1, append([]byte("Exif\x00\x00"), tiffWithGPS(order)...))
}

func xmpSegment() []byte {
	return segment(0xE1, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmpWithGPS...))
}

// iccSegment is an APP2 ICC profile chunk (1 of 1) with a profile header's signature in place.
func iccSegment() []byte {
	profile := make([]byte, 132)
	binary.BigEndian.PutUint32(profile, uint32(len(profile)))
	copy(profile[36:], "acsp")
	return segment(0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), profile...))
}

// mpfSegment is the APP2 multi-picture index: a TIFF structure whose MP entries point at the second image.
func mpfSegment(secondSize, secondOffset uint32) []byte {
	o := binary.BigEndian
	b := []byte("MPF\x00MM\x00*\x00\x00\x00\x08")
	b = o.AppendUint16(b, 3)
	b = append(o.AppendUint32(o.AppendUint16(o.AppendUint16(b, 0xB000), 7), 4), "0100"...)
	b = o.AppendUint32(o.AppendUint32(o.AppendUint16(o.AppendUint16(b, 0xB001), 4), 1), 2)
	b = o.AppendUint32(o.AppendUint32(o.AppendUint16(o.AppendUint16(b, 0xB002), 7), 32), 8+2+36+4)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(o.AppendUint32(o.AppendUint32(b, 0x20030000), 0), 0) // primary image
	b = append(b, 0, 0, 0, 0)
	b = o.AppendUint32(o.AppendUint32(o.AppendUint32(b, 0x00020002), secondSize), secondOffset)
	return segment(0xE2, append(b, 0, 0, 0, 0))
}

// encodedJPEG is a real baseline JPEG of testImage: SOI, DQT, SOF0, DHT, SOS, entropy-coded data, EOI.
func encodedJPEG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegWith inserts segments after SOI of a real JPEG.
func jpegWith(t testing.TB, segments ...[]byte) []byte {
	raw := encodedJPEG(t)
	out := append([]byte{}, raw[:2]...)
	for _, s := range segments {
		out = append(out, s...)
	}
	return append(out, raw[2:]...)
}

// mpfJPEG is a multi-picture JPEG as phones write it (a primary image and a second image after its EOI),
// each image with its own EXIF and GPS.
func mpfJPEG(t testing.TB) []byte {
	second := jpegWith(t, exifSegment(binary.LittleEndian))
	// The second entry's offset counts from the MPF segment's TIFF header; its value matters to readers,
	// not to Strip, so the segment is sized first and then filled in.
	segs := func(offset uint32) [][]byte {
		return [][]byte{exifSegment(binary.BigEndian), xmpSegment(), iccSegment(),
			mpfSegment(uint32(len(second)), offset), segment(0xFE, []byte("secret comment"))}
	}
	before := 2 + len(segs(0)[0]) + len(segs(0)[1]) + len(segs(0)[2]) + 8
	first := jpegWith(t, segs(uint32(len(jpegWith(t, segs(0)...))-before))...)
	return append(first, second...)
}

// motionPhotoJPEG is a JPEG with a video appended after EOI (Google/Samsung motion photos), the video
// carrying an EXIF block of its own.
func motionPhotoJPEG(t testing.TB) []byte {
	video := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	video = append(video, "\x00\x00\x00\x40uuid"...)
	video = append(video, append([]byte("Exif\x00\x00"), tiffWithGPS(binary.BigEndian)...)...)
	return append(jpegWith(t, exifSegment(binary.BigEndian)), video...)
}

// exifAfterScanJPEG has its EXIF between the end of the scan and EOI, where segments may legally sit (a
// progressive JPEG has tables and application segments between its scans).
func exifAfterScanJPEG(t testing.TB) []byte {
	raw := encodedJPEG(t)
	out := append([]byte{}, raw[:len(raw)-2]...)
	out = append(out, exifSegment(binary.BigEndian)...)
	return append(out, 0xFF, 0xD9)
}

// heifItem is one item of a generated HEIC.
type heifItem struct {
	id          uint32
	typ         string // hvc1, Exif, mime
	contentType string // for mime items
	payload     []byte
	inIdat      bool // construction method 1
	extents     int  // split the payload into this many extents (default 1)
}

// heifLayout says how a generated HEIC encodes its tables.
type heifLayout struct {
	infeVersion int // 2 or 3
	ilocVersion int // 0, 1 or 2
	offSize     int // 4 or 8
	baseSize    int // 0, 4 or 8: with a base offset, extents count from mdat's payload
	largeMdat   bool
}

func bmff(typ string, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(payload)))
	return append(append(b, typ...), payload...)
}

func fullBox(typ string, version byte, payload []byte) []byte {
	return bmff(typ, append([]byte{version, 0, 0, 0}, payload...))
}

func appendN(b []byte, n int, v uint64) []byte {
	for k := n - 1; k >= 0; k-- {
		b = append(b, byte(v>>(8*k)))
	}
	return b
}

// heicFile lays out ftyp, meta (hdlr, pitm, iinf, iloc, idat) and mdat as HEIF writers do; it returns the
// file and, per item id, the file ranges its bytes occupy.
func heicFile(l heifLayout, items []heifItem) ([]byte, map[uint32][]span) {
	ftyp := bmff("ftyp", []byte("heic\x00\x00\x00\x00mif1heicmiaf"))
	build := func(mdatBody int) ([]byte, []byte, map[uint32][]span) {
		where, inIdat := map[uint32][]span{}, map[uint32][]span{}
		var infes, iloc, idat, mdat []byte
		for _, it := range items {
			e := []byte{}
			if l.infeVersion == 3 {
				e = appendN(e, 4, uint64(it.id))
			} else {
				e = appendN(e, 2, uint64(it.id))
			}
			e = append(e, 0, 0)
			e = append(e, it.typ...)
			e = append(e, 0) // empty name
			if it.typ == "mime" {
				e = append(append(e, it.contentType...), 0)
			}
			infes = append(infes, fullBox("infe", byte(l.infeVersion), e)...)
		}
		idSize := 2
		if l.ilocVersion == 2 {
			idSize = 4
		}
		iloc = []byte{byte(l.offSize<<4 | 4), byte(l.baseSize << 4)}
		iloc = appendN(iloc, idSize, uint64(len(items)))
		for _, it := range items {
			iloc = appendN(iloc, idSize, uint64(it.id))
			if l.ilocVersion > 0 {
				method := 0
				if it.inIdat {
					method = 1
				}
				iloc = appendN(iloc, 2, uint64(method))
			}
			iloc = appendN(iloc, 2, 0)
			parts := max(it.extents, 1)
			var base uint64
			if !it.inIdat && l.baseSize > 0 {
				base = uint64(mdatBody)
			}
			iloc = appendN(iloc, l.baseSize, base)
			iloc = appendN(iloc, 2, uint64(parts))
			step := (len(it.payload) + parts - 1) / parts
			for p := 0; p < parts; p++ {
				chunk := it.payload[min(p*step, len(it.payload)):min((p+1)*step, len(it.payload))]
				var off uint64
				if it.inIdat {
					off = uint64(len(idat))
					inIdat[it.id] = append(inIdat[it.id], span{len(idat), len(idat) + len(chunk)})
					idat = append(idat, chunk...)
				} else {
					off = uint64(mdatBody + len(mdat))
					where[it.id] = append(where[it.id], span{mdatBody + len(mdat), mdatBody + len(mdat) + len(chunk)})
					mdat = append(mdat, chunk...)
					// a byte between extents, so extents are not contiguous
					mdat = append(mdat, 0xAA)
				}
				iloc = appendN(iloc, l.offSize, off-base)
				iloc = appendN(iloc, 4, uint64(len(chunk)))
			}
		}
		iinfBox := fullBox("iinf", 0, append(appendN(nil, 2, uint64(len(items))), infes...))
		hdlr := fullBox("hdlr", 0, append(append([]byte{0, 0, 0, 0}, "pict"...), make([]byte, 13)...))
		pitm := fullBox("pitm", 0, []byte{0, 1})
		body := append(append(append(hdlr, pitm...), iinfBox...), fullBox("iloc", byte(l.ilocVersion), iloc)...)
		idatAt := len(ftyp) + 12 + len(body) + 8
		if len(idat) > 0 {
			body = append(body, bmff("idat", idat)...)
		}
		for id, spans := range inIdat {
			for _, s := range spans {
				where[id] = append(where[id], span{s.start + idatAt, s.end + idatAt})
			}
		}
		return fullBox("meta", 0, body), mdat, where
	}
	hdr := 8
	if l.largeMdat {
		hdr = 16
	}
	meta, _, _ := build(0)
	mdatBody := len(ftyp) + len(meta) + hdr
	meta, mdat, where := build(mdatBody)
	out := append(append([]byte{}, ftyp...), meta...)
	if l.largeMdat {
		out = binary.BigEndian.AppendUint32(out, 1)
		out = append(out, "mdat"...)
		out = binary.BigEndian.AppendUint64(out, uint64(16+len(mdat)))
	} else {
		out = binary.BigEndian.AppendUint32(out, uint32(8+len(mdat)))
		out = append(out, "mdat"...)
	}
	return append(out, mdat...), where
}

// exifItem is an EXIF item payload as Apple writes it: the offset of the TIFF header (6), "Exif\0\0", TIFF.
func exifItem() []byte {
	return append([]byte("\x00\x00\x00\x06Exif\x00\x00"), tiffWithGPS(binary.BigEndian)...)
}

// appleHEIC is a HEIC shaped like an iPhone's: an hvc1 image item, an Exif item and an XMP item in mdat.
func appleHEIC() ([]byte, map[uint32][]span) {
	return heicFile(heifLayout{infeVersion: 2, ilocVersion: 1, offSize: 4}, []heifItem{
		{id: 1, typ: "hvc1", payload: bytes.Repeat([]byte{0x00, 0x00, 0x01, 0x26, 0x01, 0xAF}, 20)},
		{id: 2, typ: "Exif", payload: exifItem()},
		{id: 3, typ: "mime", contentType: "application/rdf+xml", payload: []byte(xmpWithGPS)},
	})
}
