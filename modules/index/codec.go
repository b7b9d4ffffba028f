package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"
)

// The store's value encoding of a Track (schema version storeVersion). The
// key is origin + "\x00" + relpath. The value is:
//
//	varint size, varint mtime seconds (Unix), varint mtime nanoseconds
//	(0–999999999), flags byte,
//	for an untagged audio file: the Reason byte,
//	when flagTagged: two strings (uvarint length, bytes) title and album,
//	three lists (uvarint count, strings) artists, album artists, genres,
//	then four varints year, track, disc, disc total.
//
// Hand-written rather than gob or JSON: decoding 100k records is one pass with
// a few allocations per record and no reflection. The mtime is not Unix ns,
// which is undefined outside 1678–2262 (SMB/NTFS report 1601 for "no date").
//
// Version 2 had single strings for artist, album artist and genre and no
// reason; decodeV2 reads it so that an upgrade keeps the library listed
// while the tags are read again.
const (
	flagAudio       = 1 << 0
	flagTagged      = 1 << 1
	flagRetry       = 1 << 2 // tags not read because of the origin: read again
	flagCompilation = 1 << 3
)

// maxListLen bounds a stored list's count: a damaged value must not size an
// allocation.
const maxListLen = 1 << 10

var errDecode = errors.New("malformed index record")

func appendKey(b []byte, origin, relpath string) []byte {
	b = append(b, origin...)
	b = append(b, 0)
	return append(b, relpath...)
}

func appendValue(b []byte, t *Track, retry bool) []byte {
	b = binary.AppendVarint(b, t.Size)
	// The zero time is second -62135596800, which comes back as the zero time.
	b = binary.AppendVarint(b, t.ModTime.Unix())
	b = binary.AppendVarint(b, int64(t.ModTime.Nanosecond()))
	var f byte
	if t.Audio {
		f |= flagAudio
	}
	if t.Tagged {
		f |= flagTagged
	}
	if retry {
		f |= flagRetry
	}
	if t.Compilation {
		f |= flagCompilation
	}
	b = append(b, f)
	if !t.Tagged {
		if t.Audio {
			b = append(b, byte(t.Untagged))
		}
		return b
	}
	b = appendString(b, t.Title)
	b = appendString(b, t.Album)
	for _, l := range [...][]string{t.Artists, t.AlbumArtists, t.Genres} {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			b = appendString(b, s)
		}
	}
	for _, n := range [...]int{t.Year, t.Track, t.Disc, t.DiscTotal} {
		b = binary.AppendVarint(b, int64(n))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder decodes records into t, interning the repeated strings. scratch
// lets RelPath and Title share one allocation: they live and die together.
type decoder struct {
	in      interner
	scratch []byte
	lists   [3][]string // scratch for the lists before interning
}

// decode fills t from a key and value; it reports whether t must be read
// again (flagRetry). k and v may be invalid after it returns (bbolt memory):
// nothing in t refers to them.
func (d *decoder) decode(k, v []byte, t *Track) (retry bool, err error) {
	origin, rel, ok := splitKey(k)
	if !ok {
		return false, errDecode
	}
	r := reader{b: v}
	size := r.varint()
	sec, nsec := r.varint(), r.varint()
	f := r.byte()
	var reason byte
	var title, album []byte
	var nums [4]int64
	switch {
	case f&flagTagged != 0:
		title, album = r.bytes(), r.bytes()
		for i := range d.lists {
			d.lists[i] = d.lists[i][:0]
			n := r.uvarint()
			if n > maxListLen {
				return false, errDecode
			}
			for range n {
				d.lists[i] = append(d.lists[i], d.in.bytes(r.bytes()))
			}
		}
		for j := range nums {
			nums[j] = r.varint()
		}
	case f&flagAudio != 0:
		reason = r.byte()
	}
	if r.bad || len(r.b) != 0 || nsec < 0 || nsec >= 1e9 || reason >= byte(nReasons) {
		return false, errDecode
	}
	d.fill(t, origin, rel, size, sec, nsec, f, title, album, nums)
	t.Untagged = Reason(reason)
	if t.Tagged {
		t.Artists, t.AlbumArtists, t.Genres = d.in.list(d.lists[0]), d.in.list(d.lists[1]), d.in.list(d.lists[2])
	}
	return f&flagRetry != 0, nil
}

// decodeV2 reads a record of schema version 2. Its tags were read by the
// old reader, so the record always asks to be read again.
func (d *decoder) decodeV2(k, v []byte, t *Track) error {
	origin, rel, ok := splitKey(k)
	if !ok {
		return errDecode
	}
	r := reader{b: v}
	size := r.varint()
	sec, nsec := r.varint(), r.varint()
	f := r.byte() &^ flagCompilation
	var strs [5][]byte
	var nums [4]int64
	if f&flagTagged != 0 {
		for j := range strs {
			strs[j] = r.bytes()
		}
		for j := range nums {
			nums[j] = r.varint()
		}
	}
	if r.bad || len(r.b) != 0 || nsec < 0 || nsec >= 1e9 {
		return errDecode
	}
	d.fill(t, origin, rel, size, sec, nsec, f, strs[0], strs[3], nums)
	if t.Tagged {
		one := func(b []byte) []string {
			if len(b) == 0 {
				return nil
			}
			return d.in.list([]string{d.in.bytes(b)})
		}
		t.Artists, t.AlbumArtists, t.Genres = one(strs[1]), one(strs[2]), one(strs[4])
	}
	return nil
}

func splitKey(k []byte) (origin, rel []byte, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i <= 0 || i == len(k)-1 {
		return nil, nil, false
	}
	return k[:i], k[i+1:], true
}

// fill sets the fields every version has.
func (d *decoder) fill(t *Track, origin, rel []byte, size, sec, nsec int64, f byte, title, album []byte, nums [4]int64) {
	d.scratch = append(append(d.scratch[:0], rel...), title...)
	both := string(d.scratch)
	*t = Track{
		Origin:      d.in.bytes(origin),
		RelPath:     both[:len(rel)],
		Size:        size,
		ModTime:     time.Unix(sec, nsec),
		Audio:       f&flagAudio != 0,
		Tagged:      f&flagTagged != 0,
		Compilation: f&flagCompilation != 0,
	}
	if t.Tagged {
		if len(title) > 0 {
			t.Title = both[len(rel):]
		}
		t.Album = d.in.bytes(album)
		t.Year, t.Track, t.Disc, t.DiscTotal = int(nums[0]), int(nums[1]), int(nums[2]), int(nums[3])
	}
}

// reader consumes a value; any overrun sets bad and yields zeros.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad = true
		r.b = nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}
