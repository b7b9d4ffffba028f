package cas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// fetched is a flight's result, shared by every reader waiting for it.
type fetched struct {
	buf []byte // the block; nil if it was present already (read it from the cache)
	// notStored says why buf is not in the fill file (nil: it is): errGone
	// if the fill was replaced meanwhile, else no room or a write error.
	notStored error
}

// fetchBlock makes block i of fl present, fetching it from the origin
// through src unless a fetch of it is already running, which it joins.
// Waiting ends with ctx; the fetch ends too when no one else waits for it.
func (s *Store) fetchBlock(ctx context.Context, t *track, fl *fill, i int, src *source) (fetched, error) {
	return s.flights.do(ctx, s.ctx, s.cfg.ReadTimeout, blockFlight(fl, i), func(fctx context.Context) (fetched, error) {
		return s.flight(fctx, t, fl, i, src)
	})
}

// blockFlight is the flight key of block i of fl.
func blockFlight(fl *fill, i int) string { return fl.id + "/" + strconv.Itoa(i) }

// flight fetches one block: origin read (bounded per origin and by ctx, the
// flight's), hash, room, write, record.
func (s *Store) flight(ctx context.Context, t *track, fl *fill, i int, src *source) (res fetched, err error) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return fetched{}, ErrClosed
	}
	if t.fill != fl || fl.present[i] {
		s.mu.Unlock()
		return fetched{}, nil
	}
	t.refs++
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer s.release(t)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("block fetch panicked", zap.Stringer("track", t.key), zap.Int("block", i),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			res, err = fetched{}, fmt.Errorf("fetch %s block %d: panic: %v", t.key, i, v)
		}
	}()

	off, n := fl.span(i)
	start := time.Now()
	// What probes read of the block's head is not read again.
	head := s.probation.takeHead(fl.id, i)
	rest, err := s.readOrigin(ctx, t.key, src, off+int64(len(head)), n-int64(len(head)))
	buf := rest
	if len(head) > 0 && err == nil {
		buf = append(head[:len(head):len(head)], rest...)
	}
	s.m.fetchSeconds.Observe(time.Since(start).Seconds())
	if errors.Is(err, ErrChanged) {
		s.resetFill(t, fl)
	}
	if err != nil {
		return fetched{}, err
	}
	return fetched{buf: buf, notStored: s.storeBlock(t, fl, i, buf)}, nil
}

// resetFill drops every block of t's fill fl: the origin file is no longer
// the version t names, so blocks taken from it may be of another version.
func (s *Store) resetFill(t *track, fl *fill) {
	s.mu.Lock()
	if t.fill != fl || t.promoting {
		s.mu.Unlock()
		return
	}
	unlink := s.dropFillLocked(fl)
	t.fill = s.newFillLocked(t, s.cfg.BlockSize)
	enc := t.enc
	s.enqueue(func(tx *boltTx) error { return tx.Bucket(bucketManifests).Delete([]byte(enc)) })
	s.mu.Unlock()
	s.unlink(unlink)
}

// readOrigin reads [off, off+n) of k from the origin within ctx, which
// covers the wait for a fetch slot, opening the file and the read. A file
// whose size or mtime is not k's is an ErrChanged.
func (s *Store) readOrigin(ctx context.Context, k Key, src *source, off, n int64) ([]byte, error) {
	sem := s.sem(k.Origin)
	if err := sem.Acquire(ctx, 1); err != nil {
		return nil, fmt.Errorf("fetch %s at %d: wait for a fetch slot: %w", k, off, s.ctxErr(ctx))
	}
	defer sem.Release(1)
	f, put, err := src.get(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: open: %w", k, err)
	}
	defer put()
	// The last block asks for one byte more, to notice a longer file.
	last := off+n == k.Size
	buf := make([]byte, n, n+1)
	if last {
		buf = buf[:n+1]
	}
	// The origin's own errors name the origin, file and offset: they are
	// returned as they are. Ours (timeout, stopping) get context.
	got, err := f.ReadAt(ctx, buf, off)
	s.m.originBytes.WithLabelValues(k.Origin).Add(float64(got))
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("fetch %s at %d: %w", k, off, s.ctxErr(ctx))
	case err != nil && !errors.Is(err, io.EOF):
		return nil, err
	}
	if err := checkVersion(ctx, f, k); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", k, err)
	}
	switch {
	case int64(got) < n:
		return nil, fmt.Errorf("fetch %s at %d: origin file is shorter than %d bytes: %w", k, off, k.Size, ErrChanged)
	case int64(got) > n:
		return nil, fmt.Errorf("fetch %s: origin file is longer than %d bytes: %w", k, k.Size, ErrChanged)
	}
	return buf[:n], nil
}

// checkVersion compares the open file's size and mtime with k's, for
// origin files that can tell.
func checkVersion(ctx context.Context, f origins.File, k Key) error {
	fi, err := f.Stat(ctx)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() != k.Size || !fi.ModTime().Equal(k.ModTime) {
		return fmt.Errorf("origin file is now %d bytes, modified %s: %w", fi.Size(), fi.ModTime(), ErrChanged)
	}
	return nil
}

// ctxErr is the error for a fetch context that ended: the store stopping
// (ErrClosed), the read timeout (wrapping origins.ErrTimeout), or every
// reader gone.
func (s *Store) ctxErr(ctx context.Context) error {
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	return context.Cause(ctx)
}

// storeBlock writes a fetched block into t's fill and records it. If there
// is no room or the write fails, it makes room and retries once; then it
// gives up (the caller serves the block uncached) and says why: errGone
// if the fill was replaced meanwhile, an error wrapping ErrNoSpace if no
// room could be made or the disk is full, else the write error.
func (s *Store) storeBlock(t *track, fl *fill, i int, buf []byte) error {
	h := blockHash(buf, i, fl.blockSize, fl.size)
	_, n := fl.span(i)
	err := s.makeRoom(n)
	if err == nil {
		err = s.writeBlock(t, fl, i, buf, h)
	}
	if err != nil && !errors.Is(err, errGone) {
		if err = s.reclaim(n); err == nil {
			err = s.writeBlock(t, fl, i, buf, h)
		}
	}
	if err == nil || errors.Is(err, errGone) { // gone: the track moved on (reset, dropped)
		return err
	}
	if !errors.Is(err, ErrNoSpace) && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		err = fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	s.m.uncached.Inc()
	s.warnUncached(t.key, err)
	return err
}

// writeBlock pwrites block i into the fill file and records it: in memory
// at once, in the database asynchronously. Block data is not fsynced: a
// block torn by a crash fails its hash check and is fetched again.
func (s *Store) writeBlock(t *track, fl *fill, i int, buf []byte, h [hashLen]byte) error {
	f, fd, err := fl.open(s)
	if err != nil {
		return err
	}
	defer fl.close()
	s.mu.Lock()
	if t.fill != fl {
		// Dropped before any block was accounted (onDisk is set only here,
		// and cleared by the drop): open may have created the file just
		// now, and nobody else would remove it.
		orphan := !fl.onDisk
		s.mu.Unlock()
		if orphan {
			s.unlink([]string{fillRel(fl.id)})
		}
		return errGone
	}
	fl.onDisk = true
	s.mu.Unlock()

	fl.writeSlot <- struct{}{}
	s.mu.Lock()
	fl.writing = true
	s.mu.Unlock()
	before, after, err := writeStamped(f, fd, buf, fl, i)
	s.mu.Lock()
	defer s.mu.Unlock()
	fl.writing = false
	defer func() { <-fl.writeSlot }() // once fl.stamp is the next write's "before"
	if err != nil {
		return err
	}
	if t.fill != fl {
		return errGone
	}
	// Our own write moves the stamp without invalidating what was verified;
	// a change by anyone else before it does.
	fl.checkStampLocked(before)
	fl.stamp = after
	fl.markLocked(i, h)
	fl.verified[i] = true
	s.usage.Add(after.bytes() - fl.bytes)
	fl.bytes = after.bytes()
	enc, m, id := t.enc, manifest{blockSize: fl.blockSize, fill: fl.id}, fl.id
	s.enqueue(func(tx *boltTx) error {
		if err := tx.Bucket(bucketManifests).Put([]byte(enc), m.encode()); err != nil {
			return err
		}
		return tx.Bucket(bucketBlocks).Put(blockKey(id, i), h[:])
	})
	s.maybePromoteLocked(t)
	return nil
}

// writeStamped pwrites block i of fl and returns the file's stamps from
// just before and just after.
func writeStamped(f *os.File, fd int, buf []byte, fl *fill, i int) (before, after stamp, err error) {
	if before, err = fstat(fd); err != nil {
		return before, after, fmt.Errorf("stat fill file %s: %w", fl.id, err)
	}
	off, _ := fl.span(i)
	if _, err := f.WriteAt(buf, off); err != nil {
		return before, after, fmt.Errorf("write fill file %s block %d: %w", fl.id, i, err)
	}
	if after, err = fstat(fd); err != nil {
		return before, after, fmt.Errorf("stat fill file %s: %w", fl.id, err)
	}
	return before, after, nil
}

// source is a Reader's (or a Fetch's) origin file, opened on first use.
type source struct {
	open Opener

	mu      sync.Mutex // guards the fields below; never held across open
	f       origins.File
	uses    int           // reads in progress
	closed  bool          // the owner is done: close the file after the last read
	opening chan struct{} // non-nil while an open runs; closed when it ends
}

var errNoOpener = errors.New("block not cached and no origin to fetch it from")

// get returns the open file with a use counted; put ends the use. A flight
// whose owner closed meanwhile may still open it: others wait for that
// flight.
func (src *source) get(ctx context.Context, s *Store) (f origins.File, put func(), err error) {
	for {
		src.mu.Lock()
		switch {
		case src.f != nil:
			src.uses++
			f := src.f
			src.mu.Unlock()
			return f, src.put, nil
		case src.open == nil:
			src.mu.Unlock()
			return nil, nil, errNoOpener
		case src.opening != nil:
			ch := src.opening
			src.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, nil, s.ctxErr(ctx)
			}
		}
		ch := make(chan struct{})
		src.opening = ch
		src.mu.Unlock()

		f, err := src.open(ctx)
		if err == nil && f == nil {
			err = errors.New("opener returned no file")
		}

		src.mu.Lock()
		src.opening = nil
		close(ch)
		if err != nil {
			src.mu.Unlock()
			return nil, nil, err
		}
		src.f = f
		src.mu.Unlock()
	}
}

func (src *source) put() {
	src.mu.Lock()
	src.uses--
	f := src.takeIfDoneLocked()
	src.mu.Unlock()
	if f != nil {
		_ = f.Close()
	}
}

func (src *source) close() {
	src.mu.Lock()
	src.closed = true
	f := src.takeIfDoneLocked()
	src.mu.Unlock()
	if f != nil {
		_ = f.Close()
	}
}

func (src *source) takeIfDoneLocked() origins.File {
	if !src.closed || src.uses > 0 || src.f == nil {
		return nil
	}
	f := src.f
	src.f = nil
	return f
}

// Fetch makes [off, off+n) of k present, for prefetching and pinning. It
// shares block fetches with readers, returns an error saying why if a
// block could not be stored (wrapping ErrNoSpace if no room could be made
// or the disk is full), and, if it completed the track, waits for it to
// become a blob.
func (s *Store) Fetch(ctx context.Context, k Key, open Opener, off, n int64) error {
	off = max(off, 0)
	end := min(off+n, k.Size)
	if off >= end {
		return nil
	}
	t, err := s.acquire(k)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", k, err)
	}
	defer s.release(t)
	src := &source{open: open}
	defer src.close()

	for pos, attempt := off, 0; pos < end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		fl := t.fill
		if fl == nil { // complete
			s.mu.Unlock()
			break
		}
		i := int(pos / fl.blockSize)
		boff, blen := fl.span(i)
		present := fl.present[i]
		s.mu.Unlock()
		if !present {
			if attempt++; attempt > maxAttempts {
				return fmt.Errorf("fetch %s at %d: cached block keeps changing", k, pos)
			}
			res, err := s.fetchBlock(ctx, t, fl, i, src)
			if err != nil {
				return err
			}
			if res.buf == nil || errors.Is(res.notStored, errGone) {
				continue // present meanwhile, or fetched into a replaced fill: look again
			}
			if res.notStored != nil {
				return fmt.Errorf("fetch %s block %d: not stored: %w", k, i, res.notStored)
			}
		}
		pos, attempt = boff+blen, 0
	}

	s.mu.Lock()
	var done chan struct{}
	if t.promoting {
		done = t.promoDone
	}
	s.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
