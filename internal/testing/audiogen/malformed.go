package audiogen

import (
	"encoding/binary"
	"math/rand/v2"
)

// MalformedFile is a file a scanner must survive: listed, never a crash or
// a hang. Why says what is wrong with it.
type MalformedFile struct {
	Name string
	Data []byte
	Why  string
}

// Malformed returns the malformed corpus. Names are unique and carry the
// extension a scanner would dispatch on.
func Malformed() []MalformedFile {
	return []MalformedFile{
		{"empty.mp3", []byte{}, "zero bytes"},
		{"empty.flac", []byte{}, "zero bytes"},
		{"truncated-vorbis-comment.flac", truncatedVorbisComment(), "file ends in the middle of the VORBIS_COMMENT block"},
		{"huge-metadata-block.flac", hugeFLACBlock(), "200-byte file whose VORBIS_COMMENT block header claims 16 MiB"},
		{"huge-id3v2-tag.mp3", hugeID3v2Tag(), "ID3v2 header claims a 256 MiB tag in a small file"},
		{"huge-id3v24-frame.mp3", hugeID3v24Frame(), "ID3v2.4 TIT2 frame claims 256 MiB (the syncsafe maximum)"},
		{"garbled-encoding.mp3", garbledEncoding(), "ID3v2.3 text frames with text encoding bytes 0x2A and 0xFF (only 0-3 exist)"},
		{"truncated-id3v2.mp3", truncatedID3v2(), "file ends inside the ID3v2 tag"},
		{"garbage.m4a", garbage(4096, 1), "random bytes"},
		{"garbage.ogg", append([]byte("OggS"), garbage(4096, 2)...), "OggS capture pattern followed by random bytes"},
		{"garbage.opus", garbage(4096, 3), "random bytes"},
		{"huge-atom.m4a", hugeAtom(), "MP4 whose moov and \xa9nam atoms claim 0xFFFFFFFF bytes"},
		{"random.wav", garbage(8192, 4), "random bytes"},
		{"random.aiff", garbage(8192, 5), "random bytes"},
		{"invalid-utf8.flac", invalidUTF8FLAC(), "valid FLAC whose Vorbis comments are not valid UTF-8"},
		{"invalid-utf8.mp3", invalidUTF8MP3(), "valid MP3 with an ID3v2.4 UTF-8 (encoding 3) frame holding invalid UTF-8"},
		{"latin1-id3v1.mp3", latin1ID3v1(), "valid MP3 with only an ID3v1 tag in ISO-8859-1 (Bj\\xf6rk): raw bytes are not UTF-8"},
	}
}

// MalformedLibrary places Malformed() under Malformed/ for WriteLibrary.
func MalformedLibrary() []LibFile {
	var lib []LibFile
	for _, f := range Malformed() {
		lib = append(lib, LibFile{RelPath: "Malformed/" + f.Name, Data: f.Data, Format: FormatMalformed})
	}
	return lib
}

// garbage is n deterministic pseudo-random bytes; the first byte avoids the
// magic numbers of the formats a scanner sniffs.
func garbage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x6175_6469_6f67_656e))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[0] = 0x5A
	return b
}

func smallFLAC(t Tags) []byte {
	return FLAC(t, FLACOptions{Samples: 4096, Silence: true})
}

func truncatedVorbisComment() []byte {
	b := smallFLAC(Tags{Title: "Truncated", Artist: "Broken Files", Album: "Malformed"})
	n := int(b[43])<<16 | int(b[44])<<8 | int(b[45]) // VORBIS_COMMENT follows STREAMINFO
	return b[:46+n/2]
}

func hugeFLACBlock() []byte {
	b := smallFLAC(Tags{Title: "Huge Block"})[:42] // marker and STREAMINFO
	b = append(b, flacVorbisComment, 0xFF, 0xFF, 0xFF)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(FLACVendor)))
	b = append(b, FLACVendor...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = append(b, "TITLE=Huge Block"...)
	return append(b, make([]byte, 200-len(b))...)
}

func hugeID3v2Tag() []byte {
	b := MP3(Tags{Title: "Huge Tag"}, MP3Options{ID3v2: 3, Frames: 4})
	putSyncsafe(b[6:10], 1<<28-1)
	return b
}

func hugeID3v24Frame() []byte {
	b := MP3(Tags{Title: "Huge Frame", Artist: "Broken Files"}, MP3Options{ID3v2: 4, Frames: 4})
	putSyncsafe(b[14:18], 1<<28-1) // the first frame is TIT2
	return b
}

func garbledEncoding() []byte {
	frames := []id3Frame{
		{"TIT2", append([]byte{0x2A}, "Garbled Encoding"...)},
		{"TPE1", append([]byte{0xFF}, "Broken Files"...)},
		{"TALB", append([]byte{0}, "Malformed"...)},
	}
	return append(id3v2Tag(3, frames, 0), appendMP3Frames(nil, 4, 0)...)
}

func truncatedID3v2() []byte {
	b := MP3(Tags{Title: "Truncated Tag", Artist: "Broken Files", Album: "Malformed"}, MP3Options{ID3v2: 3, Frames: 4})
	return b[:10+syncsafeLen(b[6:10])/2]
}

func syncsafeLen(b []byte) int {
	return int(b[0])<<21 | int(b[1])<<14 | int(b[2])<<7 | int(b[3])
}

func hugeAtom() []byte {
	b := binary.BigEndian.AppendUint32(nil, 20)
	b = append(b, "ftypM4A \x00\x00\x00\x00M4A "...)
	b = append(b, 0xFF, 0xFF, 0xFF, 0xFF)
	b = append(b, "moov"...)
	b = binary.BigEndian.AppendUint32(b, 8+8+8+24)
	b = append(b, "udta"...)
	b = binary.BigEndian.AppendUint32(b, 8+8+24)
	b = append(b, "ilst"...)
	b = append(b, 0xFF, 0xFF, 0xFF, 0xFF)
	b = append(b, "\xa9nam"...)
	b = binary.BigEndian.AppendUint32(b, 24)
	b = append(b, "data\x00\x00\x00\x01\x00\x00\x00\x00Huge Atom"...)
	return append(b, garbage(64, 6)...)
}

func invalidUTF8FLAC() []byte {
	s := flacStream{
		samples:  8192,
		silence:  true,
		comments: []string{"TITLE=Bad \xff\xfe UTF-8", "ARTIST=Broken \xc3\x28 Files", "ALBUM=Malformed \xed\xa0\x80"},
		padding:  -1,
	}
	return s.bytes()
}

func invalidUTF8MP3() []byte {
	frames := []id3Frame{
		{"TIT2", append([]byte{3}, "Bad \xff\xfe UTF-8"...)},
		{"TPE1", append([]byte{3}, "Broken \xc3\x28 Files"...)},
		{"TALB", append([]byte{3}, "Malformed"...)},
	}
	return append(id3v2Tag(4, frames, 0), appendMP3Frames(nil, 4, 0)...)
}

func latin1ID3v1() []byte {
	return MP3(Tags{Title: "J\u00f3ga", Artist: "Bj\u00f6rk", Album: "Homogenic", Year: 1997}, MP3Options{ID3v1: true, Frames: 4})
}
