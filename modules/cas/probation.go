package cas

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Reads that are not playback (a library scanner reading the head of every
// file, a tag reader seeking to the end, scattered small reads) must not
// fill the cache: on a 100k-track library a scan would pull whole blocks
// of every file from the origin and evict the music that was played. So,
// as in S3-FIFO and 2Q, data seen once goes to a small probation queue in
// memory, fetched at the size asked for (rounded to probeChunk); only data
// asked for again, or read as playback, enters the cache on disk, which
// evicts played and pinned data for nothing else.
const (
	// probeChunk is the unit of a probe read's fetch: small enough that a
	// 4 KiB read costs little more, large enough for a tag block.
	probeChunk = 64 << 10
	// playbackRun is how many bytes a Reader must read in sequence before
	// its misses are fetched as whole blocks into the cache.
	playbackRun = 256 << 10
	// playbackGap is how far past the end of a run a read may start and
	// still extend it: the kernel sends a sequential reader's readahead as
	// parallel requests of up to 128 KiB, which arrive a little out of
	// order. Any other read starts a new run.
	playbackGap = 128 << 10
	// probationBytes bounds the probation queue.
	probationBytes = 32 << 20
)

// pattern tells playback from probing by a Reader's reads: playback reads
// one contiguous run; probes read here and there.
type pattern struct {
	mu         sync.Mutex // guards start and end
	start, end int64      // the current run
}

// note records a read of n bytes at off and reports whether the Reader
// reads as playback does: its current run, the bytes read contiguously
// around it, is playbackRun long. Reads inside the run do not lengthen it,
// so scattered small reads never add up to one.
func (p *pattern) note(off int64, n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if off < p.start-playbackGap || off > p.end+playbackGap || p.end == 0 {
		p.start, p.end = off, off
	}
	p.start = min(p.start, off)
	p.end = max(p.end, off+int64(n))
	return p.end-p.start >= playbackRun
}

// probation is a FIFO of chunks fetched by probe reads, by fill and chunk
// index, bounded in bytes. A chunk asked for again has its block fetched
// into the cache, which takes the chunks at its head from here.
type probation struct {
	mu    sync.Mutex // guards bytes, m and fifo
	bytes int64
	m     map[probeKey]*list.Element
	fifo  list.List // of *probeEntry, oldest first

	size atomic.Int64 // bytes, for the gauge
}

type probeKey struct {
	fill  string
	chunk int64
}

type probeEntry struct {
	key probeKey
	buf []byte
}

// has reports whether the chunk is queued.
func (q *probation) has(k probeKey) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.m[k]
	return ok
}

// takeHead removes the chunks at the start of block i of fill, as far as
// they are queued one after the other, and returns them joined: the block's
// fetch then reads only the rest from the origin.
func (q *probation) takeHead(fill string, i int) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	var head []byte
	for c := int64(0); ; c++ {
		e, ok := q.m[probeKey{fill, chunkIndex(i, c)}]
		if !ok {
			return head
		}
		buf := e.Value.(*probeEntry).buf
		head = append(head, buf...)
		q.removeLocked(e)
		if len(buf) < probeChunk { // the block's last chunk
			return head
		}
	}
}

// chunkIndex numbers chunk c of block i within its fill.
func chunkIndex(i int, c int64) int64 { return int64(i)<<32 | c }

// put queues a chunk, dropping the oldest ones past probationBytes.
func (q *probation) put(k probeKey, buf []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil {
		q.m = map[probeKey]*list.Element{}
	}
	if e, ok := q.m[k]; ok {
		q.removeLocked(e)
	}
	q.m[k] = q.fifo.PushBack(&probeEntry{k, buf})
	q.bytes += int64(len(buf))
	for q.bytes > probationBytes {
		q.removeLocked(q.fifo.Front())
	}
	q.size.Store(q.bytes)
}

func (q *probation) removeLocked(e *list.Element) {
	pe := q.fifo.Remove(e).(*probeEntry)
	delete(q.m, pe.key)
	q.bytes -= int64(len(pe.buf))
	q.size.Store(q.bytes)
}

// probed is the last range a Reader's probe fetched: its own reads of it
// again (a tag reader reads a header, then the tag after it) are served
// from memory, not counted as a second access.
type probed struct {
	fl  *fill
	off int64
	buf []byte
}

// probe serves dst, at pos in block i of fl, for a read that is not
// playback. Chunks queued in probation by another open were asked for
// before: the block is then fetched into the cache (done is false, the
// caller fetches it). Others are read from the origin, only the chunks dst
// covers, and queued; readers probing the same chunks at once share one
// origin read.
func (r *Reader) probe(ctx context.Context, fl *fill, i int, dst []byte, pos int64) (done bool, err error) {
	s := r.s
	if lp := r.probed.Load(); lp != nil && lp.fl == fl && pos >= lp.off && pos+int64(len(dst)) <= lp.off+int64(len(lp.buf)) {
		copy(dst, lp.buf[pos-lp.off:])
		return true, nil
	}
	boff, blen := fl.span(i)
	first := (pos - boff) / probeChunk
	last := (pos - boff + int64(len(dst)) - 1) / probeChunk
	if s.flights.running(blockFlight(fl, i)) {
		return false, nil // the block is on its way: join it
	}
	for c := first; c <= last; c++ {
		if s.probation.has(probeKey{fl.id, chunkIndex(i, c)}) {
			return false, nil // asked for again: into the cache
		}
	}
	from := boff + first*probeChunk
	to := min(boff+(last+1)*probeChunk, boff+blen)
	key := fmt.Sprintf("%s/%d/probe/%d-%d", fl.id, i, first, last)
	res, err := s.flights.do(ctx, s.ctx, s.cfg.ReadTimeout, key, func(ctx context.Context) (fetched, error) {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			return fetched{}, ErrClosed
		}
		s.wg.Add(1) // Stop waits for it, as for a block's flight
		s.mu.Unlock()
		defer s.wg.Done()
		buf, err := s.readOrigin(ctx, r.key, r.src, from, to-from)
		if err != nil {
			return fetched{}, err
		}
		s.m.probeBytes.Add(float64(len(buf)))
		for c := first; c <= last; c++ {
			lo := (c - first) * probeChunk
			hi := min(lo+probeChunk, int64(len(buf)))
			s.probation.put(probeKey{fl.id, chunkIndex(i, c)}, buf[lo:hi:hi])
		}
		return fetched{buf: buf}, nil
	})
	if err != nil {
		return false, err
	}
	buf := res.buf
	r.probed.Store(&probed{fl, from, buf})
	if n := copy(dst, buf[pos-from:]); n != len(dst) {
		return false, fmt.Errorf("read %s at %d: probe fetched %d of %d bytes", r.key, pos, n, len(dst))
	}
	return true, nil
}
