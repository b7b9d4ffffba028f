package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
)

// storeVersion is the schema of index.db. A version 2 store is migrated
// (its records kept, their tags read again by the next scan); one of any
// other version is emptied and rebuilt by a full scan. Version 1 stored
// mtimes as Unix ns; version 2 single artists and genres.
const storeVersion = 3

const (
	// storeLockQuiet is how long index.db's file lock is waited for before
	// saying so: a previous daemon may still be exiting.
	storeLockQuiet = time.Second
	// storeLockWait bounds the whole wait, so a store held by a stuck process
	// fails start (systemd restarts the daemon) instead of hanging it.
	storeLockWait = 10 * time.Second
	// maxLoadHint caps the capacity reserved from the stored file count: a
	// damaged count must not size an allocation.
	maxLoadHint = 1 << 20
)

// errCorrupt is wrapped by errors that show the store file is damaged: a
// panic or memory fault inside bbolt.
var errCorrupt = errors.New("index store damaged")

// isCorrupt reports whether err is evidence of a damaged store file, the
// only reason to move it aside. A lock held by another process, a permission
// or I/O error, a full disk say nothing about the file.
func isCorrupt(err error) bool {
	switch {
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, errDecode), errors.Is(err, errCorrupt):
		return true
	}
	// bbolt has no variable for a file shorter than its two meta pages.
	return strings.Contains(err.Error(), "file size too small")
}

var (
	bucketMeta    = []byte("meta")
	bucketTracks  = []byte("tracks")
	bucketOrigins = []byte("origins")
	keyVersion    = []byte("version")
	keyFiles      = []byte("files") // file count of the last complete full scan
)

// originMeta is what the index remembers about an origin between runs.
type originMeta struct {
	// mountpoint: the root was a mount point at the last complete walk. If it
	// no longer is, the mount is gone and the directory under it is not the
	// library.
	mountpoint bool
}

// store is the persisted index: a bbolt file written only by the run
// goroutine (and by Start/Stop before and after it).
type store struct {
	db   *bolt.DB
	path string
	// broken: a write panicked inside bbolt, which may have left its state
	// (and its locks) inconsistent: the store is neither written nor closed
	// again; the process exit releases it.
	broken bool
}

// loaded is the content of a store.
type loaded struct {
	tracks  []*Track // sorted by origin, relpath (the key order)
	retry   map[string]struct{}
	files   int
	origins map[string]originMeta
}

// batch is one transaction's worth of changes.
type batch struct {
	puts    []*Track
	dels    []*Track
	retry   map[string]struct{} // keys whose tags must be read again
	files   int                 // > 0: file count of a complete full scan
	origins map[string]originMeta
}

func (b *batch) empty() bool {
	return len(b.puts) == 0 && len(b.dels) == 0 && b.files == 0 && b.origins == nil
}

// openStore opens (creating it if needed) and loads the store at path,
// waiting at most lockTimeout for its file lock. A store of another schema
// version is emptied (logged). Any other problem is returned as an error; a
// panic or memory fault inside bbolt reading a damaged file wraps
// errCorrupt.
func openStore(path string, in interner, log *zap.Logger, lockTimeout time.Duration) (s *store, l loaded, err error) {
	var db *bolt.DB
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("read %s: panic: %v: %w", path, v, errCorrupt)
		}
		if err != nil && db != nil {
			closeQuietly(db)
			s = nil
		}
	}()
	// bbolt reads the file through mmap: a truncated file faults (SIGBUS) on
	// access, which this turns into a panic recovered above.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))

	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, l, fmt.Errorf("open %s: %w", path, err)
	}
	// Read-only first: a damaged store is moved aside as it was found.
	var current bool
	if err := db.View(func(tx *bolt.Tx) error {
		current = version(tx) == storeVersion
		return nil
	}); err != nil {
		return nil, l, fmt.Errorf("read %s: %w", path, err)
	}
	if !current {
		if err := db.Update(func(tx *bolt.Tx) error {
			if version(tx) == 2 {
				return migrateV2(tx, path, log)
			}
			return prepare(tx, path, log)
		}); err != nil {
			return nil, l, err
		}
	}
	if err := db.View(func(tx *bolt.Tx) error {
		l, err = load(tx, in)
		return err
	}); err != nil {
		return nil, l, fmt.Errorf("load %s: %w", path, err)
	}
	return &store{db: db, path: path}, l, nil
}

func closeQuietly(db *bolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// version returns the store's schema version, 0 when it has none or lacks
// a bucket.
func version(tx *bolt.Tx) uint32 {
	meta := tx.Bucket(bucketMeta)
	if meta == nil || tx.Bucket(bucketTracks) == nil || tx.Bucket(bucketOrigins) == nil {
		return 0
	}
	if v := meta.Get(keyVersion); len(v) == 4 {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// migrateV2 rewrites every record of a version 2 store in the current
// encoding, asking for its tags to be read again: the library stays listed
// (with the old tags) while the first scan after the upgrade reads them.
func migrateV2(tx *bolt.Tx, path string, log *zap.Logger) error {
	tracks := tx.Bucket(bucketTracks)
	d := decoder{in: newInterner(0)}
	type kv struct{ k, v []byte }
	var recs []kv
	var t Track
	err := tracks.ForEach(func(k, v []byte) error {
		if err := d.decodeV2(k, v, &t); err != nil {
			return fmt.Errorf("record %q: %w", k, err)
		}
		recs = append(recs, kv{bytes.Clone(k), appendValue(nil, &t, t.Audio)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	for _, r := range recs { // bbolt allows no writes inside ForEach
		if err := tracks.Put(r.k, r.v); err != nil {
			return fmt.Errorf("migrate %s: %w", path, err)
		}
	}
	log.Info("index store migrated from schema version 2; tags are read again by the next scan",
		zap.String("path", path), zap.Int("records", len(recs)))
	return tx.Bucket(bucketMeta).Put(keyVersion, binary.BigEndian.AppendUint32(nil, storeVersion))
}

// prepare makes a new store, or one of another schema version, an empty
// store of the current version.
func prepare(tx *bolt.Tx, path string, log *zap.Logger) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		v := meta.Get(keyVersion)
		found := "unknown"
		if len(v) == 4 {
			found = fmt.Sprint(binary.BigEndian.Uint32(v))
		}
		log.Warn("index store has another schema version; emptying it and rebuilding with a full scan",
			zap.String("path", path), zap.String("found", found), zap.Int("want", storeVersion))
	}
	for _, name := range [][]byte{bucketMeta, bucketTracks, bucketOrigins} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return fmt.Errorf("empty %s: %w", path, err)
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s in %s: %w", name, path, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keyVersion, binary.BigEndian.AppendUint32(nil, storeVersion))
}

// loadSlab is how many records are allocated together: one allocation per
// slab instead of one per record.
const loadSlab = 256

func load(tx *bolt.Tx, in interner) (loaded, error) {
	l := loaded{retry: map[string]struct{}{}, origins: map[string]originMeta{}}
	meta, tracks, origs := tx.Bucket(bucketMeta), tx.Bucket(bucketTracks), tx.Bucket(bucketOrigins)
	if v := meta.Get(keyFiles); v != nil {
		n, k := binary.Uvarint(v)
		if k <= 0 {
			return l, fmt.Errorf("meta %s: %w", keyFiles, errDecode)
		}
		l.files = int(min(n, math.MaxInt32)) // only an estimate of the next scan's work
	}
	if err := origs.ForEach(func(k, v []byte) error {
		if len(v) < 1 {
			return fmt.Errorf("origin %q: %w", k, errDecode)
		}
		l.origins[string(k)] = originMeta{mountpoint: v[0]&1 != 0}
		return nil
	}); err != nil {
		return l, err
	}
	// A good guess (Bucket.Stats would read every page), capped: bbolt does
	// not checksum data pages, and a damaged count must not size memory.
	l.tracks = make([]*Track, 0, min(l.files, maxLoadHint))
	d := decoder{in: in}
	var slab []Track
	c := tracks.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(slab) == 0 {
			slab = make([]Track, loadSlab)
		}
		t := &slab[0]
		slab = slab[1:]
		retry, err := d.decode(k, v, t)
		if err != nil {
			return l, fmt.Errorf("record %q: %w", k, err)
		}
		if retry {
			l.retry[key(t.Origin, t.RelPath)] = struct{}{}
		}
		l.tracks = append(l.tracks, t)
	}
	return l, nil
}

// write applies b in one transaction. A panic inside bbolt (a page damaged
// while the daemon runs, or a fault reading the mapped file) is returned as
// an error wrapping errCorrupt, and the store is not written again.
func (s *store) write(b batch) (err error) {
	if s.broken {
		return fmt.Errorf("write %s: not written since an earlier write panicked: %w", s.path, errCorrupt)
	}
	defer func() {
		if v := recover(); v != nil {
			s.broken = true
			err = fmt.Errorf("write %s: panic: %v: %w", s.path, v, errCorrupt)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var buf []byte // keys and values: bbolt keeps them until commit
	err = s.db.Update(func(tx *bolt.Tx) error {
		tracks := tx.Bucket(bucketTracks)
		for _, t := range b.dels {
			start := len(buf)
			buf = appendKey(buf, t.Origin, t.RelPath)
			if err := tracks.Delete(buf[start:]); err != nil {
				return err
			}
		}
		for _, t := range b.puts {
			start := len(buf)
			buf = appendKey(buf, t.Origin, t.RelPath)
			mid := len(buf)
			_, retry := b.retry[key(t.Origin, t.RelPath)]
			buf = appendValue(buf, t, retry)
			if err := tracks.Put(buf[start:mid:mid], buf[mid:]); err != nil {
				return err
			}
		}
		if b.files > 0 {
			if err := tx.Bucket(bucketMeta).Put(keyFiles, binary.AppendUvarint(nil, uint64(b.files))); err != nil {
				return err
			}
		}
		origs := tx.Bucket(bucketOrigins)
		for name, m := range b.origins {
			var v byte
			if m.mountpoint {
				v = 1
			}
			if err := origs.Put([]byte(name), []byte{v}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

func (s *store) close() error {
	if s.broken {
		return nil // Close could block on a lock the panicked write still holds
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// openState opens the store under dir, waiting up to lockWait for another
// process to release it. Only a damaged store is moved aside (logged) and
// replaced by an empty one; any other problem (still locked, permission, I/O)
// is returned and leaves the file as it is: the caller fails start rather
// than show an empty library.
func openState(dir string, in interner, log *zap.Logger, lockWait time.Duration) (*store, loaded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, loaded{}, fmt.Errorf("index state directory %s unusable: %w", dir, err)
	}
	path := filepath.Join(dir, "index.db")
	s, l, err := openWaiting(path, in, log, lockWait)
	switch {
	case err == nil:
		return s, l, nil
	case !isCorrupt(err):
		return nil, loaded{}, fmt.Errorf("index store %s unusable (left as it is): %w", path, err)
	}
	aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, loaded{}, fmt.Errorf("index store %s damaged (%v) and not moved aside: %w", path, err, rerr)
	}
	log.Error("index store unreadable; moved aside, rebuilding the index with a full scan",
		zap.String("path", path), zap.String("moved_to", aside), zap.Error(err))
	in.clear()
	s, l, err = openWaiting(path, in, log, lockWait)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("new index store %s: %w", path, err)
	}
	return s, l, nil
}

// openWaiting is openStore waiting up to wait for the file lock, saying once
// that it waits.
func openWaiting(path string, in interner, log *zap.Logger, wait time.Duration) (*store, loaded, error) {
	quiet := min(storeLockQuiet, wait)
	s, l, err := openStore(path, in, log, quiet)
	if !errors.Is(err, berrors.ErrTimeout) {
		return s, l, err
	}
	if wait > quiet {
		log.Warn("index store locked by another process (a previous daemon still exiting?); waiting",
			zap.String("path", path), zap.Duration("up_to", wait))
		s, l, err = openStore(path, in, log, wait-quiet)
		if !errors.Is(err, berrors.ErrTimeout) {
			return s, l, err
		}
	}
	return nil, loaded{}, fmt.Errorf("still locked by another process after %s: %w", wait, berrors.ErrTimeout)
}
