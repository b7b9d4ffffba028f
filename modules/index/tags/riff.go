package tags

import (
	"bytes"
	"encoding/binary"
)

// maxChunks bounds the chunks visited at one level of a RIFF, AIFF or
// DSDIFF file; real files have a handful.
const maxChunks = 10000

// riffInfoFields maps the LIST/INFO subchunks we read to fields.
var riffInfoFields = map[string]Field{
	"INAM": Title, "IART": Artist, "IPRD": Album, "ICRD": Date, "IGNR": Genre,
	"ITRK": TrackNumber, "IPRT": TrackNumber,
}

// readRIFF reads a RIFF/WAVE (or RF64/BW64) file: an ID3v2 tag in an
// "id3 " chunk and the LIST/INFO chunk. The audio and every other chunk
// are skipped unread.
func (f *file) readRIFF(off int64) {
	h, err := f.s.full(off, 12)
	if err != nil {
		f.fail(malformed("riff", off, "header: %w", err))
		return
	}
	end := f.s.size
	// An RF64 size of 0xFFFFFFFF means the real one is in the ds64 chunk:
	// the chunks then run to the end of the file.
	if size := binary.LittleEndian.Uint32(h[4:]); size != 0xFFFFFFFF {
		end = min(end, off+8+int64(size))
	}
	info := Block{Kind: RIFFInfo}
	f.chunks("riff", off+12, end, 4, binary.LittleEndian, func(c chunk) {
		switch {
		case c.id == "id3 " || c.id == "ID3 ":
			f.chunkID3("riff", c)
		case c.id == "LIST" && c.size >= 4 && f.s.has(c.body, "INFO"):
			f.chunks("riff", c.body+4, c.body+c.size, 4, binary.LittleEndian, func(c chunk) {
				if field, ok := riffInfoFields[c.id]; ok {
					info.Add(field, f.chunkText(c, 0))
				}
			})
		}
	})
	f.add(info)
}

// chunk is one chunk of an IFF-style container: RIFF, AIFF, DSDIFF.
type chunk struct {
	id         string
	body, size int64
}

// chunks calls visit for each chunk from pos to end: a four-byte id, a
// size of sizeLen bytes in the given byte order, the body and a pad byte
// to an even length. A chunk that overruns end stops the walk and is
// recorded as malformed under block.
func (f *file) chunks(block string, pos, end int64, sizeLen int, order binary.ByteOrder, visit func(chunk)) {
	for range maxChunks {
		if end-pos < int64(4+sizeLen) {
			return
		}
		h, err := f.s.full(pos, 4+sizeLen)
		if err != nil {
			f.fail(malformed(block, pos, "chunk header: %w", err))
			return
		}
		size := uint64(order.Uint32(h[4:]))
		if sizeLen == 8 {
			size = order.Uint64(h[4:])
		}
		body := pos + int64(4+sizeLen)
		if size > uint64(end-body) {
			f.fail(malformed(block, pos, "chunk %q of %d bytes overruns its container", h[:4], size))
			return
		}
		visit(chunk{id: string(h[:4]), body: body, size: int64(size)})
		pos = body + int64(size) + int64(size&1)
	}
}

// chunkID3 reads the ID3v2 tag that chunk c holds.
func (f *file) chunkID3(block string, c chunk) {
	if _, ok := f.readID3v2(c.body); !ok {
		f.fail(malformed(block, c.body, "%q chunk holds no ID3v2 tag", c.id))
	}
}

// chunkText returns the text of chunk c after skip bytes, up to a NUL:
// UTF-8, or Latin-1 from older tools. It returns "" for a text too long
// to be a tag.
func (f *file) chunkText(c chunk, skip int64) string {
	n := c.size - skip
	if n <= 0 || n > maxTextFrame {
		return ""
	}
	b, err := f.s.full(c.body+skip, int(n))
	if err != nil {
		return ""
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return utf8Text(b)
}
