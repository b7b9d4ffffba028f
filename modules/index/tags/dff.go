package tags

import "encoding/binary"

// readDFF reads a DSDIFF file: an ID3v2 tag in an "ID3 " chunk (which
// players read), and the title and artist of the DIIN chunk. The sound
// data is skipped unread.
func (f *file) readDFF(off int64) {
	h, err := f.s.full(off, 16)
	if err != nil {
		f.fail(malformed("dff", off, "header: %w", err))
		return
	}
	end := f.s.size
	if size := binary.BigEndian.Uint64(h[4:]); size < uint64(end-off-12) {
		end = off + 12 + int64(size)
	}
	text := Block{Kind: AIFFText}
	f.chunks("dff", off+16, end, 8, binary.BigEndian, func(c chunk) {
		switch c.id {
		case "ID3 ":
			f.chunkID3("dff", c)
		case "DIIN":
			f.chunks("dff", c.body, c.body+c.size, 8, binary.BigEndian, func(c chunk) {
				switch c.id {
				case "DITI":
					text.Add(Title, f.dffText(c))
				case "DIAR":
					text.Add(Artist, f.dffText(c))
				}
			})
		}
	})
	f.add(text)
}

// dffText reads a DIIN text chunk: a four-byte length, then the text.
func (f *file) dffText(c chunk) string {
	if c.size < 4 {
		return ""
	}
	b, err := f.s.full(c.body, 4)
	if err != nil {
		return ""
	}
	n := min(int64(binary.BigEndian.Uint32(b)), c.size-4)
	return f.chunkText(chunk{id: c.id, body: c.body, size: 4 + n}, 4)
}
