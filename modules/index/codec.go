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
//	and when flagTagged: five strings (uvarint length, bytes) title, artist,
//	album artist, album, genre, then four varints year, track, disc, disc total.
//
// Hand-written rather than gob or JSON: decoding 100k records is one pass with
// a few allocations per record and no reflection. The mtime is not Unix ns,
// which is undefined outside 1678–2262 (SMB/NTFS report 1601 for "no date").
const (
	flagAudio  = 1 << 0
	flagTagged = 1 << 1
	flagRetry  = 1 << 2 // tags not read because of the origin: read again
)

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
	b = append(b, f)
	if !t.Tagged {
		return b
	}
	for _, s := range [...]string{t.Title, t.Artist, t.AlbumArtist, t.Album, t.Genre} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, n := range [...]int{t.Year, t.Track, t.Disc, t.DiscTotal} {
		b = binary.AppendVarint(b, int64(n))
	}
	return b
}

// decoder decodes records into t, interning the repeated strings. scratch
// lets RelPath and Title share one allocation: they live and die together.
type decoder struct {
	in      interner
	scratch []byte
}

// decode fills t from a key and value; it reports whether t must be read
// again (flagRetry). k and v may be invalid after it returns (bbolt memory):
// nothing in t refers to them.
func (d *decoder) decode(k, v []byte, t *Track) (retry bool, err error) {
	i := bytes.IndexByte(k, 0)
	if i <= 0 || i == len(k)-1 {
		return false, errDecode
	}
	origin, rel := k[:i], k[i+1:]
	r := reader{b: v}
	size := r.varint()
	sec, nsec := r.varint(), r.varint()
	f := r.byte()
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
		return false, errDecode
	}
	d.scratch = append(append(d.scratch[:0], rel...), strs[0]...)
	both := string(d.scratch)
	*t = Track{
		Origin:  d.in.bytes(origin),
		RelPath: both[:len(rel)],
		Size:    size,
		ModTime: time.Unix(sec, nsec),
		Audio:   f&flagAudio != 0,
		Tagged:  f&flagTagged != 0,
	}
	if t.Tagged {
		if len(strs[0]) > 0 {
			t.Title = both[len(rel):]
		}
		t.Artist = d.in.bytes(strs[1])
		t.AlbumArtist = d.in.bytes(strs[2])
		t.Album = d.in.bytes(strs[3])
		t.Genre = d.in.bytes(strs[4])
		t.Year, t.Track, t.Disc, t.DiscTotal = int(nums[0]), int(nums[1]), int(nums[2]), int(nums[3])
	}
	return f&flagRetry != 0, nil
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
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.bad = true
		r.b = nil
		return nil
	}
	s := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return s
}
