package tagcorpus

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// An id3Frame is one ID3v2 frame as it is written: its flags and body
// are used as given, so a frame can be as broken as a test needs.
type id3Frame struct {
	id    string
	flags uint16
	body  []byte
	// plainSize writes an ID3v2.4 frame size as a plain 32-bit number,
	// as iTunes did, instead of a syncsafe one.
	plainSize bool
}

// ID3v2 tag header flags.
const (
	id3Unsync = 0x80
)

// ID3v2 frame format flags (the second flag byte).
const (
	v23Compressed = 0x0080 // a 4-byte decompressed size, then zlib data
	v24Compressed = 0x0008
	v24Unsync     = 0x0002
	v24DataLength = 0x0001 // a 4-byte syncsafe data length indicator
)

// id3Tag renders an ID3v2.ver tag with the given header flags, frames and
// 32 bytes of padding. With id3Unsync in v2.3, the frames are
// unsynchronised as a whole.
func id3Tag(ver, flags byte, frames ...id3Frame) []byte {
	var body []byte
	for _, f := range frames {
		if len(f.id) != 4-boolInt(ver == 2) {
			panic(fmt.Sprintf("tagcorpus: frame ID %q in ID3v2.%d", f.id, ver))
		}
		body = append(body, f.id...)
		n := len(f.body)
		switch {
		case ver == 2:
			body = append(body, byte(n>>16), byte(n>>8), byte(n))
		case ver == 3 || f.plainSize:
			body = binary.BigEndian.AppendUint32(body, uint32(n))
		default:
			body = append(body, syncsafe(n)...)
		}
		if ver > 2 {
			body = binary.BigEndian.AppendUint16(body, f.flags)
		}
		body = append(body, f.body...)
	}
	if flags&id3Unsync != 0 && ver < 4 {
		body = unsync(body)
	}
	body = append(body, make([]byte, 32)...)
	h := []byte{'I', 'D', '3', ver, 0, flags}
	return append(append(h, syncsafe(len(body))...), body...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func syncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
}

// unsync inserts a zero byte after every 0xFF that is followed by a byte
// of 0xE0 or more, or by zero, or ends the data: ID3v2
// unsynchronisation.
func unsync(b []byte) []byte {
	var out []byte
	for i, c := range b {
		out = append(out, c)
		if c == 0xFF && (i+1 == len(b) || b[i+1] >= 0xE0 || b[i+1] == 0) {
			out = append(out, 0)
		}
	}
	return out
}

// text frame bodies

// latin1Body is a text frame in ISO-8859-1 (encoding 0); several values
// are NUL-separated.
func latin1Body(vals ...string) []byte {
	b := []byte{0}
	for i, v := range vals {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, latin1(v)...)
	}
	return b
}

// latin1 encodes s as ISO-8859-1; s must have no rune above U+00FF.
func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		if r > 0xFF {
			panic(fmt.Sprintf("tagcorpus: %q is not Latin-1", s))
		}
		b = append(b, byte(r))
	}
	return b
}

// utf8Body is a text frame in UTF-8 (encoding 3, ID3v2.4).
func utf8Body(vals ...string) []byte {
	return append([]byte{3}, strings.Join(vals, "\x00")...)
}

// utf16Body is a text frame in UTF-16 (encoding 1): each value little
// endian with its own byte-order mark, NUL-separated.
func utf16Body(vals ...string) []byte {
	b := []byte{1}
	for i, v := range vals {
		if i > 0 {
			b = append(b, 0, 0)
		}
		b = append(b, 0xFF, 0xFE)
		b = append(b, utf16LE(v)...)
	}
	return b
}

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// textFrame is a plain frame with body b.
func textFrame(id string, b []byte) id3Frame { return id3Frame{id: id, body: b} }

// compressedV23 is an ID3v2.3 frame compressed with zlib: its body is the
// decompressed size, then the zlib stream.
func compressedV23(id string, raw []byte) id3Frame {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(raw)))
	return id3Frame{id: id, flags: v23Compressed, body: append(b, deflate(raw)...)}
}

// compressedV24 is an ID3v2.4 frame compressed with zlib, with the data
// length indicator the specification requires with compression.
func compressedV24(id string, raw []byte) id3Frame {
	b := append(syncsafe(len(raw)), deflate(raw)...)
	return id3Frame{id: id, flags: v24Compressed | v24DataLength, body: b}
}

// unsyncV24 is an ID3v2.4 frame unsynchronised on its own, with its data
// length indicator (the length before unsynchronisation).
func unsyncV24(id string, raw []byte) id3Frame {
	b := append(syncsafe(len(raw)), unsync(raw)...)
	return id3Frame{id: id, flags: v24Unsync | v24DataLength, body: b}
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b) // a bytes.Buffer does not fail
	w.Close()
	return buf.Bytes()
}

// id3v1 renders a 128-byte ID3v1.1 tag. Text is Latin-1, cut to its field
// as taggers cut it; track 0 leaves the v1.1 track out.
func id3v1(title, artist, album, year string, track, genre byte) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	copy(b[3:33], latin1(title))
	copy(b[33:63], latin1(artist))
	copy(b[63:93], latin1(album))
	copy(b[93:97], year)
	b[126] = track // b[125] stays 0: the v1.1 track marker
	b[127] = genre
	return b
}
