package prefetch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/musicfs/musicfs/modules/cas"
)

// Session is the prefetch state of one open file. Its methods are safe for
// concurrent use, and do nothing on a nil Session.
type Session struct {
	p      *Prefetcher
	key    Key
	ctx    context.Context // cancelled by Close, or by Stop
	cancel context.CancelFunc

	// onPlay queues the next tracks' heads; run once, when playback is
	// detected.
	onPlay func()
	// full is set once a fetch found the cache full: more prefetching
	// would read the origin for data that cannot be stored.
	full atomic.Bool

	mu sync.Mutex // guards the fields below
	// requested has bit i set once chunk i was queued. A chunk is asked
	// for once per session, even if the request fails (an offline origin
	// or a full cache would fail it again); a request dropped unrun from
	// the full queue clears its bit.
	requested []uint64
	// Playback detection: run bytes were read in sequence up to end.
	playing  bool
	run, end int64
}

// play marks the session as playback and starts the next tracks' heads.
func (s *Session) play() {
	s.mu.Lock()
	started := !s.playing
	s.playing = true
	s.mu.Unlock()
	if started && s.onPlay != nil {
		s.onPlay()
	}
}

// sequential records a read of [off, off+n) and reports whether the
// session is (now) playback: PlayAfter bytes read in sequence. The kernel
// splits a stream into requests it may send out of order, so a read that
// starts within a chunk of the end extends the run; a jump starts a new one.
func (s *Session) sequential(off, n int64) (playing, started bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.playing {
		return true, false
	}
	switch end := off + n; {
	case end <= s.end && off >= s.end-s.p.cfg.Chunk: // behind, within the run
	case off <= s.end+s.p.cfg.Chunk && end > s.end:
		s.run += end - max(off, s.end)
		s.end = end
	default:
		s.run, s.end = n, end
	}
	if s.run >= s.p.cfg.PlayAfter {
		s.playing = true
		return true, true
	}
	return false, false
}

func newSession(p *Prefetcher, ctx context.Context, cancel context.CancelFunc, k Key) *Session {
	s := &Session{p: p, key: k, ctx: ctx, cancel: cancel}
	if p.cfg.Window > 0 && k.Size > 0 {
		chunks := (k.Size + p.cfg.Chunk - 1) / p.cfg.Chunk
		s.requested = make([]uint64, (chunks+63)/64)
	}
	return s
}

// Read reports a read of [off, off+n) and queues the chunks of
// [off+n, off+n+Window) not asked for yet. It never blocks on I/O.
func (s *Session) Read(off, n int64) {
	if s == nil || s.ctx.Err() != nil {
		return
	}
	playing, started := s.sequential(off, n)
	if started && s.onPlay != nil {
		s.onPlay()
	}
	if !playing || s.requested == nil || s.stalled() {
		return
	}
	chunk := s.p.cfg.Chunk
	from := max(off+max(n, 0), 0)
	to := min(from+s.p.cfg.Window, s.key.Size)
	if from >= to {
		return
	}
	var buf [16]int64 // a window is a few chunks
	todo := buf[:0]
	s.mu.Lock()
	for i := from / chunk; i <= (to-1)/chunk; i++ {
		if w, b := i/64, uint64(1)<<(i%64); s.requested[w]&b == 0 {
			s.requested[w] |= b
			todo = append(todo, i)
		}
	}
	s.mu.Unlock()
	for _, i := range todo {
		coff := i * chunk
		cn := min(chunk, s.key.Size-coff)
		s.p.enqueue(job{
			ctx: s.ctx,
			run: func(ctx context.Context) {
				if s.stalled() { // found full since it was queued
					s.forget(i)
					return
				}
				s.failed(s.p.fetch(ctx, kindReadAhead, s.key, coff, cn))
			},
			dropped: func() { s.forget(i) },
		})
	}
}

// forget clears chunk i, so that a later read asks for it again.
func (s *Session) forget(i int64) {
	s.mu.Lock()
	s.requested[i/64] &^= uint64(1) << (i % 64)
	s.mu.Unlock()
}

// stalled reports whether prefetching is off for now: this session, or
// any within FullBackoff, found the cache full.
func (s *Session) stalled() bool {
	return s.full.Load() || s.p.paused()
}

// failed notes a fetch's error: after ErrNoSpace the session prefetches
// no more.
func (s *Session) failed(err error) {
	if errors.Is(err, cas.ErrNoSpace) {
		s.full.Store(true)
	}
}

// PassedThrough tells the session that the kernel serves its file (FUSE
// passthrough), so no Read will show playback. If the file stays open for
// Config.PassthroughPlayAfter it counts as played and the next tracks'
// heads are fetched (read-ahead is moot: the file is in the cache). Close
// and the prefetcher's Stop cancel the wait.
func (s *Session) PassedThrough() {
	if s == nil || s.onPlay == nil || s.ctx.Err() != nil {
		return
	}
	if d := s.p.cfg.PassthroughPlayAfter; d > 0 {
		s.p.arm(s, d)
	} else {
		s.play()
	}
}

// Close cancels the session's requests, queued or running, and its
// passthrough wait.
func (s *Session) Close() {
	if s == nil {
		return
	}
	s.cancel()
	s.p.disarm(s)
}
