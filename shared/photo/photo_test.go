package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, color.RGBA{uint8(x * 30), uint8(y * 30), 100, 255})
		}
	}
	return img
}

// JPEGWithEXIF returns a real JPEG carrying an APP1 Exif segment with a GPS marker and a comment.
func jpegWithEXIF(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	exif := append([]byte("Exif\x00\x00"), []byte("GPSLatitude=23.4;GPSLongitude=103.38")...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exif)+2))
	seg = append(seg, exif...)
	com := []byte{0xFF, 0xFE, 0, 0}
	binary.BigEndian.PutUint16(com[2:], uint16(len("secret comment")+2))
	com = append(com, "secret comment"...)
	out := append([]byte{}, raw[:2]...)
	out = append(out, seg...)
	out = append(out, com...)
	return append(out, raw[2:]...)
}

func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func pngWithText(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage()); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	ihdrEnd := 8 + 12 + 13
	out := append([]byte{}, raw[:ihdrEnd]...)
	out = append(out, pngChunk("tEXt", []byte("GPS\x0023.4,103.38"))...)
	out = append(out, pngChunk("eXIf", []byte("MM\x00*GPSDATA"))...)
	return append(out, raw[ihdrEnd:]...)
}

func riffChunk(typ string, data []byte) []byte {
	c := []byte(typ)
	c = binary.LittleEndian.AppendUint32(c, uint32(len(data)))
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func webpWithEXIF() []byte {
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", []byte{0x0C, 0, 0, 0, 7, 0, 0, 7, 0, 0})...)
	body = append(body, riffChunk("VP8L", []byte("pixels!"))...)
	body = append(body, riffChunk("EXIF", []byte("GPSDATA"))...)
	body = append(body, riffChunk("XMP ", []byte("<x:GPS/>"))...)
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0}, JPEG},
		{"png", append(append([]byte{}, pngSignature...), 0, 0), PNG},
		{"webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), WebP},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), HEIC},
		{"mp4 is not heic", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00"), ""},
		{"gif", []byte("GIF89a......"), ""},
		{"text", []byte("hello world, not an image"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.data); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStrip(t *testing.T) {
	tests := []struct {
		name     string
		typ      string
		data     []byte
		gone     []string
		decode   func([]byte) error
		stripped bool
	}{
		{
			name: "jpeg", typ: JPEG, data: jpegWithEXIF(t), gone: []string{"Exif", "GPSLatitude", "secret comment"},
			decode: func(b []byte) error { _, err := jpeg.Decode(bytes.NewReader(b)); return err }, stripped: true,
		},
		{
			name: "png", typ: PNG, data: pngWithText(t), gone: []string{"tEXt", "eXIf", "GPS"},
			decode: func(b []byte) error { _, err := png.Decode(bytes.NewReader(b)); return err }, stripped: true,
		},
		{name: "webp", typ: WebP, data: webpWithEXIF(), gone: []string{"EXIF", "GPSDATA", "XMP "}, stripped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stripped, err := Strip(tt.typ, tt.data)
			if err != nil {
				t.Fatalf("Strip: %v", err)
			}
			if stripped != tt.stripped {
				t.Errorf("stripped = %v, want %v", stripped, tt.stripped)
			}
			for _, s := range tt.gone {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("output still contains %q", s)
				}
			}
			if tt.decode != nil {
				if err := tt.decode(out); err != nil {
					t.Errorf("stripped image does not decode: %v", err)
				}
			}
		})
	}
}

func TestStripKeepsPixelsJPEG(t *testing.T) {
	in := jpegWithEXIF(t)
	out, _, err := Strip(JPEG, in)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := jpeg.Decode(bytes.NewReader(in))
	b, _ := jpeg.Decode(bytes.NewReader(out))
	if a.Bounds() != b.Bounds() || a.At(3, 4) != b.At(3, 4) {
		t.Errorf("pixels changed")
	}
}

func TestStripWebPHeader(t *testing.T) {
	out, _, err := Strip(WebP, webpWithEXIF())
	if err != nil {
		t.Fatal(err)
	}
	if got := int(binary.LittleEndian.Uint32(out[4:])); got != len(out)-8 {
		t.Errorf("RIFF size = %d, want %d", got, len(out)-8)
	}
	if flags := out[20]; flags&0x0C != 0 {
		t.Errorf("VP8X flags still announce EXIF/XMP: %#x", flags)
	}
}

func TestStripCorrupt(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		data []byte
	}{
		{"jpeg truncated segment", JPEG, []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x10, 0x00, 'E'}},
		{"jpeg garbage", JPEG, []byte{0xFF, 0xD8, 0x00, 0x00}},
		{"png truncated", PNG, append(append([]byte{}, pngSignature...), 0, 0, 0, 99, 'I', 'D', 'A', 'T')},
		{"webp truncated", WebP, []byte("RIFF\x10\x00\x00\x00WEBPVP8L\xff\x00\x00\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Strip(tt.typ, tt.data); err == nil {
				t.Errorf("Strip accepted corrupt data")
			}
		})
	}
}
