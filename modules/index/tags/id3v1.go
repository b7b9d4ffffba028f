package tags

import (
	"bytes"
	"strconv"
)

// readID3v1 reads the 128-byte ID3v1 (or v1.1) tag at off: fixed fields of
// Latin-1 text padded with NULs or spaces, and a genre number.
func (f *file) readID3v1(off int64) {
	b, err := f.s.full(off, 128)
	if err != nil {
		f.fail(err)
		return
	}
	text := func(p []byte) string {
		if i := bytes.IndexByte(p, 0); i >= 0 {
			p = p[:i]
		}
		return latin1(p)
	}
	blk := Block{Kind: ID3v1}
	blk.Add(Title, text(b[3:33]))
	blk.Add(Artist, text(b[33:63]))
	blk.Add(Album, text(b[63:93]))
	blk.Add(Date, text(b[93:97]))
	// ID3v1.1: a zero byte before the last byte of the comment makes that
	// byte the track number.
	if b[125] == 0 && b[126] != 0 {
		blk.Add(TrackNumber, strconv.Itoa(int(b[126])))
	}
	blk.Add(Genre, id3Genre(int(b[127])))
	f.add(blk)
}
