package tags

import (
	"encoding/binary"
	"iter"
	"strconv"
	"strings"
)

const (
	// mp4MaxAtoms bounds the atoms visited in one file, so that a file of
	// a million tiny atoms costs no more than a real one.
	mp4MaxAtoms = 10000
	// mp4MaxLabel bounds the mean and name of a freeform item.
	mp4MaxLabel = 256
)

// Well-known types of data atoms.
const (
	mp4Implicit = 0
	mp4UTF8     = 1
	mp4UTF16    = 2
	mp4Int      = 21
)

// mp4Items maps the ilst items we read to their decoders. Any other item
// (covr above all) is skipped by offset, unread.
var mp4Items = map[string]mp4Decoder{
	"\xa9nam": mp4Text(Title),
	"\xa9ART": mp4Text(Artist),
	"aART":    mp4Text(AlbumArtist),
	"\xa9alb": mp4Text(Album),
	"\xa9gen": mp4Text(Genre),
	"\xa9day": mp4Text(Date),
	"trkn":    mp4Pair(TrackNumber, TrackTotal),
	"disk":    mp4Pair(DiscNumber, DiscTotal),
	"gnre":    mp4Genre,
	"cpil":    mp4Flag(Compilation),
}

// mp4Decoder adds the value of one data atom, of the given type, to blk; it
// ignores a value of a type or size it does not expect.
type mp4Decoder func(blk *Block, typ uint32, v []byte)

// mp4Atom is an atom found: its type and where its body lies.
type mp4Atom struct {
	typ       string
	body, end int64
}

// mp4Reader walks the atoms of one file.
type mp4Reader struct {
	f     *file
	atoms int   // visited so far
	err   error // the first broken atom
}

// readMP4 reads the items of moov/udta/meta/ilst. Everything else, mdat
// first of all, is skipped by offset. A broken or unexpected item is
// skipped; so is a broken atom and those after it in the same parent.
func (f *file) readMP4(off int64) {
	r := &mp4Reader{f: f}
	blk := Block{Kind: MP4}
	if ilst, ok := r.ilst(off); ok {
		for item := range r.children(ilst.body, ilst.end) {
			r.item(&blk, item)
		}
	}
	f.add(blk)
	f.fail(r.err)
}

// ilst finds moov/udta/meta/ilst.
func (r *mp4Reader) ilst(off int64) (mp4Atom, bool) {
	moov, ok := r.find(off, r.f.s.size, "moov")
	if !ok {
		return moov, false
	}
	udta, ok := r.find(moov.body, moov.end, "udta")
	if !ok {
		return udta, false
	}
	meta, ok := r.find(udta.body, udta.end, "meta")
	if !ok {
		return meta, false
	}
	return r.find(r.metaChildren(meta), meta.end, "ilst")
}

// metaChildren returns where the children of a meta atom start. It is a
// full box, with 4 bytes of version and flags before them, except in
// QuickTime files: there a child's size and type come at once.
func (r *mp4Reader) metaChildren(meta mp4Atom) int64 {
	b, err := r.f.s.at(meta.body, 8)
	if err == nil && len(b) == 8 && binary.BigEndian.Uint32(b) >= 8 && mp4IsType(b[4:8]) {
		return meta.body
	}
	return meta.body + 4
}

// mp4IsType reports whether b looks like an atom type: four printable
// characters (© counts).
func mp4IsType(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != 0xa9 {
			return false
		}
	}
	return true
}

// find returns the first child of type typ among the atoms in [pos, end).
func (r *mp4Reader) find(pos, end int64, typ string) (mp4Atom, bool) {
	for a := range r.children(pos, end) {
		if a.typ == typ {
			return a, true
		}
	}
	return mp4Atom{}, false
}

// children yields the atoms in [pos, end), reading only their headers. A
// broken header ends the walk, as does the limit on atoms.
func (r *mp4Reader) children(pos, end int64) iter.Seq[mp4Atom] {
	return func(yield func(mp4Atom) bool) {
		for pos+8 <= end {
			if r.atoms++; r.atoms > mp4MaxAtoms {
				r.broken(malformed("mp4", pos, "more than %d atoms", mp4MaxAtoms))
				return
			}
			a, err := r.header(pos, end)
			if err != nil {
				r.broken(err)
				return
			}
			if !yield(a) {
				return
			}
			pos = a.end
		}
	}
}

// header reads the header of the atom at pos in a parent ending at end: a
// 32-bit size and a type, the size 1 for a 64-bit size after the type, 0 for
// "to the end of the parent". An atom that runs past its parent is cut at
// the parent's end (a truncated file keeps what it has).
func (r *mp4Reader) header(pos, end int64) (mp4Atom, error) {
	b, err := r.f.s.at(pos, 16)
	if err != nil {
		return mp4Atom{}, err
	}
	if len(b) < 8 {
		return mp4Atom{}, malformed("mp4", pos, "atom header: %v", errShort)
	}
	a := mp4Atom{typ: string(b[4:8]), body: pos + 8, end: end}
	size := uint64(binary.BigEndian.Uint32(b))
	switch size {
	case 0:
		size = uint64(end - pos)
	case 1:
		if len(b) < 16 {
			return mp4Atom{}, malformed("mp4", pos, "64-bit atom size: %v", errShort)
		}
		size, a.body = binary.BigEndian.Uint64(b[8:]), pos+16
	}
	if size < uint64(a.body-pos) || a.body > end {
		return mp4Atom{}, malformed("mp4", pos, "%q atom of size %d", a.typ, size)
	}
	if size < uint64(end-pos) {
		a.end = pos + int64(size)
	}
	return a, nil
}

func (r *mp4Reader) broken(err error) {
	if r.err == nil {
		r.err = err
	}
}

// item reads one ilst item into blk.
func (r *mp4Reader) item(blk *Block, item mp4Atom) {
	if item.typ == "----" {
		r.freeform(blk, item)
	} else if decode, ok := mp4Items[item.typ]; ok {
		r.data(blk, item, decode)
	}
}

// freeform reads a "----" item: a mean atom naming who defined it, a name
// atom with its key, then the data atoms. Only iTunes' keys are mapped
// (those Picard, foobar2000 and Mp3tag write).
func (r *mp4Reader) freeform(blk *Block, item mp4Atom) {
	var mean, name string
	for a := range r.children(item.body, item.end) {
		switch a.typ {
		case "mean":
			mean = r.label(a)
		case "name":
			name = r.label(a)
		}
	}
	if field, ok := keyField(name); ok && strings.EqualFold(mean, "com.apple.iTunes") {
		r.data(blk, item, mp4Text(field))
	}
}

// label reads the text of a mean or name atom, after its version and flags.
func (r *mp4Reader) label(a mp4Atom) string {
	n := a.end - a.body
	if n < 4 || n > mp4MaxLabel {
		return ""
	}
	b, err := r.f.s.full(a.body, int(n))
	if err != nil {
		r.broken(malformed("mp4", a.body, "freeform label: %v", err))
		return ""
	}
	return string(b[4:])
}

// data decodes each data atom of an item into blk: a type (4 bytes), a
// locale (4 bytes), then the value. One too short or too long is skipped.
func (r *mp4Reader) data(blk *Block, item mp4Atom, decode mp4Decoder) {
	for a := range r.children(item.body, item.end) {
		n := a.end - a.body
		if a.typ != "data" || n < 8 || n > 8+maxFieldLen {
			continue
		}
		b, err := r.f.s.full(a.body, int(n))
		if err != nil {
			r.broken(malformed("mp4", a.body, "data atom: %v", err))
			return
		}
		decode(blk, binary.BigEndian.Uint32(b), b[8:])
	}
}

// mp4Text decodes text items. Some writers leave text untyped (implicit).
func mp4Text(field Field) mp4Decoder {
	return func(blk *Block, typ uint32, v []byte) {
		switch typ {
		case mp4UTF8, mp4Implicit:
			blk.Add(field, utf8Text(v))
		case mp4UTF16:
			blk.Add(field, utf16Text(v, true))
		}
	}
}

// mp4Pair decodes trkn and disk: 2 bytes of padding, a 16-bit number and a
// 16-bit total (trkn has 2 more bytes of padding). Zero is "not set".
func mp4Pair(num, total Field) mp4Decoder {
	return func(blk *Block, typ uint32, v []byte) {
		if typ != mp4Implicit && typ != mp4Int || len(v) < 6 {
			return
		}
		for i, f := range [2]Field{num, total} {
			if n := binary.BigEndian.Uint16(v[2+2*i:]); n > 0 {
				blk.Add(f, strconv.Itoa(int(n)))
			}
		}
	}
}

// mp4Genre decodes gnre: a 16-bit ID3v1 genre number plus one.
func mp4Genre(blk *Block, typ uint32, v []byte) {
	if typ != mp4Implicit && typ != mp4Int || len(v) != 2 {
		return
	}
	blk.Add(Genre, id3Genre(int(binary.BigEndian.Uint16(v))-1))
}

// mp4Flag decodes a flag (cpil): an integer of 1 to 8 bytes, set if not zero.
func mp4Flag(field Field) mp4Decoder {
	return func(blk *Block, typ uint32, v []byte) {
		if typ != mp4Implicit && typ != mp4Int || len(v) == 0 || len(v) > 8 {
			return
		}
		set := "0"
		for _, c := range v {
			if c != 0 {
				set = "1"
			}
		}
		blk.Add(field, set)
	}
}
