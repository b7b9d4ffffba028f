package cas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
)

type boltTx = bolt.Tx

var (
	bucketManifests = []byte("manifests") // encodeKey → manifest
	bucketBlocks    = []byte("blocks")    // fill id + block index → hash
	bucketAccess    = []byte("access")    // entry id → last access (unix ns)
)

const dbName = "manifests.db"

// queue holds database writes in order until the writer applies them, as
// many per transaction as have accumulated. Enqueueing never blocks, so it
// may be done under Store.mu.
type queue struct {
	mu   sync.Mutex
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

// writeLoop applies queued writes until Stop, then the rest.
func (s *Store) writeLoop() {
	defer close(s.writeDone)
	for {
		select {
		case <-s.q.wake:
			s.applyQueued()
		case <-s.q.stop:
			s.applyQueued()
			return
		}
	}
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

// openDB opens the manifest database. One that cannot be read is replaced
// by an empty one, together with the cached files it described: the cache
// can always be fetched again, and a daemon that cannot start cannot play
// anything.
func (s *Store) openDB() (*bolt.DB, error) {
	path := s.path(dbName)
	opts := &bolt.Options{Timeout: 2 * time.Second}
	db, err := bolt.Open(path, 0o600, opts)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: locked by another process: %w", path, err)
	}
	if err == nil {
		err = createBuckets(db)
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		s.log.Error("cache manifest database unreadable; starting with an empty cache", zap.String("path", path), zap.Error(err))
		if err := s.wipe(); err != nil {
			return nil, err
		}
		if db, err = bolt.Open(path, 0o600, opts); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if err := createBuckets(db); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return db, nil
}

func createBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
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
