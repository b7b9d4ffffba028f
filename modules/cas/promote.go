package cas

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"github.com/zeebo/blake3"
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
	hash, err := s.hashFill(t, fl, f)
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
		b = &blob{hash: hash, size: t.key.Size, bytes: st.bytes(), tracks: map[*track]struct{}{},
			stamp: st, verified: err == nil}
		s.blobs[hash] = b
		s.usage.Add(b.bytes)
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

// hashFill reads the fill whole, checks every block against its recorded
// hash and returns the hex hash of the content. A damaged block is dropped
// and reported as errCorrupt.
func (s *Store) hashFill(t *track, fl *fill, f *os.File) (string, error) {
	s.mu.Lock()
	hashes := slices.Clone(fl.hashes)
	s.mu.Unlock()
	bp := s.getBuf(fl.blockSize)
	defer s.putBuf(bp)
	h := blake3.New()
	for i := range fl.n {
		off, n := fl.span(i)
		b := (*bp)[:n]
		if m, err := f.ReadAt(b, off); m != len(b) {
			s.corruptBlock(t, fl, i, hashes[i], fmt.Sprintf("short read: %d of %d bytes: %v", m, len(b), err))
			return "", errCorrupt
		}
		if blake3.Sum256(b) != hashes[i] {
			s.corruptBlock(t, fl, i, hashes[i], "content does not match its hash")
			return "", errCorrupt
		}
		_, _ = h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openBlob opens b's file and verifies it if it changed since it was last
// hashed (or was not hashed since start); it returns the stamp the content
// was verified under. A missing or damaged blob is dropped and openBlob
// returns nil: the caller falls back to fetching.
func (s *Store) openBlob(b *blob) (*os.File, stamp, error) {
	f, err := os.Open(s.path(blobRel(b.hash)))
	if errors.Is(err, fs.ErrNotExist) {
		s.dropBlob(b, "blob file missing", false)
		return nil, stamp{}, nil
	}
	if err != nil {
		return nil, stamp{}, fmt.Errorf("open blob %s: %w", b.hash, err)
	}
	st, ok, err := s.verifyBlob(b, f)
	if err != nil || !ok {
		_ = f.Close()
		return nil, stamp{}, err
	}
	return f, st, nil
}

// verifyBlob reports whether b's content matches its name, hashing f
// unless the file is unchanged since it was last verified, and returns the
// file's stamp taken before hashing. Concurrent verifications of one blob
// share the work (and the first caller's file, of the same inode or of one
// whose stamp differs: then it is hashed again).
func (s *Store) verifyBlob(b *blob, f *os.File) (stamp, bool, error) {
	st, err := fstat(int(f.Fd()))
	if err != nil {
		return stamp{}, false, fmt.Errorf("stat blob %s: %w", b.hash, err)
	}
	for range maxAttempts {
		s.mu.Lock()
		current, trusted := s.blobs[b.hash] == b, b.verified && b.stamp.same(st)
		s.mu.Unlock()
		if !current {
			return stamp{}, false, nil // dropped meanwhile
		}
		if trusted {
			return st, true, nil
		}
		v, err, _ := s.verifies.Do(b.hash, func() (any, error) {
			return s.checkBlob(b, f, st, nil), nil
		})
		if err != nil || !v.(bool) {
			return stamp{}, false, err
		}
		// Shared with a verification of the file under another stamp, or
		// changed meanwhile: look again.
	}
	return stamp{}, false, fmt.Errorf("verify blob %s: file keeps changing", b.hash)
}

// checkBlob hashes f (b's file, with stamp st) whole, pacing itself with
// pace if not nil, and records the result: a match marks b verified under
// st, a mismatch drops b.
func (s *Store) checkBlob(b *blob, f *os.File, st stamp, pace func(n int64) bool) bool {
	reason := ""
	if st.size != b.size {
		reason = fmt.Sprintf("size %d, want %d", st.size, b.size)
	} else {
		bp := s.getBuf(s.cfg.BlockSize)
		defer s.putBuf(bp)
		h := blake3.New()
		for off := int64(0); off < b.size && reason == ""; {
			buf := (*bp)[:min(int64(len(*bp)), b.size-off)]
			m, err := f.ReadAt(buf, off)
			if m != len(buf) {
				reason = fmt.Sprintf("read at %d: %d of %d bytes: %v", off, m, len(buf), err)
				break
			}
			_, _ = h.Write(buf)
			off += int64(m)
			if pace != nil && !pace(int64(m)) {
				return true // stopping: no verdict
			}
		}
		if reason == "" && hex.EncodeToString(h.Sum(nil)) != b.hash {
			reason = "content does not match its hash"
		}
	}
	if reason != "" {
		s.dropBlob(b, reason, true)
		return false
	}
	s.mu.Lock()
	if s.blobs[b.hash] == b {
		b.stamp, b.verified = st, true
	}
	s.mu.Unlock()
	return true
}

// dropBlob removes a missing or damaged blob and the manifests naming it,
// even if it is in use: its tracks start over as empty fills, and Readers
// holding it notice through the track generation.
func (s *Store) dropBlob(b *blob, reason string, corrupt bool) {
	s.mu.Lock()
	if s.blobs[b.hash] != b {
		s.mu.Unlock()
		return // dropped already
	}
	keys := make([]Key, 0, len(b.tracks))
	for t := range b.tracks {
		keys = append(keys, t.key)
		t.gen.Add(1)
		if t.refs == 0 {
			s.dropTrackLocked(t)
			continue
		}
		delete(b.tracks, t)
		t.blob = nil
		t.fill = s.newFillLocked(t, s.cfg.BlockSize)
		enc := t.enc
		s.enqueue(func(tx *boltTx) error { return tx.Bucket(bucketManifests).Delete([]byte(enc)) })
	}
	s.forgetBlobLocked(b)
	id := blobRel(b.hash)
	done := make(chan struct{})
	s.removing[id] = done
	s.mu.Unlock()

	if corrupt {
		s.m.integrity.Inc()
	}
	s.log.Warn("dropping cached blob; its tracks will be fetched again",
		zap.String("blob", id), zap.String("reason", reason), zap.Stringers("tracks", keys))
	s.unlink([]string{id})

	s.mu.Lock()
	delete(s.removing, id)
	close(done)
	s.mu.Unlock()
}
