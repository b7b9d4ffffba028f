package cas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/supervise"
)

type boltTx = bolt.Tx

var (
	bucketManifests = []byte("manifests")   // encodeKey → manifest
	bucketBlocks    = []byte("tree-blocks") // fill id + block index → hash (treehash.go)
	bucketAccess    = []byte("access")      // entry id → last access (unix ns)
)

const dbName = "manifests.db"

// queue holds database writes in order until the writer applies them, as
// many per transaction as have accumulated. Enqueueing never blocks, so it
// may be done under Store.mu.
type queue struct {
	mu   sync.Mutex // guards ops
	ops  []func(*bolt.Tx) error
	wake chan struct{} // cap 1
	stop chan struct{} // closed by Stop after the last op is queued
}

func (s *Store) enqueue(op func(*bolt.Tx) error) {
	s.q.mu.Lock()
	s.q.ops = append(s.q.ops, op)
	s.q.mu.Unlock()
	select {
	case s.q.wake <- struct{}{}:
	default:
	}
}

// writeLoop applies queued writes until Stop, then the rest. A panicking
// write (a damaged database) loses its batch, which only loses cached
// data: Start reconciles manifests with files.
func (s *Store) writeLoop() {
	defer close(s.writeDone)
	supervise.Loop(s.log, "write cache manifests", s.q.stop, func() {
		for {
			select {
			case <-s.q.wake:
				s.applyQueued()
			case <-s.q.stop:
				return
			}
		}
	})
	supervise.Protect(s.log, "write cache manifests", s.applyQueued)
}

func (s *Store) applyQueued() {
	s.q.mu.Lock()
	ops := s.q.ops
	s.q.ops = nil
	s.q.mu.Unlock()
	if len(ops) == 0 {
		return
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, op := range ops {
			if err := op(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Only cached data is at risk: Start reconciles manifests with files.
		s.log.Warn("persist cache manifests", zap.Int("writes", len(ops)), zap.Error(err))
	}
}

// deleteBlocks deletes the block records of fill id.
func deleteBlocks(tx *bolt.Tx, id string) error {
	b := tx.Bucket(bucketBlocks)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek([]byte(id)); k != nil && bytes.HasPrefix(k, []byte(id)); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// dbError marks a failure of the manifest database itself (an error bbolt
// returned, or a panic: it panics on some damaged pages), as opposed to
// one of the cache directory.
type dbError struct{ err error }

func (e dbError) Error() string { return e.err.Error() }
func (e dbError) Unwrap() error { return e.err }

// loadDB opens the manifest database and loads the store from it
// (reconcile). One that cannot be read is replaced by an empty one,
// together with the cached files it described: the cache can always be
// fetched again, and a daemon that cannot start cannot play anything.
func (s *Store) loadDB() error {
	path := s.path(dbName)
	err := s.openAndLoad(path)
	var bad dbError
	if !errors.As(err, &bad) {
		return err
	}
	s.log.Error("cache manifest database unreadable; starting with an empty cache",
		zap.String("path", path), zap.Error(err))
	s.resetState()
	if err := s.wipe(); err != nil {
		return err
	}
	if err := s.openAndLoad(path); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}

// openAndLoad opens the database at path into s.db and reconciles it. A
// panic in bbolt becomes a dbError; the database is then closed again.
func (s *Store) openAndLoad(path string) error {
	s.db = nil
	err := s.guard("open cache manifest database", func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("open %s: locked by another process: %w", path, err)
		}
		if err != nil {
			return dbError{fmt.Errorf("open %s: %w", path, err)}
		}
		s.db = db
		if err := createBuckets(db); err != nil {
			return dbError{fmt.Errorf("open %s: %w", path, err)}
		}
		return s.reconcile()
	})
	if err != nil && s.db != nil {
		db := s.db
		s.db = nil
		_ = s.guard("close cache manifest database", db.Close)
	}
	return err
}

// guard runs fn, turning a panic into a dbError logged with its stack.
func (s *Store) guard(what string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("cache manifest database panicked", zap.String("op", what),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			err = dbError{fmt.Errorf("%s: panic: %v", what, v)}
		}
	}()
	return fn()
}

// bucketPlainBlocks held block hashes of the bytes alone (BLAKE3 of each
// block) before they became tree hashes: a fill's blocks recorded there
// are fetched again rather than found damaged.
var bucketPlainBlocks = []byte("blocks")

func createBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPlainBlocks) != nil {
			if err := tx.DeleteBucket(bucketPlainBlocks); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketManifests, bucketBlocks, bucketAccess} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// flushAccess persists the last-access times that changed since the last
// flush, so eviction order survives a restart.
func (s *Store) flushAccess() {
	now := time.Now().UnixNano()
	type rec struct {
		id string
		at int64
	}
	var recs []rec
	s.mu.Lock()
	since := s.flushedAt
	s.flushedAt = now
	for _, b := range s.blobs {
		last := b.access
		for t := range b.tracks {
			last = max(last, t.access.Load())
		}
		if last > since {
			recs = append(recs, rec{blobRel(b.hash), last})
		}
	}
	for id, t := range s.fills {
		if fl := t.fill; fl != nil && fl.id == id && fl.onDisk {
			if at := t.access.Load(); at > since {
				recs = append(recs, rec{fillRel(id), at})
			}
		}
	}
	s.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	s.enqueue(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccess)
		for _, r := range recs {
			if err := b.Put([]byte(r.id), binary.BigEndian.AppendUint64(nil, uint64(r.at))); err != nil {
				return err
			}
		}
		return nil
	})
}
