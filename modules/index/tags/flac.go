package tags

// FLAC metadata block types that matter here.
const (
	flacVorbisComment = 4
	flacInvalid       = 127
)

// readFLAC reads the Vorbis comment among the metadata blocks after the
// "fLaC" at off. Each block has a 4-byte header (a last-block flag, a type
// and a 24-bit size); the others (pictures, padding, seek tables) are
// skipped by offset, unread. The format allows one comment block, so the
// walk stops after it.
func (f *file) readFLAC(off int64) {
	pos := off + 4
	for {
		h, err := f.s.full(pos, 4)
		if err != nil {
			f.fail(malformed("flac", pos, "metadata block header: %v", err))
			return
		}
		last, typ := h[0]&0x80 != 0, h[0]&0x7f
		size := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		switch typ {
		case flacVorbisComment:
			blk, err := vorbisComment(&span{s: f.s, pos: pos + 4, end: pos + 4 + size})
			f.add(blk)
			if err != nil {
				f.fail(malformed("flac", pos, "vorbis comment: %v", err))
			}
			return
		case flacInvalid:
			f.fail(malformed("flac", pos, "invalid metadata block type"))
			return
		}
		if last {
			return
		}
		pos += 4 + size
	}
}
