package cas

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// A Reader's complete blob: opening, verifying and holding it, and reading
// through it.

// blobFile is a Reader's descriptor of its track's blob, valid while the
// track's generation is unchanged (a dropped blob bumps it) and the file's
// stamp is the one it was verified under.
type blobFile struct {
	f      *os.File
	fd     int
	b      *blob
	gen    uint64
	st     stamp // the file's stamp when its content was last verified
	bsize  int64 // b's block size and hashes, for VerifyReads
	blocks [][hashLen]byte
	// fresh is set when the descriptor was opened (and the blob verified
	// within FreshFor), for the Blob call that follows the open.
	fresh atomic.Bool
}

// unchanged reports whether the blob's file still has the stamp it was
// verified under. Every daemon read checks it after reading: any write to
// the file through the filesystem moves its ctime, so bytes read before an
// unchanged stamp are bytes that were hashed. Damage that leaves the stamp
// alone (silent bit rot on the disk) is what the hash at open, the watch of
// open blobs and the scrub catch.
func (bf *blobFile) unchanged() bool {
	st, err := fstat(bf.fd)
	return err == nil && st.same(bf.st)
}

// Blob returns the complete blob, for FUSE passthrough; false while the
// track is partial. The kernel will read the file with no check of ours,
// so it has been hashed whole by this open (Open does it), or is hashed
// here, unless that was done within FreshFor; hashing also brings the file
// into the page cache the kernel then reads. One found damaged is repaired
// first, if it can be. The Reader owns the file and closes it.
func (r *Reader) Blob() (*os.File, bool) {
	if r.t == nil || r.closed.Load() {
		return nil, false
	}
	for range maxAttempts {
		bf, err := r.useBlob()
		if err != nil || bf == nil {
			return nil, false
		}
		if bf.fresh.Swap(false) { // verified by this open
			return bf.f, true
		}
		st, ok, err := r.s.verifyBlob(bf.b, bf.f, r.s.cfg.FreshFor)
		if err != nil {
			r.s.log.Warn("verify cached blob for passthrough", zap.Stringer("track", r.key), zap.Error(err))
			return nil, false
		}
		if ok {
			if !st.same(bf.st) { // hashed again under a new stamp
				r.blob.CompareAndSwap(bf, &blobFile{f: bf.f, fd: bf.fd, b: bf.b, gen: bf.gen, st: st, bsize: bf.bsize, blocks: bf.blocks})
			}
			return bf.f, true
		}
		// Damaged: dropped (the track is partial now) or being repaired
		// (useBlob waits for it).
	}
	return nil, false
}

// readBlob reads p at off from bf. With VerifyReads (cache.passthrough:
// off) every block the read touches is read whole and checked against its
// hash first, so even damage that leaves the file's stamp alone is never
// served; a block that fails is reported to blobDamaged and the read comes
// up short.
func (r *Reader) readBlob(bf *blobFile, p []byte, off int64) (int, error) {
	if !r.s.cfg.VerifyReads || bf.blocks == nil {
		return bf.f.ReadAt(p, off)
	}
	s := r.s
	bp := s.getBuf(bf.bsize)
	defer s.putBuf(bp)
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		i := int(pos / bf.bsize)
		boff := int64(i) * bf.bsize
		buf := (*bp)[:min(bf.bsize, bf.b.size-boff)]
		if m, err := bf.f.ReadAt(buf, boff); m != len(buf) {
			return done, err
		}
		if blockHash(buf, i, bf.bsize, bf.b.size) != bf.blocks[i] {
			s.blobDamaged(bf.b, fmt.Sprintf("block %d does not match its hash", i))
			return done, fmt.Errorf("read %s at %d: cached block damaged", r.key, pos)
		}
		done += copy(p[done:], buf[pos-boff:])
	}
	return done, nil
}

// useBlob returns the Reader's descriptor of the track's verified blob,
// opening (and if needed verifying) it; nil while the track is partial.
func (r *Reader) useBlob() (*blobFile, error) {
	t := r.t
	if bf := r.blob.Load(); bf != nil && bf.gen == t.gen.Load() {
		return bf, nil
	}
	s := r.s
	b, gen, err := r.currentBlob()
	if b == nil || err != nil {
		return nil, err
	}
	f, st, err := s.openBlob(b)
	if f == nil || err != nil {
		return nil, err
	}
	bf := &blobFile{f: f, fd: int(f.Fd()), b: b, gen: gen, st: st}
	s.mu.Lock()
	bf.bsize, bf.blocks = b.bsize, b.blocks // set once, by the verification just done
	s.mu.Unlock()
	bf.fresh.Store(true)
	hold := s.hold(r, b)
	r.mu.Lock()
	if r.closed.Load() {
		r.mu.Unlock()
		_ = f.Close()
		if hold {
			s.unhold(r, []*blob{b})
		}
		return nil, os.ErrClosed
	}
	r.files = append(r.files, f)
	if hold {
		r.held = append(r.held, b)
	}
	r.mu.Unlock()
	r.blob.Store(bf)
	return bf, nil
}

// currentBlob returns the track's blob and generation, waiting out a
// repair of the blob (within the read timeout): its bytes are not to be
// served until it is done.
func (r *Reader) currentBlob() (*blob, uint64, error) {
	s, t := r.s, r.t
	var timer *time.Timer
	for {
		s.mu.Lock()
		b, gen := t.blob, t.gen.Load()
		var wait chan struct{}
		if b != nil {
			wait = b.repairing
		}
		s.mu.Unlock()
		if wait == nil {
			return b, gen, nil
		}
		if timer == nil {
			timer = time.NewTimer(s.cfg.ReadTimeout)
			defer timer.Stop()
		}
		select {
		case <-wait:
		case <-timer.C:
			return nil, 0, fmt.Errorf("read %s: cached copy under repair for longer than %s: %w", r.key, s.cfg.ReadTimeout, origins.ErrTimeout)
		case <-s.ctx.Done():
			return nil, 0, ErrClosed
		}
	}
}

// hold counts r among b's readers; false if it was already, or b is gone.
func (s *Store) hold(r *Reader, b *blob) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := b.readers[r]; ok || s.blobs[b.hash] != b {
		return false
	}
	b.readers[r] = struct{}{}
	return true
}

func (s *Store) unhold(r *Reader, held []*blob) {
	if len(held) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range held {
		delete(b.readers, r)
	}
}

// blobFailed handles a read of n of want bytes at off from bf that cannot
// be served. A short read means the verified blob is damaged: it is
// repaired or dropped (see blobDamaged). A full read from a file whose
// stamp moved since it was verified may have read changed bytes: the
// descriptor is retired, so the next useBlob opens the blob afresh and
// verifies it again (keeping it if its content still matches its name).
func (r *Reader) blobFailed(bf *blobFile, off int64, n, want int, err error) {
	if n != want {
		r.s.blobDamaged(bf.b, fmt.Sprintf("read at %d: %d of %d bytes: %v", off, n, want, err))
		return
	}
	r.blob.CompareAndSwap(bf, nil)
}
