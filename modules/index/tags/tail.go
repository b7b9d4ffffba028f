package tags

// readTail reads the tags kept at the end of a file: an ID3v1 tag in the
// last 128 bytes, and an APEv2 tag before it (or at the very end), with a
// Lyrics3v2 block possibly between the two.
func (f *file) readTail() {
	size := f.s.size
	if size < 32 {
		return
	}
	end := size
	if size >= 128 && f.s.has(size-128, "TAG") {
		f.readID3v1(size - 128)
		end -= 128
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

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}
