package cas

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store as its Space sees it: what is cached (Cached, Entries), how
// much room it takes (Usage), and removing an entry.

// Inventory is what a Space sees of the store.
type Inventory interface {
	Entries() []Entry
	Remove(id string) (freed int64, err error)
	Usage() int64
}

// Entry is one removable unit of the store: a blob or a fill file.
type Entry struct {
	ID         string    // blobs/ab/abcd… or fill/<id>: the file's path under Dir
	Bytes      int64     // allocated on disk (st_blocks × 512)
	LastAccess time.Time // latest Open or ReadAt of any of its tracks
	Keys       []Key     // tracks whose manifest names it; none for a retired blob
	InUse      bool      // an open Reader, a running fetch or a promotion uses it
}

func (s *Store) makeRoom(need int64) error {
	if s.space == nil {
		return nil
	}
	return s.space.MakeRoom(s, need)
}

// reclaim asks the Space to free need bytes after a failed write.
func (s *Store) reclaim(need int64) error {
	if s.space == nil {
		return nil
	}
	return s.space.Reclaim(s, need)
}

// Usage returns the allocated bytes of all blobs and fill files.
func (s *Store) Usage() int64 { return s.usage.Load() }

// Cached reports how many bytes of k are present and whether k is complete.
func (s *Store) Cached(k Key) (present int64, complete bool) {
	if k.Size == 0 {
		return 0, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tracks[encodeKey(k)]
	switch {
	case t == nil:
		return 0, false
	case t.blob != nil:
		return k.Size, true
	default:
		return t.fill.presentBytes, false
	}
}

// Entries lists every blob and fill file, for eviction.
func (s *Store) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.blobs)+len(s.fills))
	for _, b := range s.blobs {
		e := Entry{ID: blobRel(b.hash), Bytes: b.bytes, InUse: s.promoting[b.hash] > 0}
		last := b.access
		for t := range b.tracks {
			e.Keys = append(e.Keys, t.key)
			last = max(last, t.access.Load())
			e.InUse = e.InUse || t.refs > 0
		}
		e.LastAccess = time.Unix(0, last)
		out = append(out, e)
	}
	for id, t := range s.fills {
		fl := t.fill
		if fl == nil || fl.id != id || !fl.onDisk {
			continue
		}
		out = append(out, Entry{
			ID:         fillRel(id),
			Bytes:      fl.bytes,
			LastAccess: time.Unix(0, t.access.Load()),
			Keys:       []Key{t.key},
			InUse:      t.refs > 0 || t.promoting,
		})
	}
	return out
}

// Remove deletes an entry (its file and the manifests naming it) and returns
// the allocated bytes freed. It returns an error wrapping ErrInUse if an open
// Reader, a running fetch or a promotion uses the entry, and one wrapping
// fs.ErrNotExist for an unknown id.
func (s *Store) Remove(id string) (freed int64, err error) {
	s.mu.Lock()
	var unlink []string
	switch {
	case strings.HasPrefix(id, blobIDPre):
		hash := id[strings.LastIndexByte(id, '/')+1:]
		b := s.blobs[hash]
		if b == nil || blobRel(hash) != id {
			s.mu.Unlock()
			return 0, fmt.Errorf("remove %s: %w", id, fs.ErrNotExist)
		}
		inUse := s.promoting[hash] > 0
		for t := range b.tracks {
			inUse = inUse || t.refs > 0
		}
		if inUse {
			s.mu.Unlock()
			return 0, fmt.Errorf("remove %s: %w", id, ErrInUse)
		}
		for t := range b.tracks {
			s.dropTrackLocked(t)
		}
		freed = b.bytes
		s.forgetBlobLocked(b)
		unlink = []string{id}
	case strings.HasPrefix(id, fillIDPre):
		t := s.fills[strings.TrimPrefix(id, fillIDPre)]
		if t == nil || t.fill == nil || fillRel(t.fill.id) != id {
			s.mu.Unlock()
			return 0, fmt.Errorf("remove %s: %w", id, fs.ErrNotExist)
		}
		if t.refs > 0 || t.promoting {
			s.mu.Unlock()
			return 0, fmt.Errorf("remove %s: %w", id, ErrInUse)
		}
		freed = t.fill.bytes
		unlink = s.dropTrackLocked(t)
	default:
		s.mu.Unlock()
		return 0, fmt.Errorf("remove %s: %w", id, fs.ErrNotExist)
	}
	done := make(chan struct{})
	s.removing[id] = done
	s.mu.Unlock()

	for _, rel := range unlink {
		if e := os.Remove(s.path(rel)); e != nil && !os.IsNotExist(e) {
			err = fmt.Errorf("remove %s: %w", id, e)
		}
	}
	s.mu.Lock()
	delete(s.removing, id)
	close(done)
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return freed, nil
}

// forgetBlobLocked removes b from the maps and the accounting; the caller
// unlinks the file, with removing[id] set so promotions wait for it.
func (s *Store) forgetBlobLocked(b *blob) {
	delete(s.blobs, b.hash)
	s.usage.Add(-b.bytes)
	id := blobRel(b.hash)
	s.enqueue(func(tx *bolt.Tx) error { return tx.Bucket(bucketAccess).Delete([]byte(id)) })
}
