package tags

import "encoding/binary"

// dsfHeaderLen is the size of the "DSD " chunk that starts a DSF file.
const dsfHeaderLen = 28

// readDSF reads the ID3v2 tag a DSF file keeps at the offset its "DSD "
// chunk gives (zero when there is none), after the sound data.
func (f *file) readDSF(off int64) {
	h, err := f.s.full(off, dsfHeaderLen)
	if err != nil {
		f.fail(malformed("dsf", off, "header: %w", err))
		return
	}
	ptr := binary.LittleEndian.Uint64(h[20:])
	switch {
	case ptr == 0:
	case ptr < dsfHeaderLen || ptr >= uint64(f.s.size-off):
		f.fail(malformed("dsf", off, "metadata offset %d outside the file", ptr))
	default:
		if _, ok := f.readID3v2(off + int64(ptr)); !ok {
			f.fail(malformed("dsf", off+int64(ptr), "no ID3v2 tag at the metadata offset"))
		}
	}
}
