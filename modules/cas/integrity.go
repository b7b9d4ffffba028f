package cas

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"go.uber.org/zap"
)

// openBlob opens b's file and hashes it whole unless it is unchanged since
// it last hashed right, less than FreshFor ago; it returns the stamp the
// content was verified under. A missing blob is dropped and a damaged one
// dropped or, if open, repaired (see blobDamaged); openBlob then returns
// nil and the caller looks again.
func (s *Store) openBlob(b *blob) (*os.File, stamp, error) {
	f, err := os.Open(s.path(blobRel(b.hash)))
	if errors.Is(err, fs.ErrNotExist) {
		s.dropBlob(b, "blob file missing", false)
		return nil, stamp{}, nil
	}
	if err != nil {
		return nil, stamp{}, fmt.Errorf("open blob %s: %w", b.hash, err)
	}
	st, ok, err := s.verifyBlob(b, f, s.cfg.FreshFor)
	if err != nil || !ok {
		_ = f.Close()
		return nil, stamp{}, err
	}
	return f, st, nil
}

// verifyBlob reports whether b's content matches its name, hashing f
// unless the file is unchanged since it was last verified, less than
// freshFor ago, and returns the file's
// stamp taken before hashing. Concurrent verifications of one blob share
// the work (and the first caller's file, of the same inode or of one whose
// stamp differs: then it is hashed again).
func (s *Store) verifyBlob(b *blob, f *os.File, freshFor time.Duration) (stamp, bool, error) {
	st, err := fstat(int(f.Fd()))
	if err != nil {
		return stamp{}, false, fmt.Errorf("stat blob %s: %w", b.hash, err)
	}
	for range maxAttempts {
		s.mu.Lock()
		current := s.blobs[b.hash] == b && b.repairing == nil
		trusted := b.verified && b.stamp.same(st) && (freshFor == 0 || time.Now().UnixNano()-b.verifiedAt < int64(freshFor))
		s.mu.Unlock()
		if !current {
			return stamp{}, false, nil // dropped, or under repair, meanwhile
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
		// Hashed just now (by us, or by a verification we joined): fresh.
		// If that was under another stamp, or the file changed meanwhile,
		// the next look says so.
		freshFor = 0
	}
	return stamp{}, false, fmt.Errorf("verify blob %s: file keeps changing", b.hash)
}

// checkBlob hashes f (b's file, with stamp st) whole, pacing itself with
// pace if not nil, and records the result: a match marks b verified under
// st (and records its block hashes if they are not known yet), a mismatch
// goes to blobDamaged. It reports false for a mismatch.
func (s *Store) checkBlob(b *blob, f *os.File, st stamp, pace func(n int64) bool) bool {
	s.mu.Lock()
	bsize, known := b.bsize, b.blocks != nil
	s.mu.Unlock()
	if !known {
		bsize = s.cfg.BlockSize
	}
	sum, blocks, reason, stopped := s.hashBlobFile(f, b.size, st.size, bsize, pace)
	if stopped {
		return true // stopping: no verdict
	}
	s.m.verifications.Inc()
	if reason == "" && sum != b.hash {
		reason = "content does not match its hash"
	}
	if reason != "" {
		s.blobDamaged(b, reason)
		return false
	}
	s.mu.Lock()
	if s.blobs[b.hash] == b && b.repairing == nil {
		b.stamp, b.verified, b.verifiedAt = st, true, time.Now().UnixNano()
		if b.blocks == nil {
			b.bsize, b.blocks = bsize, blocks
		}
	}
	s.mu.Unlock()
	s.maybeVerity(b)
	return true
}

// hashBlobFile reads the first size bytes of f (whose stamp says it has
// fileSize) in blocks of bsize and returns the hex hash of the whole and
// the hash of each block, in one pass (see treehash.go). reason says why
// the content could not be read in full; stopped, that pace asked to stop.
func (s *Store) hashBlobFile(f *os.File, size, fileSize, bsize int64, pace func(n int64) bool) (sum string, blocks [][hashLen]byte, reason string, stopped bool) {
	if fileSize != size {
		return "", nil, fmt.Sprintf("size %d, want %d", fileSize, size), false
	}
	bp := s.getBuf(bsize)
	defer s.putBuf(bp)
	for off := int64(0); off < size; {
		buf := (*bp)[:min(bsize, size-off)]
		m, err := f.ReadAt(buf, off)
		if m != len(buf) {
			return "", nil, fmt.Sprintf("read at %d: %d of %d bytes: %v", off, m, len(buf), err), false
		}
		blocks = append(blocks, blockHash(buf, len(blocks), bsize, size))
		off += int64(m)
		if pace != nil && !pace(int64(m)) {
			return "", nil, "", true
		}
	}
	h, err := contentHash(blocks, bsize, size)
	if err != nil {
		return "", nil, err.Error(), false
	}
	return hex.EncodeToString(h[:]), blocks, "", false
}

// blobDamaged handles a blob found not to match its name. One that
// Readers hold open, whose block hashes are known, is repaired in place
// (see repair): the kernel may be reading it through passthrough, and only
// the file itself reaches those reads. Its Readers stop using their
// descriptors and wait for the repair. Any other is dropped.
func (s *Store) blobDamaged(b *blob, reason string) {
	s.mu.Lock()
	if s.blobs[b.hash] != b || b.repairing != nil {
		s.mu.Unlock()
		return // dropped, or being repaired, already
	}
	if len(b.readers) == 0 || b.blocks == nil || s.stopping {
		s.mu.Unlock()
		s.dropBlob(b, reason, true)
		return
	}
	b.verified = false
	b.repairing = make(chan struct{})
	for t := range b.tracks {
		t.gen.Add(1) // Readers re-resolve, and wait for the repair
	}
	srcs := make([]repairSource, 0, len(b.readers))
	seen := map[Key]bool{} // one try per origin file, however many Readers
	for r := range b.readers {
		if r.src.open != nil && !seen[r.key] {
			seen[r.key] = true
			srcs = append(srcs, repairSource{r.key, r.src.open})
		}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.integrity.Inc()
	go s.repair(b, reason, srcs)
}

// dropBlob removes a missing or damaged blob and the manifests naming it,
// even if it is in use: its tracks start over as empty fills, and Readers
// holding it notice through the track generation.
func (s *Store) dropBlob(b *blob, reason string, corrupt bool) {
	keys, ok := s.removeBlob(b)
	if !ok {
		return
	}
	if corrupt {
		s.m.integrity.Inc()
	}
	s.log.Warn("dropping cached blob; its tracks will be fetched again",
		zap.String("blob", blobRel(b.hash)), zap.String("reason", reason), zap.Stringers("tracks", keys))
}

// removeBlob is dropBlob without its log: it returns the tracks that named
// the blob, and false if it was dropped already.
func (s *Store) removeBlob(b *blob) ([]Key, bool) {
	s.mu.Lock()
	if s.blobs[b.hash] != b {
		s.mu.Unlock()
		return nil, false
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

	s.unlink([]string{id})

	s.mu.Lock()
	delete(s.removing, id)
	close(done)
	s.mu.Unlock()
	return keys, true
}

// trackKeys lists the tracks naming b.
func (s *Store) trackKeys(b *blob) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]Key, 0, len(b.tracks))
	for t := range b.tracks {
		keys = append(keys, t.key)
	}
	return keys
}
