package index_test

// Minimal but valid tagged audio files, written by hand so the tests need no
// binary fixtures. Only what our tag reader (modules/index/tags) and a player
// look at is real: a tag in the right container and a few bytes of stream
// after it.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unicode/utf16"
)

type testTags struct {
	Title, Artist, AlbumArtist, Album, Genre string
	Year, Track, TrackTotal, Disc, DiscTotal int
}

func (tg testTags) trackField() string { return numPair(tg.Track, tg.TrackTotal) }
func (tg testTags) discField() string  { return numPair(tg.Disc, tg.DiscTotal) }

func numPair(n, total int) string {
	switch {
	case n == 0:
		return ""
	case total == 0:
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d/%d", n, total)
}

func yearField(y int) string {
	if y == 0 {
		return ""
	}
	return strconv.Itoa(y)
}

// mpegFrames is a few silent MPEG-1 Layer III frame headers with zero bodies.
func mpegFrames(n int) []byte {
	var b bytes.Buffer
	for range n {
		b.Write([]byte{0xFF, 0xFB, 0x90, 0x64})
		b.Write(make([]byte, 413))
	}
	return b.Bytes()
}

func syncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}

// id3v2 builds an ID3v2.<ver> tag (ver 2, 3 or 4).
func id3v2(ver int, tg testTags) []byte {
	ids := map[int][]string{
		2: {"TT2", "TP1", "TP2", "TAL", "TCO", "TYE", "TRK", "TPA"},
		3: {"TIT2", "TPE1", "TPE2", "TALB", "TCON", "TYER", "TRCK", "TPOS"},
		4: {"TIT2", "TPE1", "TPE2", "TALB", "TCON", "TDRC", "TRCK", "TPOS"},
	}[ver]
	values := []string{tg.Title, tg.Artist, tg.AlbumArtist, tg.Album, tg.Genre, yearField(tg.Year), tg.trackField(), tg.discField()}
	var frames bytes.Buffer
	for i, v := range values {
		if v == "" {
			continue
		}
		var body []byte
		if ver == 4 {
			body = append([]byte{3}, v...) // UTF-8
		} else {
			body = []byte{1, 0xFF, 0xFE} // UTF-16 with a little-endian BOM
			for _, u := range utf16.Encode([]rune(v)) {
				body = binary.LittleEndian.AppendUint16(body, u)
			}
		}
		frames.WriteString(ids[i])
		switch ver {
		case 2:
			frames.Write([]byte{byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))})
		case 3:
			frames.Write(binary.BigEndian.AppendUint32(nil, uint32(len(body))))
			frames.Write([]byte{0, 0})
		case 4:
			frames.Write(syncsafe(len(body)))
			frames.Write([]byte{0, 0})
		}
		frames.Write(body)
	}
	frames.Write(make([]byte, 16)) // padding
	hdr := append([]byte{'I', 'D', '3', byte(ver), 0, 0}, syncsafe(frames.Len())...)
	return append(hdr, frames.Bytes()...)
}

// id3v1 builds a 128-byte ID3v1.1 trailer.
func id3v1(tg testTags) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	copy(b[3:33], tg.Title)
	copy(b[33:63], tg.Artist)
	copy(b[63:93], tg.Album)
	copy(b[93:97], yearField(tg.Year))
	b[126] = byte(tg.Track)
	b[127] = 255 // no genre
	return b
}

// mp3 is an MP3 with an ID3v2.<ver> tag, or with only an ID3v1 trailer when
// ver is 1.
func mp3(ver int, tg testTags) []byte {
	if ver == 1 {
		return append(mpegFrames(3), id3v1(tg)...)
	}
	return append(id3v2(ver, tg), mpegFrames(3)...)
}

func vorbisComment(tg testTags) []byte {
	var b bytes.Buffer
	le := func(n int) { b.Write(binary.LittleEndian.AppendUint32(nil, uint32(n))) }
	vendor := "musicfs test"
	le(len(vendor))
	b.WriteString(vendor)
	var fields []string
	for _, kv := range [][2]string{
		{"TITLE", tg.Title}, {"ARTIST", tg.Artist}, {"ALBUMARTIST", tg.AlbumArtist},
		{"ALBUM", tg.Album}, {"GENRE", tg.Genre}, {"DATE", yearField(tg.Year)},
		{"TRACKNUMBER", numPair(tg.Track, 0)}, {"TRACKTOTAL", numPair(tg.TrackTotal, 0)},
		{"DISCNUMBER", numPair(tg.Disc, 0)}, {"DISCTOTAL", numPair(tg.DiscTotal, 0)},
	} {
		if kv[1] != "" {
			fields = append(fields, kv[0]+"="+kv[1])
		}
	}
	le(len(fields))
	for _, f := range fields {
		le(len(f))
		b.WriteString(f)
	}
	return b.Bytes()
}

// flac is fLaC + STREAMINFO + VORBIS_COMMENT + a frame header.
func flac(tg testTags) []byte {
	var b bytes.Buffer
	b.WriteString("fLaC")
	b.Write([]byte{0, 0, 0, 34}) // STREAMINFO, not last
	si := make([]byte, 34)
	binary.BigEndian.PutUint16(si[0:], 4096)
	binary.BigEndian.PutUint16(si[2:], 4096)
	// 44100 Hz, 2 channels, 16 bits, 0 samples
	si[10], si[11], si[12] = 0x0A, 0xC4, 0x42
	si[13] = 0xF0
	b.Write(si)
	vc := vorbisComment(tg)
	b.Write([]byte{0x84, byte(len(vc) >> 16), byte(len(vc) >> 8), byte(len(vc))}) // last, type 4
	b.Write(vc)
	b.Write([]byte{0xFF, 0xF8, 0x69, 0x08, 0x00, 0x00})
	return b.Bytes()
}

// oggPage builds one Ogg page holding one whole packet.
func oggPage(seq uint32, flags byte, packet []byte) []byte {
	var segs []byte
	n := len(packet)
	for n >= 255 {
		segs = append(segs, 255)
		n -= 255
	}
	segs = append(segs, byte(n))
	h := make([]byte, 27)
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint32(h[14:], 0x4d46) // serial
	binary.LittleEndian.PutUint32(h[18:], seq)
	h[26] = byte(len(segs))
	page := append(append(h, segs...), packet...)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
	return page
}

func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, v := range b {
		crc ^= uint32(v) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// ogg is an Ogg Vorbis (or Opus) stream's two header pages.
func ogg(opus bool, tg testTags) []byte {
	var ident, comment []byte
	if opus {
		ident = append([]byte("OpusHead"), 1, 2, 0x38, 1, 0x80, 0xBB, 0, 0, 0, 0, 0)
		comment = append([]byte("OpusTags"), vorbisComment(tg)...)
	} else {
		ident = append([]byte("\x01vorbis"), make([]byte, 23)...)
		ident[11] = 2
		comment = append(append([]byte("\x03vorbis"), vorbisComment(tg)...), 1)
	}
	return append(oggPage(0, 2, ident), oggPage(1, 0, comment)...)
}

func atom(name string, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(body))), name...), body...)
}

func textItem(name, v string) []byte {
	if v == "" {
		return nil
	}
	return atom(name, atom("data", []byte{0, 0, 0, 1, 0, 0, 0, 0}, []byte(v)))
}

// m4a is ftyp + moov/udta/meta/ilst + a little mdat.
func m4a(tg testTags) []byte {
	ilst := atom("ilst",
		textItem("\xa9nam", tg.Title), textItem("\xa9ART", tg.Artist), textItem("aART", tg.AlbumArtist),
		textItem("\xa9alb", tg.Album), textItem("\xa9gen", tg.Genre), textItem("\xa9day", yearField(tg.Year)),
		atom("trkn", atom("data", make([]byte, 8), []byte{0, 0, 0, byte(tg.Track), 0, byte(tg.TrackTotal), 0, 0})),
		atom("disk", atom("data", make([]byte, 8), []byte{0, 0, 0, byte(tg.Disc), 0, byte(tg.DiscTotal)})),
	)
	return append(
		atom("ftyp", []byte("M4A "), make([]byte, 4), []byte("M4A isom")),
		append(atom("moov", atom("udta", atom("meta", make([]byte, 4), ilst))), atom("mdat", make([]byte, 64))...)...)
}

// malformed returns files that are broken in the ways that crash or stall
// naive tag readers. They must be listed, untagged, and never stop a scan.
func malformed() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	good := flac(testTags{Title: "Cut short", Artist: "Someone"})
	hugeID3 := append([]byte{'I', 'D', '3', 3, 0, 0}, syncsafe(256<<20)...)
	hugeID3 = append(hugeID3, []byte("TIT2\x00\x00\x00\x10\x00\x00\x00hello")...)
	hugeFrame := append([]byte{'I', 'D', '3', 3, 0, 0}, syncsafe(64)...)
	hugeFrame = append(hugeFrame, []byte("TIT2\x7f\xff\xff\xff\x00\x00\x00")...)
	hugeFrame = append(hugeFrame, make([]byte, 60)...)
	hugeAtom := append(atom("ftyp", []byte("M4A "), make([]byte, 4)), []byte("\x7f\xff\xff\xffmoov")...)
	hugeItem := append(atom("ftyp", []byte("M4A "), make([]byte, 4)),
		atom("moov", atom("udta", atom("meta", make([]byte, 4), []byte("\x7f\xff\xff\xf0\xa9nam"))))...)
	tinyAtom := append(atom("ftyp", []byte("M4A "), make([]byte, 4)), []byte("\x00\x00\x00\x01moov")...)
	return map[string][]byte{
		"bad/empty.mp3":          nil,
		"bad/empty.flac":         nil,
		"bad/one byte.m4a":       {0},
		"bad/truncated.flac":     good[:len(good)/2],
		"bad/truncated id3.mp3":  mp3(3, testTags{Title: "x", Artist: "y"})[:20],
		"bad/garbage.mp3":        garbage,
		"bad/garbage.flac":       append([]byte("fLaC"), garbage...),
		"bad/garbage.ogg":        append([]byte("OggS"), garbage...),
		"bad/garbage.m4a":        append([]byte("\x00\x00\x00\x20ftyp"), garbage...),
		"bad/huge id3 size.mp3":  hugeID3,
		"bad/huge frame.mp3":     hugeFrame,
		"bad/huge atom.m4a":      hugeAtom,
		"bad/huge item.m4a":      hugeItem,
		"bad/tiny atom.m4a":      tinyAtom,
		"bad/ID3 only.mp3":       []byte("ID3"),
		"bad/text as audio.opus": []byte("this is not audio\n"),
	}
}

// writeLibrary writes files (relpath → content) under root, with distinct
// mtimes in the past so that a later rewrite always changes the mtime.
func writeLibrary(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		writeAt(t, root, rel, data, time.Now().Add(-time.Hour))
	}
}

func writeAt(t *testing.T, root, rel string, data []byte, mtime time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}
