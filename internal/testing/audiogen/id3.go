package audiogen

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// minID3Padding zero bytes always end an ID3v2 tag, as taggers leave
// padding. Our reader (modules/index/tags) reads frames up to the declared
// size, but a reader that stops short of it (dhowden/tag, which MusicFS once
// used, stopped 10 bytes short) would lose the last frame of a tag without.
const minID3Padding = 16

// id3Frame is one ID3v2 frame before its header is written.
type id3Frame struct {
	id   string
	body []byte
}

// id3v2Frames returns the frames for tags in ID3v2.ver (2, 3 or 4).
func id3v2Frames(ver int, t Tags) []id3Frame {
	var fs []id3Frame
	for _, f := range [...]struct {
		ids   [3]string // v2.2, v2.3, v2.4
		value string
	}{
		{[3]string{"TT2", "TIT2", "TIT2"}, t.Title},
		{[3]string{"TP1", "TPE1", "TPE1"}, t.Artist},
		{[3]string{"TP2", "TPE2", "TPE2"}, t.AlbumArtist},
		{[3]string{"TAL", "TALB", "TALB"}, t.Album},
		{[3]string{"TCO", "TCON", "TCON"}, t.Genre},
		{[3]string{"TYE", "TYER", "TDRC"}, yearString(t.Year)},
		{[3]string{"TRK", "TRCK", "TRCK"}, xOfN(t.Track, t.TrackTotal)},
		{[3]string{"TPA", "TPOS", "TPOS"}, xOfN(t.Disc, t.DiscTotal)},
	} {
		if f.value != "" {
			fs = append(fs, id3Frame{f.ids[ver-2], id3Text(ver, f.value)})
		}
	}
	return fs
}

// id3Text encodes a text frame body: ISO-8859-1 for ASCII, otherwise UTF-8
// in v2.4 and UTF-16 with a BOM before it (v2.2 and v2.3 have no UTF-8).
func id3Text(ver int, s string) []byte {
	if isASCII(s) {
		return append([]byte{0}, s...)
	}
	if ver == 4 {
		return append([]byte{3}, s...)
	}
	b := []byte{1, 0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// id3v2Tag renders a whole tag: header, frames, then max(padding,
// minID3Padding) zero bytes.
func id3v2Tag(ver int, frames []id3Frame, padding int) []byte {
	if ver < 2 || ver > 4 {
		panic(fmt.Sprintf("audiogen: ID3v2.%d does not exist", ver))
	}
	b := []byte{'I', 'D', '3', byte(ver), 0, 0, 0, 0, 0, 0}
	for _, f := range frames {
		b = appendID3Frame(b, ver, f.id, len(f.body))
		b = append(b, f.body...)
	}
	b = append(b, make([]byte, max(padding, minID3Padding))...)
	putSyncsafe(b[6:10], len(b)-10)
	return b
}

// appendID3Frame writes a frame header declaring size n: v2.2 has 3-byte
// IDs and sizes, v2.3 a plain 32-bit size, v2.4 a syncsafe one.
func appendID3Frame(b []byte, ver int, id string, n int) []byte {
	if len(id) != 3+min(ver-2, 1) {
		panic(fmt.Sprintf("audiogen: frame ID %q in ID3v2.%d", id, ver))
	}
	b = append(b, id...)
	switch ver {
	case 2:
		return append(b, byte(n>>16), byte(n>>8), byte(n))
	case 3:
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, 0, 0, 0, 0)
		putSyncsafe(b[len(b)-4:], n)
	}
	return append(b, 0, 0) // flags
}

// putSyncsafe stores n in 4 bytes of 7 bits each; n is masked to 28 bits.
func putSyncsafe(b []byte, n int) {
	for i := 3; i >= 0; i-- {
		b[i] = byte(n & 0x7F)
		n >>= 7
	}
}

// id3v1Tag renders the 128-byte ID3v1.1 trailer. Text is ISO-8859-1,
// truncated to the field; runes beyond Latin-1 become '?'.
func id3v1Tag(t Tags) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	copy(b[3:33], latin1(t.Title))
	copy(b[33:63], latin1(t.Artist))
	copy(b[63:93], latin1(t.Album))
	copy(b[93:97], yearString(t.Year))
	if t.Track > 0 && t.Track < 256 {
		b[126] = byte(t.Track) // b[125] stays 0: the v1.1 track marker
	}
	b[127] = 255 // no genre
	for i, g := range id3v1Genres {
		if g == t.Genre {
			b[127] = byte(i)
		}
	}
	return b
}

func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		if r > 0xFF {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

// id3v1Genres are the genres of the ID3v1 specification, by number, spelt
// as mutagen (and so our reader) spells them.
var id3v1Genres = [...]string{
	"Blues", "Classic Rock", "Country", "Dance", "Disco", "Funk", "Grunge",
	"Hip-Hop", "Jazz", "Metal", "New Age", "Oldies", "Other", "Pop", "R&B",
	"Rap", "Reggae", "Rock", "Techno", "Industrial", "Alternative", "Ska",
	"Death Metal", "Pranks", "Soundtrack", "Euro-Techno", "Ambient",
	"Trip-Hop", "Vocal", "Jazz+Funk", "Fusion", "Trance", "Classical",
	"Instrumental", "Acid", "House", "Game", "Sound Clip", "Gospel",
	"Noise", "Alt. Rock", "Bass", "Soul", "Punk", "Space", "Meditative",
	"Instrumental Pop", "Instrumental Rock", "Ethnic", "Gothic",
	"Darkwave", "Techno-Industrial", "Electronic", "Pop-Folk",
	"Eurodance", "Dream", "Southern Rock", "Comedy", "Cult", "Gangsta Rap",
	"Top 40", "Christian Rap", "Pop/Funk", "Jungle", "Native American",
	"Cabaret", "New Wave", "Psychedelic", "Rave", "Showtunes", "Trailer",
	"Lo-Fi", "Tribal", "Acid Punk", "Acid Jazz", "Polka", "Retro",
	"Musical", "Rock & Roll", "Hard Rock",
}
