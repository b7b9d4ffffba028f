package tags

import (
	"bytes"
	"encoding/binary"
)

const (
	apeFooterLen = 32
	// apeMinItem is the smallest item: value size, flags, a two-letter
	// key and its NUL.
	apeMinItem = 4 + 4 + 2 + 1
	// apeMaxKey is the longest key the format allows, with its NUL.
	apeMaxKey = 255 + 1
	// apeHasHeader is the footer flag of a tag that also has a header in
	// front of its items, which the tag size leaves out.
	apeHasHeader = 1 << 31
)

// readAPE reads an APEv2 (or APEv1) tag whose footer is at off: the items
// sit just before the footer, within the tag size it gives. Binary items
// (cover art) and over-long values are skipped unread. A broken item ends
// the tag; the items before it are kept.
func (f *file) readAPE(off int64) {
	h, err := f.s.full(off, apeFooterLen)
	if err != nil {
		f.fail(malformed("ape", off, "footer: %w", err))
		return
	}
	version := binary.LittleEndian.Uint32(h[8:])
	size := int64(binary.LittleEndian.Uint32(h[12:]))
	count := int64(binary.LittleEndian.Uint32(h[16:]))
	flags := binary.LittleEndian.Uint32(h[20:])
	if version != 1000 && version != 2000 {
		f.fail(malformed("ape", off, "version %d", version))
		return
	}
	start := off + apeFooterLen - size
	headerStart := start
	if flags&apeHasHeader != 0 {
		headerStart -= apeFooterLen
	}
	if size < apeFooterLen || headerStart < 0 {
		f.fail(malformed("ape", off, "tag size %d does not fit before offset %d", size, off))
		return
	}
	count = min(count, (off-start)/apeMinItem)
	blk := Block{Kind: APEv2}
	pos, broken := start, false
	for range count {
		if pos, broken = f.apeItem(&blk, pos, off); broken {
			break
		}
	}
	if broken && blk.empty() {
		f.fail(malformed("ape", pos, "unreadable item and no readable one"))
	}
	f.add(blk)
}

// apeItem reads the item at pos into blk and returns where the next one
// starts, or reports it broken; the items end at end.
func (f *file) apeItem(blk *Block, pos, end int64) (int64, bool) {
	if end-pos < apeMinItem {
		return pos, true
	}
	h, err := f.s.full(pos, 8)
	if err != nil {
		return pos, true
	}
	size := int64(binary.LittleEndian.Uint32(h))
	kind := binary.LittleEndian.Uint32(h[4:]) >> 1 & 3
	kb, err := f.s.at(pos+8, int(min(apeMaxKey, end-pos-8)))
	if err != nil {
		return pos, true
	}
	n := bytes.IndexByte(kb, 0)
	if n < 2 || !apeKeyValid(kb[:n]) {
		return pos, true
	}
	field, known := keyField(string(kb[:n]))
	valueAt := pos + 8 + int64(n) + 1
	if size > end-valueAt {
		return pos, true
	}
	// Only UTF-8 text (kind 0) holds values; binary data and external
	// links are skipped, as are values no real tag has.
	if known && kind == 0 && size <= maxTextFrame {
		v, err := f.s.full(valueAt, int(size))
		if err != nil {
			return pos, true
		}
		blk.Add(field, splitNUL(utf8Text(v))...)
	}
	return valueAt + size, false
}

// apeKeyValid reports whether a key is printable ASCII, as the format
// requires: anything else is not a key but a misplaced offset.
func apeKeyValid(k []byte) bool {
	for _, c := range k {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}
