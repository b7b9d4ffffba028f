package tags

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"strings"
)

const (
	// maxTextFrame bounds the text frames read; a longer one (lyrics, a
	// garbage size) is skipped unread.
	maxTextFrame = 1 << 20
	// maxUnsyncTag bounds a tag that must be read whole to undo tag-level
	// unsynchronisation (ID3v2.2 and v2.3).
	maxUnsyncTag = 8 << 20
)

// id3Fields maps the text frames we read, of every ID3v2 version, to fields.
var id3Fields = map[string]Field{
	"TIT2": Title, "TT2": Title,
	"TPE1": Artist, "TP1": Artist,
	"TPE2": AlbumArtist, "TP2": AlbumArtist,
	"TALB": Album, "TAL": Album,
	"TCON": Genre, "TCO": Genre,
	"TDRC": Date, "TYER": Year, "TYE": Year,
	"TDOR": OriginalDate, "TORY": OriginalDate, "TOR": OriginalDate,
	"TDRL": ReleaseDate,
	"TRCK": TrackNumber, "TRK": TrackNumber,
	"TPOS": DiscNumber, "TPA": DiscNumber,
	"TCMP": Compilation, "TCP": Compilation,
}

// txxxFields maps the descriptions of user text frames (TXXX) that taggers
// use for fields ID3 has no frame for.
var txxxFields = map[string]Field{
	"ARTISTS": Artists, "ALBUMARTISTS": AlbumArtists, "ALBUM ARTISTS": AlbumArtists,
	"ALBUMARTIST": AlbumArtist, "ALBUM ARTIST": AlbumArtist,
	"ORIGINALDATE": OriginalDate, "ORIGINALYEAR": OriginalDate, "ORIGINAL YEAR": OriginalDate,
	"RELEASEDATE": ReleaseDate, "COMPILATION": Compilation,
	"TRACKTOTAL": TrackTotal, "TOTALTRACKS": TrackTotal, "DISCTOTAL": DiscTotal, "TOTALDISCS": DiscTotal,
}

// readID3v2 reads the ID3v2 tag at off, if there is one, and returns its
// whole length (header, frames, padding and footer). A broken frame loses
// that frame only; a tag whose frames cannot be found at all is recorded as
// malformed.
func (f *file) readID3v2(off int64) (int64, bool) {
	h, err := f.s.at(off, 10)
	if err != nil || len(h) < 10 || string(h[:3]) != "ID3" {
		return 0, false
	}
	major, flags := h[3], h[5]
	size, ok := syncsafe(h[6:10])
	if major < 2 || major > 4 || h[4] == 0xFF || !ok {
		return 0, false
	}
	total := 10 + size
	if major == 4 && flags&0x10 != 0 {
		total += 10 // footer
	}
	kind := [...]Kind{2: ID3v22, 3: ID3v23, 4: ID3v24}[major]
	t := &id3Tag{f: f, kind: kind, major: major, base: off + 10, size: min(size, f.s.size-off-10)}
	if t.size < 0 {
		t.size = 0
	}
	if major == 2 && flags&0x40 != 0 {
		f.fail(malformed("id3v2", off, "ID3v2.2 compressed tag"))
		return total, true
	}
	if flags&0x80 != 0 {
		if major < 4 {
			if t.size > maxUnsyncTag {
				f.fail(malformed("id3v2", off, "unsynchronised tag of %d bytes", t.size))
				return total, true
			}
			b, err := f.s.full(t.base, int(t.size))
			if err != nil {
				f.fail(malformed("id3v2", off, "%v", err))
				return total, true
			}
			t.mem = unsync(b)
			t.size = int64(len(t.mem))
		} else {
			t.unsyncFrames = true
		}
	}
	pos := int64(0)
	if flags&0x40 != 0 && major >= 3 {
		pos = t.extendedHeader()
	}
	blk := t.frames(pos)
	if blk.empty() && t.broken > 0 {
		f.fail(malformed(kind.String(), off, "%d unreadable frames and no readable one", t.broken))
	}
	f.add(blk)
	return total, true
}

// id3Tag is the body of one ID3v2 tag: read through the source, or from
// memory once unsynchronisation has been undone.
type id3Tag struct {
	f            *file
	kind         Kind
	major        byte
	base, size   int64
	mem          []byte
	unsyncFrames bool // v2.4: every frame is unsynchronised
	broken       int  // frames skipped as malformed
}

func (t *id3Tag) at(pos int64, n int) ([]byte, error) {
	if pos < 0 || pos+int64(n) > t.size {
		return nil, errShort
	}
	if t.mem != nil {
		return t.mem[pos : pos+int64(n)], nil
	}
	return t.f.s.full(t.base+pos, n)
}

// extendedHeader returns where the frames start after the extended header,
// or 0 when its size makes no sense (a flag set by mistake).
func (t *id3Tag) extendedHeader() int64 {
	b, err := t.at(0, 4)
	if err != nil {
		return 0
	}
	var n int64
	if t.major == 3 {
		n = int64(binary.BigEndian.Uint32(b)) + 4 // the size excludes itself
	} else {
		s, ok := syncsafe(b)
		if !ok {
			return 0
		}
		n = s
	}
	if n < 6 || n >= t.size {
		return 0
	}
	return n
}

func (t *id3Tag) headerLen() int64 {
	if t.major == 2 {
		return 6
	}
	return 10
}

// frames reads the frames from pos to the end of the tag or its padding.
func (t *id3Tag) frames(pos int64) Block {
	blk := Block{Kind: t.kind}
	hl := t.headerLen()
	for pos+hl <= t.size {
		h, err := t.at(pos, int(hl))
		if err != nil {
			break
		}
		if h[0] == 0 {
			break // padding
		}
		idLen := int(hl) - 6
		if t.major == 2 {
			idLen = 3
		}
		id := string(h[:idLen])
		if !validFrameID(id) {
			t.broken++
			break
		}
		size, flags := t.frameSize(pos, h), uint16(0)
		if t.major > 2 {
			flags = binary.BigEndian.Uint16(h[8:10])
		}
		next := pos + hl + size
		if size == 0 {
			pos = next
			continue
		}
		if next > t.size {
			t.broken++ // a frame cut off by the end of the tag
			break
		}
		if field, ok := id3Fields[id]; ok || id == "TXXX" || id == "TXX" {
			if size > maxTextFrame {
				t.broken++
			} else if body, err := t.at(pos+hl, int(size)); err != nil {
				t.broken++
			} else if data, ok := t.frameData(body, flags); !ok {
				t.broken++
			} else if !t.text(&blk, id, field, data) {
				t.broken++
			}
		}
		pos = next
	}
	return blk
}

// frameSize reads a frame's size. ID3v2.4 sizes are syncsafe, but iTunes
// and others long wrote plain ones: where the syncsafe reading does not
// land on a frame and the plain one does, the plain one is right.
func (t *id3Tag) frameSize(pos int64, h []byte) int64 {
	switch t.major {
	case 2:
		return int64(h[3])<<16 | int64(h[4])<<8 | int64(h[5])
	case 3:
		return int64(binary.BigEndian.Uint32(h[4:8]))
	}
	plain := int64(binary.BigEndian.Uint32(h[4:8]))
	ss, ok := syncsafe(h[4:8])
	if !ok {
		return plain
	}
	if ss == plain || t.frameAt(pos+10+ss) || !t.frameAt(pos+10+plain) {
		return ss
	}
	return plain
}

// frameAt reports whether a frame header, padding or the end of the tag is
// at pos.
func (t *id3Tag) frameAt(pos int64) bool {
	if pos == t.size {
		return true
	}
	b, err := t.at(pos, 4)
	if err != nil {
		return false
	}
	return b[0] == 0 || validFrameID(string(b))
}

func validFrameID(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return len(id) > 0
}

// frameData undoes what a frame's flags did to its data: grouping and
// encryption bytes, unsynchronisation and zlib compression. It reports
// false for a frame that cannot be read (encrypted, or broken).
func (t *id3Tag) frameData(b []byte, flags uint16) ([]byte, bool) {
	var compressed, encrypted, unsynced bool
	skip := 0
	switch t.major {
	case 3:
		compressed, encrypted = flags&0x0080 != 0, flags&0x0040 != 0
		if compressed {
			skip += 4 // decompressed size
		}
		if encrypted {
			skip++
		}
		if flags&0x0020 != 0 {
			skip++ // group id
		}
	case 4:
		compressed, encrypted = flags&0x0008 != 0, flags&0x0004 != 0
		unsynced = t.unsyncFrames || flags&0x0002 != 0
		if flags&0x0040 != 0 {
			skip++ // group id
		}
		if encrypted {
			skip++
		}
		if flags&0x0001 != 0 {
			skip += 4 // data length indicator
		}
	}
	if encrypted || skip > len(b) {
		return nil, false
	}
	b = b[skip:]
	if unsynced {
		b = unsync(b)
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, false
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxTextFrame))
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) || len(out) == 0 {
			return nil, false
		}
		b = out
	}
	return b, true
}

// text decodes a text frame into blk; it reports false for a frame whose
// text is not text (an unknown encoding byte).
func (t *id3Tag) text(blk *Block, id string, field Field, b []byte) bool {
	if len(b) == 0 {
		return true
	}
	vals, ok := id3Strings(b[0], b[1:])
	if !ok {
		return false
	}
	if id == "TXXX" || id == "TXX" {
		if len(vals) < 2 {
			return true
		}
		f, ok := txxxFields[strings.ToUpper(strings.TrimSpace(vals[0]))]
		if !ok {
			return true
		}
		field, vals = f, vals[1:]
	}
	if field == Genre {
		var gs []string
		for _, v := range vals {
			gs = append(gs, id3GenreValues(cleanValue(v))...)
		}
		vals = gs
	}
	blk.Add(field, vals...)
	return true
}

// id3Strings decodes the NUL-separated strings of a text frame in the
// given ID3 encoding.
func id3Strings(enc byte, b []byte) ([]string, bool) {
	switch enc {
	case 0:
		parts := bytes.Split(b, []byte{0})
		out := make([]string, len(parts))
		for i, p := range parts {
			out[i] = latin1(p)
		}
		return out, true
	case 3:
		return splitNUL(utf8Text(b)), true
	case 1, 2:
		bigEndian := enc == 2
		parts := splitUTF16(b)
		out := make([]string, len(parts))
		for i, p := range parts {
			// Each string may carry its own byte-order mark; one without
			// keeps the order of the string before it.
			if len(p) >= 2 && (p[0] == 0xFE && p[1] == 0xFF || p[0] == 0xFF && p[1] == 0xFE) {
				bigEndian = p[0] == 0xFE
			}
			out[i] = utf16Text(p, bigEndian)
		}
		return out, true
	}
	return nil, false
}

// syncsafe decodes a 28-bit syncsafe integer; it reports false when a byte
// has its top bit set.
func syncsafe(b []byte) (int64, bool) {
	var n int64
	for _, c := range b[:4] {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int64(c)
	}
	return n, true
}

// unsync undoes unsynchronisation: every 0xFF 0x00 becomes 0xFF.
func unsync(b []byte) []byte {
	if !bytes.Contains(b, []byte{0xFF, 0x00}) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0 {
			i++
		}
	}
	return out
}
