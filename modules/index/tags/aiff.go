package tags

import "encoding/binary"

// readAIFF reads an AIFF or AIFF-C file: an ID3v2 tag in an "ID3 " chunk,
// and the NAME and AUTH text chunks. The sound data and every other chunk
// are skipped unread.
func (f *file) readAIFF(off int64) {
	h, err := f.s.full(off, 12)
	if err != nil {
		f.fail(malformed("aiff", off, "header: %w", err))
		return
	}
	end := min(f.s.size, off+8+int64(binary.BigEndian.Uint32(h[4:])))
	text := Block{Kind: AIFFText}
	f.chunks("aiff", off+12, end, 4, binary.BigEndian, func(c chunk) {
		switch c.id {
		case "ID3 ", "id3 ":
			f.chunkID3("aiff", c)
		case "NAME":
			text.Add(Title, f.chunkText(c, 0))
		case "AUTH":
			text.Add(Artist, f.chunkText(c, 0))
		}
	})
	f.add(text)
}
