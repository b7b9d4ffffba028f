package cas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
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
	readAhead

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
	r.readAhead.ctx, r.readAhead.stop = context.WithCancel(s.ctx)
	if _, err := r.useBlob(); err != nil {
		// Not fatal: reads try again, and fall back to fetching.
		s.log.Warn("open cached blob", zap.Stringer("track", k), zap.Error(err))
	}
	return r, nil
}

// PassedThrough counts an open the kernel serves from the blob (FUSE
// passthrough) as a cache hit: none of its reads reach the daemon.
func (r *Reader) PassedThrough() { r.s.m.hits.Inc() }

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
	r.closeAhead()
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
	if playing {
		r.ahead(off + int64(len(want)))
	}
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
// (the stamp is taken after the read, so a write during it is noticed,
// unless it is the stamp our own last write left); any other is read
// whole and hashed first. On a mismatch the block is dropped and
// readPresent reports false, so the caller fetches it again.
func (r *Reader) readPresent(fl *fill, i int, dst []byte, boff int64, h [hashLen]byte, verified bool, st stamp) (bool, error) {
	s := r.s
	f, fd, err := r.fillFile(fl)
	if err != nil {
		return false, err
	}
	off, blen := fl.span(i)
	if verified {
		m, _ := f.ReadAt(dst, off+boff)
		if cur, err := fstat(fd); m == len(dst) && err == nil && (cur.same(st) || r.ourWrite(fl, i, cur)) {
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
	if blockHash(buf, i, fl.blockSize, fl.size) != h {
		s.corruptBlock(r.t, fl, i, h, "content does not match its hash")
		return false, nil
	}
	copy(dst, buf[boff:])
	s.mu.Lock()
	if r.t.fill == fl && fl.present[i] && fl.hashes[i] == h && !fl.writing {
		fl.checkStampLocked(cur)
		fl.verified[i] = true
	}
	s.mu.Unlock()
	return true, nil
}

// ourWrite reports whether block i of fl is still verified and cur is the
// stamp our own last write of the file left (none runs now): writes are
// one at a time, and each checks that the file was as the one before it
// left it.
func (r *Reader) ourWrite(fl *fill, i int, cur stamp) bool {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return fl.verified[i] && !fl.writing && cur.same(fl.stamp)
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
