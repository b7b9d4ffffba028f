package tags

import "strconv"

// readID3v1 reads the 128-byte ID3v1 (or v1.1) tag at off: fixed fields of
// Latin-1 text padded with NULs or spaces, and a genre number.
func (f *file) readID3v1(off int64) {
	b, err := f.s.full(off, 128)
	if err != nil {
		f.fail(err)
		return
	}
	text := func(p []byte) string {
		end := len(p)
		for i, c := range p {
			if c == 0 {
				end = i
				break
			}
		}
		return latin1(p[:end])
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
