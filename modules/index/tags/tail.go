package tags

import "encoding/binary"

// readTail reads the tags kept at the end of a file: an ID3v1 tag in the
// last 128 bytes, and an APEv2 tag before it (or at the very end, after the
// ID3v1 tag), with a Lyrics3v2 block possibly between the two.
func (f *file) readTail() {
	size := f.s.size
	if size < 32 {
		return
	}
	end := size
	if size >= 128 && f.s.has(size-128, "TAG") {
		f.readID3v1(size - 128)
		end -= 128
	} else if start, ok := f.apeStart(size); ok && start >= 128 && f.s.has(start-128, "TAG") {
		f.readID3v1(start - 128)
	}
	if end >= 15 && f.s.has(end-9, "LYRICS200") {
		if b, err := f.s.full(end-15, 6); err == nil && allDigits(b) {
			if n := int64(atoi(string(b))) + 15; n <= end {
				end -= n
			}
		}
	}
	if end >= 32 && f.s.has(end-32, "APETAGEX") {
		f.readAPE(end - 32)
	}
}

// apeStart returns where the APEv2 tag whose footer ends at end begins.
func (f *file) apeStart(end int64) (int64, bool) {
	b, err := f.s.full(end-32, 32)
	if err != nil || string(b[:8]) != "APETAGEX" {
		return 0, false
	}
	n := int64(binary.LittleEndian.Uint32(b[12:16])) // items and footer
	if binary.LittleEndian.Uint32(b[20:24])&(1<<31) != 0 {
		n += 32 // the header
	}
	return end - n, n <= end
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}
