package cas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeebo/blake3"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// maxAttempts bounds how often one read re-resolves a block whose state
// changed under it (dropped, promoted, refetched) before giving up.
const maxAttempts = 4

// Reader reads one track through the store. Its methods are safe for
// concurrent use.
type Reader struct {
	s   *Store
	t   *track // nil for an empty track
	key Key
	src *source

	blob   atomic.Pointer[blobFile] // the verified blob, once the track is complete
	closed atomic.Bool
	// spare is the last block fetched but not stored (cache full), so the
	// small reads that follow are not each a fetch of the whole block.
	spare atomic.Pointer[spareBlock]
	// pattern tells playback from probing; probed is the last probe's
	// fetch (see probe).
	pattern pattern
	probed  atomic.Pointer[probed]

	mu    sync.Mutex // guards fills, files and held
	fills []fillUse  // fill files this Reader holds open
	files []*os.File // blob files it opened
	held  []*blob    // blobs it is counted in the readers of
}

// fillUse is a Reader's open use of a fill file. The Reader keeps its own
// copy of the descriptor: fill.f is guarded by fill.fmu.
type fillUse struct {
	fl *fill
	f  *os.File
	fd int
}

type spareBlock struct {
	fl  *fill
	i   int
	buf []byte
}

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

// Open returns a Reader of k. Nothing is read from the origin until a read
// needs a block that is not cached; open is called then. A complete blob is
// opened and hashed whole here, unless its file is unchanged since it last
// hashed right, less than FreshFor ago.
func (s *Store) Open(k Key, open Opener) (*Reader, error) {
	if k.Size < 0 {
		return nil, fmt.Errorf("open %s: negative size", k)
	}
	r := &Reader{s: s, key: k, src: &source{open: open}}
	if k.Size == 0 {
		return r, nil
	}
	t, err := s.acquire(k)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", k, err)
	}
	r.t = t
	if _, err := r.useBlob(); err != nil {
		// Not fatal: reads try again, and fall back to fetching.
		s.log.Warn("open cached blob", zap.Stringer("track", k), zap.Error(err))
	}
	return r, nil
}

// PassedThrough counts an open the kernel serves from the blob (FUSE
// passthrough) as a cache hit: none of its reads reach the daemon.
func (r *Reader) PassedThrough() { r.s.m.hits.Inc() }

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

// Close releases the Reader's files and its hold on the track. Fetches it
// started and others share finish on their own.
func (r *Reader) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	r.mu.Lock()
	fills, files, held := r.fills, r.files, r.held
	r.fills, r.files, r.held = nil, nil, nil
	r.mu.Unlock()
	r.s.unhold(r, held)
	for _, u := range fills {
		u.fl.close()
	}
	for _, f := range files {
		_ = f.Close()
	}
	r.src.close()
	if r.t != nil {
		r.s.release(r.t)
	}
	return nil
}

// ReadAt reads like io.ReaderAt (io.EOF at the end of the track), until
// ctx ends (a FUSE request interrupted) if it must wait for the origin. A
// complete blob is read with one pread and one fstat (its file must still
// be the one verified); a partial track block by block, each checked
// against its hash or fetched from the origin.
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, os.ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", r.key, off)
	}
	if off >= r.key.Size {
		return 0, io.EOF
	}
	want, eof := p, error(nil)
	if rest := r.key.Size - off; int64(len(p)) > rest {
		want, eof = p[:rest], io.EOF
	}
	s, t := r.s, r.t
	s.touch(t)
	if bf := r.blob.Load(); bf != nil && bf.gen == t.gen.Load() {
		n, err := r.readBlob(bf, want, off)
		if n == len(want) && bf.unchanged() {
			s.m.hits.Inc()
			s.m.hitBytes.Add(float64(n))
			return n, eof
		}
		if r.closed.Load() {
			return 0, os.ErrClosed
		}
		r.blobFailed(bf, off, n, len(want), err)
	}
	playing := r.pattern.note(off, len(want))
	done, missed := 0, false
	for done < len(want) {
		n, fromOrigin, err := r.readSome(ctx, want[done:], off+int64(done), playing)
		if fromOrigin {
			missed = true
			s.m.missBytes.Add(float64(n))
		} else {
			s.m.hitBytes.Add(float64(n))
		}
		done += n
		if err != nil {
			s.m.misses.Inc()
			return done, err
		}
	}
	if missed {
		s.m.misses.Inc()
	} else {
		s.m.hits.Inc()
	}
	return done, eof
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
		if blake3.Sum256(buf) != bf.blocks[i] {
			s.blobDamaged(bf.b, fmt.Sprintf("block %d does not match its hash", i))
			return done, fmt.Errorf("read %s at %d: cached block damaged", r.key, pos)
		}
		done += copy(p[done:], buf[pos-boff:])
	}
	return done, nil
}

// readSome serves a prefix of p, at pos, from one block (or from the blob).
// A block missing for a read that is not playback is probed (see probe).
func (r *Reader) readSome(ctx context.Context, p []byte, pos int64, playing bool) (n int, fromOrigin bool, err error) {
	s, t := r.s, r.t
	for attempt := 1; ; attempt++ {
		if attempt > maxAttempts {
			return 0, false, fmt.Errorf("read %s at %d: cached block keeps changing", r.key, pos)
		}
		bf, err := r.useBlob()
		if err != nil {
			return 0, false, err
		}
		if bf != nil {
			n, err := r.readBlob(bf, p, pos)
			if n == len(p) && bf.unchanged() {
				return n, false, nil
			}
			if r.closed.Load() {
				return 0, false, os.ErrClosed
			}
			r.blobFailed(bf, pos, n, len(p), err)
			continue
		}

		s.mu.Lock()
		fl := t.fill
		if fl == nil { // promoted since useBlob looked
			s.mu.Unlock()
			continue
		}
		i := int(pos / fl.blockSize)
		boff, blen := fl.span(i)
		boff = pos - boff
		n = int(min(int64(len(p)), blen-boff))
		present, h, verified, st := fl.present[i], fl.hashes[i], fl.verified[i], fl.stamp
		s.mu.Unlock()

		if present {
			ok, err := r.readPresent(fl, i, p[:n], boff, h, verified, st)
			if errors.Is(err, errGone) {
				continue
			}
			if err != nil {
				return 0, false, err
			}
			if ok {
				return n, false, nil
			}
		}
		if sp := r.spare.Load(); sp != nil && sp.fl == fl && sp.i == i {
			copy(p[:n], sp.buf[boff:])
			return n, true, nil
		}
		if !playing && fl.blockSize > probeChunk { // else a block is as small as a probe
			if done, err := r.probe(ctx, fl, i, p[:n], pos); done || err != nil {
				return n, done, err
			}
		}
		res, err := s.fetchBlock(ctx, t, fl, i, r.src)
		if err != nil {
			return 0, false, err
		}
		if res.buf == nil { // present meanwhile, or the fill was replaced
			continue
		}
		if res.notStored != nil {
			r.spare.Store(&spareBlock{fl, i, res.buf})
		}
		copy(p[:n], res.buf[boff:])
		return n, true, nil
	}
}

// readPresent serves dst from present block i of fl, at boff within the
// block. A block verified under the file's current stamp is read as is
// (the stamp is taken after the read, so a write during it is noticed);
// any other is read whole and hashed first. On a mismatch the block is
// dropped and readPresent reports false, so the caller fetches it again.
func (r *Reader) readPresent(fl *fill, i int, dst []byte, boff int64, h [hashLen]byte, verified bool, st stamp) (bool, error) {
	s := r.s
	f, fd, err := r.fillFile(fl)
	if err != nil {
		return false, err
	}
	off, blen := fl.span(i)
	if verified {
		m, _ := f.ReadAt(dst, off+boff)
		if cur, err := fstat(fd); m == len(dst) && err == nil && cur.same(st) {
			return true, nil
		}
	}
	cur, err := fstat(fd)
	if err != nil {
		if r.closed.Load() {
			return false, os.ErrClosed
		}
		return false, fmt.Errorf("stat fill file %s: %w", fl.id, err)
	}
	bp := s.getBuf(blen)
	defer s.putBuf(bp)
	buf := (*bp)[:blen]
	if m, err := f.ReadAt(buf, off); m != len(buf) {
		if r.closed.Load() { // Close closed the file under the read
			return false, os.ErrClosed
		}
		s.corruptBlock(r.t, fl, i, h, fmt.Sprintf("short read: %d of %d bytes: %v", m, len(buf), err))
		return false, nil
	}
	if blake3.Sum256(buf) != h {
		s.corruptBlock(r.t, fl, i, h, "content does not match its hash")
		return false, nil
	}
	copy(dst, buf[boff:])
	s.mu.Lock()
	if r.t.fill == fl && fl.present[i] && fl.hashes[i] == h {
		fl.checkStampLocked(cur)
		fl.verified[i] = true
	}
	s.mu.Unlock()
	return true, nil
}

// fillFile returns fl's file, opening it for this Reader on first use; the
// Reader keeps it open until Close.
func (r *Reader) fillFile(fl *fill) (*os.File, int, error) {
	r.mu.Lock()
	for _, u := range r.fills {
		if u.fl == fl {
			r.mu.Unlock()
			return u.f, u.fd, nil
		}
	}
	r.mu.Unlock()
	f, fd, err := fl.open(r.s)
	if err != nil {
		return nil, 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		fl.close()
		return nil, 0, os.ErrClosed
	}
	for _, u := range r.fills {
		if u.fl == fl { // another goroutine of this Reader opened it meanwhile
			fl.close()
			return u.f, u.fd, nil
		}
	}
	r.fills = append(r.fills, fillUse{fl, f, fd})
	return f, fd, nil
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

// corruptBlock drops present block i of fl, whose content did not match
// hash h, unless that was already done.
func (s *Store) corruptBlock(t *track, fl *fill, i int, h [hashLen]byte, reason string) {
	s.mu.Lock()
	if t.fill != fl || !fl.present[i] || fl.hashes[i] != h {
		s.mu.Unlock()
		return
	}
	fl.unmarkLocked(i)
	first := !t.loggedCorrupt
	t.loggedCorrupt = true
	id := fl.id
	s.enqueue(func(tx *boltTx) error { return tx.Bucket(bucketBlocks).Delete(blockKey(id, i)) })
	s.mu.Unlock()
	s.m.integrity.Inc()
	if first {
		s.log.Warn("cached block is damaged; dropped and fetched again (logged once per track)",
			zap.Stringer("track", t.key), zap.Int("block", i), zap.String("reason", reason))
	}
}

func (s *Store) getBuf(n int64) *[]byte {
	if n <= s.cfg.BlockSize {
		if b, ok := s.bufs.Get().(*[]byte); ok {
			return b
		}
		b := make([]byte, s.cfg.BlockSize)
		return &b
	}
	b := make([]byte, n)
	return &b
}

func (s *Store) putBuf(b *[]byte) {
	if int64(cap(*b)) == s.cfg.BlockSize {
		s.bufs.Put(b)
	}
}
