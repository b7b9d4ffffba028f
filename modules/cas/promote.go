package cas

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"go.uber.org/zap"
)

var errCorrupt = errors.New("content does not match its hash")

// maybePromoteLocked starts t's promotion to a blob if every block of its
// fill is present.
func (s *Store) maybePromoteLocked(t *track) {
	fl := t.fill
	if fl == nil || fl.npresent < fl.n || t.promoting || s.stopping {
		return
	}
	t.promoting = true
	t.promoDone = make(chan struct{})
	t.refs++
	s.wg.Add(1)
	go s.promote(t, fl)
}

// promote turns a complete fill into a blob: it hashes the file whole
// (checking every block on the way), fsyncs it and renames it to its
// content address, or drops it if that blob exists already.
func (s *Store) promote(t *track, fl *fill) {
	defer s.wg.Done()
	retry := false
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("promotion panicked", zap.Stringer("track", t.key),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
		}
		s.mu.Lock()
		t.promoting = false
		close(t.promoDone)
		if retry { // a damaged block was dropped; it may be back already
			s.maybePromoteLocked(t)
		}
		s.mu.Unlock()
		s.release(t)
	}()

	f, fd, err := fl.open(s)
	if err != nil {
		s.log.Warn("promote track to blob", zap.Stringer("track", t.key), zap.Error(err))
		return
	}
	defer fl.close()
	hash, err := s.hashFill(t, fl, f, fd)
	if errors.Is(err, errCorrupt) {
		retry = true
		return
	}
	if err == nil {
		err = f.Sync() // the blob's bytes must be on disk before its name is
	}
	if err != nil {
		s.log.Warn("promote track to blob", zap.Stringer("track", t.key), zap.Error(err))
		return
	}

	id := blobRel(hash)
	s.mu.Lock()
	// Wait out a removal of the blob, and a promotion of the same content
	// creating it: that one renames onto the blob's name, this one then
	// finds the blob there.
	for {
		ch := s.removing[id]
		if ch == nil {
			ch = s.creating[hash]
		}
		if ch == nil {
			break
		}
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
	s.promoting[hash]++
	_, exists := s.blobs[hash]
	if !exists {
		created := make(chan struct{})
		s.creating[hash] = created
		defer func() { // runs after the blob is recorded below (or not)
			s.mu.Lock()
			delete(s.creating, hash)
			close(created)
			s.mu.Unlock()
		}()
	}
	s.mu.Unlock()

	fillPath, blobPath := s.path(fillRel(fl.id)), s.path(id)
	renamed := false
	var st stamp
	if exists {
		err = os.Remove(fillPath) // identical content is stored already
	} else if err = os.MkdirAll(filepath.Dir(blobPath), 0o700); err == nil {
		if err = os.Rename(fillPath, blobPath); err == nil {
			renamed = true
			st, err = fstat(fd)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.promoting[hash]--; s.promoting[hash] == 0 {
		delete(s.promoting, hash)
	}
	if err != nil && !renamed {
		s.log.Warn("promote track to blob", zap.Stringer("track", t.key), zap.Error(err))
		return
	}
	if t.fill != fl {
		return // cannot happen while we hold a reference; be safe
	}
	b := s.blobs[hash]
	if b == nil && !renamed {
		// The blob we matched was dropped meanwhile, and our copy with it.
		s.dropFillLocked(fl)
		t.fill = s.newFillLocked(t, s.cfg.BlockSize)
		enc := t.enc
		s.enqueue(func(tx *boltTx) error { return tx.Bucket(bucketManifests).Delete([]byte(enc)) })
		return
	}
	if b == nil {
		b = newBlob(hash, t.key.Size, st.bytes())
		b.stamp, b.verified = st, err == nil
		s.blobs[hash] = b
		s.usage.Add(b.bytes)
	}
	if b.blocks == nil {
		// hashFill checked every block against these: they are the
		// content's, and let damage found later be repaired block by block.
		b.bsize, b.blocks = fl.blockSize, slices.Clone(fl.hashes)
	}
	// The fill file is now the blob (or gone): stop accounting it.
	fl.gone.Store(true)
	delete(s.fills, fl.id)
	if fl.onDisk {
		s.usage.Add(-fl.bytes)
		fl.onDisk = false
	}
	t.fill, t.blob = nil, b
	b.tracks[t] = struct{}{}
	enc, m, fid := t.enc, manifest{blockSize: fl.blockSize, blob: hash}, fl.id
	s.enqueue(func(tx *boltTx) error {
		if err := tx.Bucket(bucketManifests).Put([]byte(enc), m.encode()); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAccess).Delete([]byte(fillRel(fid))); err != nil {
			return err
		}
		return deleteBlocks(tx, fid)
	})
}

// hashFill returns the hex hash of the complete fill's content, from its
// block hashes (see treehash.go). A block verified under the file's
// current stamp (written or checked by us, the file unchanged since) is
// taken as it is; any other is read and checked first, and a damaged one
// is dropped and reported as errCorrupt.
func (s *Store) hashFill(t *track, fl *fill, f *os.File, fd int) (string, error) {
	st, err := fstat(fd)
	if err != nil {
		return "", fmt.Errorf("stat fill file %s: %w", fl.id, err)
	}
	s.mu.Lock()
	hashes := slices.Clone(fl.hashes)
	trusted := st.same(fl.stamp)
	var check []int
	for i := range fl.n {
		if !trusted || !fl.verified[i] {
			check = append(check, i)
		}
	}
	s.mu.Unlock()
	if len(check) > 0 {
		bp := s.getBuf(fl.blockSize)
		defer s.putBuf(bp)
		for _, i := range check {
			off, n := fl.span(i)
			b := (*bp)[:n]
			if m, err := f.ReadAt(b, off); m != len(b) {
				s.corruptBlock(t, fl, i, hashes[i], fmt.Sprintf("short read: %d of %d bytes: %v", m, len(b), err))
				return "", errCorrupt
			}
			if blockHash(b, i, fl.blockSize, fl.size) != hashes[i] {
				s.corruptBlock(t, fl, i, hashes[i], "content does not match its hash")
				return "", errCorrupt
			}
		}
	}
	h, err := contentHash(hashes, fl.blockSize, fl.size)
	if err != nil {
		return "", fmt.Errorf("hash fill file %s: %w", fl.id, err)
	}
	return hex.EncodeToString(h[:]), nil
}
