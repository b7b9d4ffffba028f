package tags

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
)

// The objects read, by GUID. ASF writes a GUID's first three groups
// little-endian.
var (
	asfHeaderGUID         = asfGUID("75B22630-668E-11CF-A6D9-00AA0062CE6C")
	asfContentDescGUID    = asfGUID("75B22633-668E-11CF-A6D9-00AA0062CE6C")
	asfExtContentDescGUID = asfGUID("D2D0A440-E307-11D2-97F0-00A0C95EA850")
	asfHeaderExtGUID      = asfGUID("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
	asfMetadataGUID       = asfGUID("C5F8CBEA-5BAF-4877-8467-AA8C44FA4CCA")
	asfMetadataLibGUID    = asfGUID("44231C94-9498-49D1-A141-1D134E457054")
)

// Attribute data types: 0 text, 1 bytes, then the numbers BOOL, DWORD,
// QWORD and WORD (2–5), then GUID (6).
const (
	asfText  = 0
	asfBytes = 1
	asfWord  = 5
)

// asfMaxObjects bounds the objects visited in one header; real files have
// about ten.
const asfMaxObjects = 1000

func asfGUID(s string) [16]byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("bad GUID " + s)
	}
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(b[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(b[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(b[6:]))
	copy(g[8:], b[8:])
	return g
}

// The kinds of object that hold values. Their values are joined in this
// order, wherever each object sits in the header, as mutagen joins them:
// it writes the first value of a repeated attribute to the Extended
// Content Description and the others to the Metadata Library.
const (
	asfContent = iota
	asfExtended
	asfMetadata
	asfLibrary
	asfParts
)

// asfTag collects the attributes of one ASF header.
type asfTag struct {
	f     *file
	parts [asfParts]Block // the values of each kind of object
	// WM/Track (0-based) and WM/GenreID count only where WM/TrackNumber
	// and WM/Genre are missing, so they wait for the end of the header.
	track0, genreIDs []string
}

// readASF reads the Header Object at off: the Content Description and
// Extended Content Description objects, and the Metadata and Metadata
// Library objects inside the Header Extension. Pictures and other large
// values are skipped unread.
func (f *file) readASF(off int64) {
	h, err := f.s.full(off, 30)
	if err != nil {
		f.fail(malformed("asf", off, "header: %w", err))
		return
	}
	size := binary.LittleEndian.Uint64(h[16:])
	count := int(min(binary.LittleEndian.Uint32(h[24:]), asfMaxObjects))
	if size < 30 {
		f.fail(malformed("asf", off, "header size %d", size))
		return
	}
	t := &asfTag{f: f}
	end := min(off+int64(min(size, uint64(f.s.size))), f.s.size)
	t.objects(off+30, end, count, true)
	f.add(t.block())
}

// objects reads up to count objects from pos to end; top is the level of
// the Header Object, where a Header Extension may be.
func (t *asfTag) objects(pos, end int64, count int, top bool) {
	for range count {
		if end-pos < 24 {
			return
		}
		h, err := t.f.s.full(pos, 24)
		if err != nil {
			t.f.fail(malformed("asf", pos, "object header: %w", err))
			return
		}
		guid, size := [16]byte(h), binary.LittleEndian.Uint64(h[16:])
		if size < 24 || size > uint64(end-pos) {
			t.f.fail(malformed("asf", pos, "object size %d", size))
			return
		}
		c := &asfCursor{s: t.f.s, pos: pos + 24, end: pos + int64(size)}
		switch {
		case guid == asfContentDescGUID:
			t.contentDescription(c)
		case guid == asfExtContentDescGUID:
			t.extendedContent(c, &t.parts[asfExtended])
		case guid == asfMetadataGUID:
			t.metadata(c, &t.parts[asfMetadata])
		case guid == asfMetadataLibGUID:
			t.metadata(c, &t.parts[asfLibrary])
		case guid == asfHeaderExtGUID && top:
			c.skip(18) // reserved GUID and number
			n := c.u32()
			if !c.bad {
				t.objects(c.pos, min(c.pos+n, c.end), asfMaxObjects, false)
			}
		}
		if c.bad {
			t.f.fail(malformed("asf", pos, "object cut short"))
		}
		pos += int64(size)
	}
}

// contentDescription reads the five lengths and the title and author
// that follow them (copyright, description and rating are not read).
func (t *asfTag) contentDescription(c *asfCursor) {
	title, author := c.u16(), c.u16()
	c.skip(6)
	t.parts[asfContent].Add(Title, utf16Text(c.bytes(title), false))
	t.parts[asfContent].Add(Artist, utf16Text(c.bytes(author), false))
}

func (t *asfTag) extendedContent(c *asfCursor, dst *Block) {
	for n := c.u16(); n > 0 && !c.bad; n-- {
		name := utf16Text(c.bytes(c.u16()), false)
		typ, size := c.u16(), c.u16()
		t.attribute(c, dst, name, typ, size)
	}
}

// metadata reads a Metadata or Metadata Library object, whose records
// differ only in what their first field means (reserved, or a language).
func (t *asfTag) metadata(c *asfCursor, dst *Block) {
	for n := c.u16(); n > 0 && !c.bad; n-- {
		c.skip(4) // language or reserved, stream number
		nameLen, typ, size := c.u16(), c.u16(), c.u32()
		name := utf16Text(c.bytes(nameLen), false)
		t.attribute(c, dst, name, typ, size)
	}
}

// attribute reads the value of size bytes at the cursor into dst if name
// is one we know and its type is text or a number, else skips it.
func (t *asfTag) attribute(c *asfCursor, dst *Block, name string, typ, size int64) {
	name = strings.ToUpper(cleanValue(name))
	field, known := keyField(strings.TrimPrefix(name, "WM/"))
	fallback := name == "WM/TRACK" || name == "WM/GENREID"
	if !known && !fallback || typ == asfBytes || typ > asfWord || size > maxTextFrame {
		c.skip(size)
		return
	}
	v, ok := asfValue(typ, c.bytes(size))
	if !ok {
		return
	}
	switch v = cleanValue(v); {
	case v == "":
	case name == "WM/TRACK":
		t.track0 = append(t.track0, v)
	case name == "WM/GENREID":
		t.genreIDs = append(t.genreIDs, v)
	default:
		dst.Add(field, v)
	}
}

// asfValue renders a text or numeric value as text; it reports false for a
// number of no sensible length.
func asfValue(typ int64, b []byte) (string, bool) {
	if typ == asfText {
		return utf16Text(b, false), true
	}
	// BOOL (4 bytes, or 2 in metadata objects), DWORD, QWORD, WORD
	if len(b) == 0 || len(b) > 8 {
		return "", false
	}
	var n uint64
	for i := len(b) - 1; i >= 0; i-- {
		n = n<<8 | uint64(b[i])
	}
	return strconv.FormatUint(n, 10), true
}

// block joins the values of the objects in order, and adds the fallbacks:
// WM/Track counts from 0, WM/GenreID holds ID3 genre codes.
func (t *asfTag) block() Block {
	blk := Block{Kind: ASF}
	for _, p := range t.parts {
		for field, vs := range p.Values {
			blk.Values[field] = append(blk.Values[field], vs...)
		}
	}
	if len(blk.Values[TrackNumber]) == 0 {
		for _, v := range t.track0 {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				blk.Add(TrackNumber, strconv.Itoa(n+1))
				break
			}
		}
	}
	if len(blk.Values[Genre]) == 0 {
		for _, v := range t.genreIDs {
			blk.Add(Genre, id3GenreValues(v)...)
		}
	}
	return blk
}

// asfCursor reads the little-endian fields of one object, never past its
// end. A read past the end (or a failed one) sets bad and yields zeros.
type asfCursor struct {
	s        *source
	pos, end int64
	bad      bool
}

// bytes returns the next n bytes, valid until the next read.
func (c *asfCursor) bytes(n int64) []byte {
	if c.bad || n < 0 || n > c.end-c.pos {
		c.bad = true
		return nil
	}
	b, err := c.s.full(c.pos, int(n))
	if err != nil {
		c.bad = true
		return nil
	}
	c.pos += n
	return b
}

func (c *asfCursor) skip(n int64) {
	if c.bad || n < 0 || n > c.end-c.pos {
		c.bad = true
		return
	}
	c.pos += n
}

func (c *asfCursor) u16() int64 {
	if b := c.bytes(2); b != nil {
		return int64(binary.LittleEndian.Uint16(b))
	}
	return 0
}

func (c *asfCursor) u32() int64 {
	if b := c.bytes(4); b != nil {
		return int64(binary.LittleEndian.Uint32(b))
	}
	return 0
}
