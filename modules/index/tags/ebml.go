package tags

import (
	"errors"
	"math/bits"
)

// EBML, the element syntax of Matroska: variable-length IDs and sizes, and
// the reading of one element's header or leaf value.

// children calls fn for each child of el, reading only their headers, and
// returns where they end: at el's end, at a top-level element, or at a
// broken child (which is recorded). Only the elements the Segment holds
// may be of unknown size: a child of unknown size is broken. The nesting
// is that of the callers, at most four levels below the Segment.
func (r *mkvReader) children(el mkvElement, fn func(mkvElement)) int64 {
	pos := el.body
	for pos < el.end {
		c, ok := r.header(pos, el.end, false)
		if !ok || mkvLevel1(c.id) {
			return pos
		}
		if c.unknown {
			r.broken(pos, "%#x of unknown size inside %#x", c.id, el.id)
			return pos
		}
		fn(c)
		if r.f.s.err != nil {
			return pos
		}
		pos = c.end
	}
	return pos
}

// header reads the header of the element at pos in a parent ending at end:
// a variable-length ID (kept with its length marker) and size (without
// it), each of 1 to 8 bytes; a size of all ones is unknown. hop reads just
// the header, for a walk that skips the bodies; otherwise a window of the
// file around it is read, for the small elements that follow.
func (r *mkvReader) header(pos, end int64, hop bool) (mkvElement, bool) {
	if r.elements++; r.elements > mkvMaxElements {
		r.broken(pos, "more than %d elements", mkvMaxElements)
		return mkvElement{}, false
	}
	var b []byte
	var err error
	if hop {
		b, err = r.f.s.peek(pos, mkvHeader)
	} else {
		b, err = r.f.s.at(pos, mkvHeader)
	}
	if err != nil {
		return mkvElement{}, false // the source's error, which Read returns
	}
	id, n := mkvVint(b)
	if n == 0 {
		r.broken(pos, "element ID: %v", mkvVintErr(b))
		return mkvElement{}, false
	}
	size, m := mkvVint(b[n:])
	if m == 0 {
		r.broken(pos, "size of %#x: %v", id, mkvVintErr(b[n:]))
		return mkvElement{}, false
	}
	el := mkvElement{id: id, pos: pos, body: pos + int64(n+m), end: end}
	if el.body > end {
		r.broken(pos, "header of %#x: %v", id, errShort)
		return mkvElement{}, false
	}
	size &^= 1 << (7 * m) // the length marker
	switch {
	case size == 1<<(7*m)-1:
		el.unknown = true
	case size > uint64(end-el.body):
		el.cut = true
	default:
		el.end = el.body + int64(size)
	}
	return el, true
}

// mkvVint reads the variable-length integer that b starts with, length
// marker included, and its length: one more than the leading zero bits of
// its first byte. The length is 0 if b is too short or starts with a zero.
func mkvVint(b []byte) (uint64, int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	n := bits.LeadingZeros8(b[0]) + 1
	if len(b) < n {
		return 0, 0
	}
	var v uint64
	for _, c := range b[:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}

// mkvVintErr says why b starts with no variable-length integer.
func mkvVintErr(b []byte) error {
	if len(b) > 0 && b[0] == 0 {
		return errors.New("more than 8 bytes long")
	}
	return errShort
}

// leaf returns the body of el, or false if it is longer than max (skipped
// unread) or broken (recorded).
func (r *mkvReader) leaf(el mkvElement, max int) ([]byte, bool) {
	if el.cut {
		r.broken(el.pos, "%#x: %v", el.id, errShort)
		return nil, false
	}
	n := el.end - el.body
	if n > int64(max) {
		return nil, false
	}
	b, err := r.f.s.full(el.body, int(n))
	if err != nil {
		r.broken(el.pos, "%#x: %v", el.id, err)
		return nil, false
	}
	return b, true
}

// uint reads an unsigned integer element (0 to 8 bytes, big-endian); one
// longer is skipped.
func (r *mkvReader) uint(el mkvElement) (uint64, bool) {
	b, ok := r.leaf(el, 8)
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, ok
}

// broken records the first broken element.
func (r *mkvReader) broken(pos int64, format string, args ...any) {
	if r.err == nil {
		r.err = malformed("matroska", pos, format, args...)
	}
}
