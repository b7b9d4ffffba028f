package cas

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/musicfs/musicfs/modules/origins"
)

// Key is a track's identity. A different Size or ModTime is a different
// track: when an origin file changes, the old manifest is retired and its
// blob left to eviction.
type Key struct {
	Origin, RelPath string
	Size            int64
	ModTime         time.Time
}

func (k Key) String() string {
	return fmt.Sprintf("%s:%s@%d/%d", k.Origin, k.RelPath, k.Size, k.ModTime.UnixNano())
}

// Opener opens the origin file. It is called lazily, only when a block must
// come from the origin, and succeeds at most once per Reader (or per Fetch):
// a failed open is tried again by the next read that needs the origin, so
// reads resume when an offline origin returns. The open ends with ctx.
type Opener func(ctx context.Context) (origins.File, error)

var (
	// ErrInUse is returned by Remove for an entry that an open Reader, a
	// running fetch or a promotion uses.
	ErrInUse = errors.New("cache entry in use")
	// ErrNoSpace is what Space implementations return (or wrap) when no room
	// can be made; the store then serves the block uncached.
	ErrNoSpace = errors.New("no room in the cache")
	// ErrChanged means the origin file is not the one the Key names (its
	// size or modification time differs): nothing is stored from it.
	ErrChanged = errors.New("origin file changed")
	// ErrClosed is returned by operations on a stopped store.
	ErrClosed = errors.New("cache store closed")
)

// encodeKey is the manifest's bbolt key: origin and relpath NUL-terminated
// (neither may contain NUL), then size, mtime seconds and nanoseconds in
// fixed width. The encoding is prefix-free, so no key is a prefix of another.
func encodeKey(k Key) string {
	var b strings.Builder
	b.Grow(len(k.Origin) + len(k.RelPath) + 22)
	b.WriteString(k.Origin)
	b.WriteByte(0)
	b.WriteString(k.RelPath)
	b.WriteByte(0)
	var n [20]byte
	binary.BigEndian.PutUint64(n[0:], uint64(k.Size))
	binary.BigEndian.PutUint64(n[8:], uint64(k.ModTime.Unix()))
	binary.BigEndian.PutUint32(n[16:], uint32(k.ModTime.Nanosecond()))
	b.Write(n[:])
	return b.String()
}

func decodeKey(s string) (Key, error) {
	bad := fmt.Errorf("decode manifest key %q: malformed", s)
	origin, rest, ok := strings.Cut(s, "\x00")
	if !ok {
		return Key{}, bad
	}
	rel, rest, ok := strings.Cut(rest, "\x00")
	if !ok || len(rest) != 20 {
		return Key{}, bad
	}
	return Key{
		Origin:  origin,
		RelPath: rel,
		Size:    int64(binary.BigEndian.Uint64([]byte(rest[0:8]))),
		ModTime: time.Unix(int64(binary.BigEndian.Uint64([]byte(rest[8:16]))), int64(binary.BigEndian.Uint32([]byte(rest[16:20])))),
	}, nil
}

// pathOf identifies the origin file regardless of its version.
func pathOf(k Key) string { return k.Origin + "\x00" + k.RelPath }

// manifest is the persisted state of one track: a partial fill file of
// blocks (whose hashes live in the blocks bucket under the fill id) or a
// complete blob.
type manifest struct {
	blockSize int64
	blob      string // hex hash when complete
	fill      string // fill id when partial
}

const manifestVersion = 1

func (m manifest) encode() []byte {
	id, kind := m.fill, byte(0)
	if m.blob != "" {
		id, kind = m.blob, 1
	}
	b := make([]byte, 0, 2+binary.MaxVarintLen64+len(id))
	b = append(b, manifestVersion, kind)
	b = binary.AppendUvarint(b, uint64(m.blockSize))
	return append(b, id...)
}

func decodeManifest(b []byte) (manifest, error) {
	if len(b) < 3 || b[0] != manifestVersion || b[1] > 1 {
		return manifest{}, errors.New("decode manifest: unknown format")
	}
	bs, n := binary.Uvarint(b[2:])
	if n <= 0 || bs == 0 || bs > 1<<30 {
		return manifest{}, errors.New("decode manifest: bad block size")
	}
	id := string(b[2+n:])
	m := manifest{blockSize: int64(bs)}
	if b[1] == 1 {
		if !validBlobHash(id) {
			return manifest{}, errors.New("decode manifest: bad blob hash")
		}
		m.blob = id
	} else {
		if !validFillID(id) {
			return manifest{}, errors.New("decode manifest: bad fill id")
		}
		m.fill = id
	}
	return m, nil
}

const (
	hashLen   = 32       // BLAKE3-256
	fillIDLen = 32       // hex of 16 random bytes
	blobIDPre = "blobs/" // Entry.ID of a blob: blobs/ab/abcd…
	fillIDPre = "fill/"  // Entry.ID of a fill file: fill/<id>
	hexDigits = "0123456789abcdef"
)

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(hexDigits, s[i]) < 0 {
			return false
		}
	}
	return true
}

func validBlobHash(s string) bool { return len(s) == 2*hashLen && isHex(s) }
func validFillID(s string) bool   { return len(s) == fillIDLen && isHex(s) }

// blobRel is a blob's path under Dir, which is also its Entry.ID.
func blobRel(hash string) string { return blobIDPre + hash[:2] + "/" + hash }

// fillRel is a fill file's path under Dir, which is also its Entry.ID.
func fillRel(id string) string { return fillIDPre + id }

// blockKey is a block record's key in the blocks bucket: the fill id, then
// the block index. Fill ids have a fixed length, so a fill's records are
// exactly those with its id as prefix.
func blockKey(fill string, i int) []byte {
	b := make([]byte, fillIDLen+4)
	copy(b, fill)
	binary.BigEndian.PutUint32(b[fillIDLen:], uint32(i))
	return b
}
