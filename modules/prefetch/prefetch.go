// Package prefetch warms the cache ahead of playback: within an open track
// it keeps a window beyond the last read fetched, and when a track opens it
// fetches the head of the next tracks of its album, so that the player's
// next open starts from local disk. It is best-effort: a bounded pool of
// workers takes requests from a bounded queue, dropping the oldest when
// full; a closed file's requests are cancelled; failures are counted and
// logged at debug level, never retried in a loop.
package prefetch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

// Key identifies one version of an origin file: the cache's key.
type Key = cas.Key

func keyOf(t *index.Track) Key {
	return Key{Origin: t.Origin, RelPath: t.RelPath, Size: t.Size, ModTime: t.ModTime}
}

// Fetcher is the cache as prefetch sees it.
type Fetcher interface {
	// Fetch makes [off, off+n) of k present in the cache, opening the
	// origin file only if it needs it. It is single-flight inside and safe
	// for concurrent use; it returns when ctx is done.
	Fetch(ctx context.Context, k Key, off, n int64) error
}

// Params are the prefetcher's dependencies.
type Params struct {
	fx.In

	Config  Config `optional:"true"`
	Fetcher Fetcher
	// Tree says when the library changed: the album index is rebuilt for
	// each new snapshot.
	Tree *tree.Tree
	// Source has the tags the album index is built from (a snapshot
	// exposes files, not tags).
	Source     index.Source
	Logger     *zap.Logger
	Registerer prometheus.Registerer
}

// Request kinds, the label of musicfs_prefetch_requests_total.
const (
	kindReadAhead = "readahead"
	kindNext      = "next"
)

// Prefetcher runs prefetch requests on a fixed pool of workers.
type Prefetcher struct {
	cfg     Config
	fetcher Fetcher
	log     *zap.Logger
	current func() *tree.Snapshot // the tree's; replaced in benchmarks
	tracks  func() []*index.Track

	albums   atomic.Pointer[albumIndex]
	building singleflight.Group

	queue chan job
	// ctx is the parent of every session's; Stop cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the workers

	// fullUntil is when prefetching may resume (unix ns) after a fetch
	// found the cache full.
	fullUntil atomic.Int64

	mu    sync.Mutex               // guards armed
	armed map[*Session]*time.Timer // PassedThrough sessions not yet played

	requests             map[string]prometheus.Counter
	errors, bytes, drops prometheus.Counter
}

// job is one queued request. run is skipped if ctx is done by the time a
// worker gets to it; dropped, if set, is called instead when the full
// queue pushes the job out.
type job struct {
	ctx     context.Context
	run     func(ctx context.Context)
	dropped func()
}

// New validates the configuration and registers the metrics. It does no
// I/O; Start starts the workers.
func New(p Params) (*Prefetcher, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	cfg := p.Config.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	pf := &Prefetcher{
		cfg:     cfg,
		fetcher: p.Fetcher,
		log:     p.Logger,
		current: func() *tree.Snapshot { return nil },
		tracks:  func() []*index.Track { return nil },
		queue:   make(chan job, cfg.Queue),
		armed:   map[*Session]*time.Timer{},
		ctx:     ctx,
		cancel:  cancel,
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_prefetch_errors_total", Help: "Prefetch requests that failed (not counting cancelled ones).",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_prefetch_bytes_total", Help: "Bytes covered by prefetch requests that succeeded (already cached or fetched).",
		}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_prefetch_dropped_total", Help: "Prefetch requests dropped unrun because the queue was full.",
		}),
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "musicfs_prefetch_requests_total", Help: "Prefetch requests run, by kind: readahead (within an open track) or next (the head of a following track).",
	}, []string{"kind"})
	pf.requests = map[string]prometheus.Counter{
		kindReadAhead: requests.WithLabelValues(kindReadAhead),
		kindNext:      requests.WithLabelValues(kindNext),
	}
	if pf.log == nil {
		pf.log = zap.NewNop()
	}
	if p.Tree != nil {
		pf.current = p.Tree.Current
	}
	if p.Source != nil {
		pf.tracks = p.Source.Tracks
	}
	if p.Registerer != nil {
		for _, c := range []prometheus.Collector{requests, pf.errors, pf.bytes, pf.drops} {
			if err := p.Registerer.Register(c); err != nil {
				cancel()
				return nil, fmt.Errorf("register prefetch metrics: %w", err)
			}
		}
	}
	return pf, nil
}

// Start starts the workers.
func (p *Prefetcher) Start(context.Context) error {
	for range p.cfg.Workers {
		p.wg.Go(p.work)
	}
	return nil
}

// Stop cancels every request, queued or running, and every session's
// passthrough wait, and waits for the workers (or for ctx).
func (p *Prefetcher) Stop(ctx context.Context) error {
	p.cancel()
	p.mu.Lock()
	for s, t := range p.armed {
		t.Stop()
		delete(p.armed, s)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop prefetch workers: %w", ctx.Err())
	}
}

func (p *Prefetcher) work() {
	for {
		select {
		case <-p.ctx.Done():
			return
		case j := <-p.queue:
			p.run(j)
		}
	}
}

// run runs one job. A panic (in the fetcher, say) fails that request only.
func (p *Prefetcher) run(j job) {
	if j.ctx.Err() != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			p.errors.Inc()
			p.log.Error("prefetch panicked", zap.Any("panic", r), zap.String("stack", string(debug.Stack())))
		}
	}()
	j.run(j.ctx)
}

// enqueue queues j without blocking; when the queue is full the oldest job
// makes room.
func (p *Prefetcher) enqueue(j job) {
	if p.ctx.Err() != nil {
		return
	}
	for range 2 { // a second try: the one after making room
		select {
		case p.queue <- j:
			return
		default:
		}
		select {
		case old := <-p.queue:
			p.drop(old)
		default:
		}
	}
	p.drop(j) // others filled the room first
}

func (p *Prefetcher) drop(j job) {
	p.drops.Inc()
	if j.dropped != nil {
		j.dropped()
	}
}

// fetch runs one request and accounts for it.
func (p *Prefetcher) fetch(ctx context.Context, kind string, k Key, off, n int64) error {
	p.requests[kind].Inc()
	err := p.fetcher.Fetch(ctx, k, off, n)
	switch {
	case err == nil:
		p.bytes.Add(float64(n))
	case ctx.Err() != nil:
		// Cancelled (file closed, shutdown): not a failure.
	default:
		if errors.Is(err, cas.ErrNoSpace) && p.cfg.FullBackoff > 0 {
			p.fullUntil.Store(time.Now().Add(p.cfg.FullBackoff).UnixNano())
		}
		p.errors.Inc()
		// Debug: an offline or slow origin fails every request, and the
		// reads that matter report it already.
		p.log.Debug("prefetch failed", zap.String("kind", kind), zap.String("origin", k.Origin),
			zap.String("path", k.RelPath), zap.Int64("off", off), zap.Int64("len", n), zap.Error(err))
	}
	return err
}

// paused reports whether a fetch found the cache full less than
// FullBackoff ago.
func (p *Prefetcher) paused() bool {
	until := p.fullUntil.Load()
	return until != 0 && time.Now().UnixNano() < until
}

// arm starts s's passthrough timer: after d, s counts as played.
func (p *Prefetcher) arm(s *Session, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Checked under mu: Close and Stop cancel before they disarm.
	if s.ctx.Err() != nil || p.armed[s] != nil {
		return
	}
	p.armed[s] = time.AfterFunc(d, func() {
		if p.disarm(s) && s.ctx.Err() == nil {
			s.play()
		}
	})
}

// disarm stops s's passthrough timer and reports whether it was armed.
func (p *Prefetcher) disarm(s *Session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.armed[s]
	if t == nil {
		return false
	}
	t.Stop()
	delete(p.armed, s)
	return true
}

// Opened returns the Session of a track just opened, which the file handle
// keeps, tells of its reads, and must Close on release (it holds a context
// until then). Prefetching starts once the reads look like playback (see
// Config.PlayAfter). Only t's identity (origin, path, size, mtime) is used:
// fusefs may build t from a tree node. It never blocks: the album lookup
// runs on a worker.
func (p *Prefetcher) Opened(t *index.Track) *Session {
	if p == nil || t == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(p.ctx)
	s := newSession(p, ctx, cancel, keyOf(t))
	if p.cfg.NextTracks > 0 {
		id := fileID{t.Origin, t.RelPath}
		s.onPlay = func() { p.enqueue(job{ctx: ctx, run: func(ctx context.Context) { p.fetchNext(ctx, s, id) }}) }
	}
	if p.cfg.PlayAfter < 0 {
		s.play()
	}
	return s
}

// fetchNext fetches the heads of the tracks after id, s's track, in its
// album, in play order. The first failure ends it: the next track is most
// likely on the same offline origin, or would meet the same full cache.
func (p *Prefetcher) fetchNext(ctx context.Context, s *Session, id fileID) {
	for _, t := range p.next(id) {
		if ctx.Err() != nil || s.stalled() {
			return
		}
		n := min(p.cfg.Head, t.Size)
		if n <= 0 {
			continue
		}
		if err := p.fetch(ctx, kindNext, keyOf(t), 0, n); err != nil {
			s.failed(err)
			return
		}
	}
}

// next returns the tracks whose heads to fetch after id.
func (p *Prefetcher) next(id fileID) []*index.Track {
	return p.albumIndex().next(id, p.cfg.NextTracks)
}

// albumIndex returns the album index of the current snapshot, building it
// on the first call after a swap. Concurrent callers share one build; no
// lock is held while it runs.
func (p *Prefetcher) albumIndex() *albumIndex {
	snap := p.current()
	if a := p.albums.Load(); a != nil && a.snap == snap {
		return a
	}
	v, _, _ := p.building.Do("", func() (any, error) {
		snap := p.current()
		if a := p.albums.Load(); a != nil && a.snap == snap {
			return a, nil
		}
		// The snapshot is taken before the tracks: if the index moves on
		// meanwhile, the next snapshot brings a rebuild.
		began := time.Now()
		a := buildAlbums(snap, p.tracks())
		p.albums.Store(a)
		p.log.Debug("album index built", zap.Int("albums", a.albums), zap.Int("tracks", len(a.order)),
			zap.Duration("took", time.Since(began)))
		return a, nil
	})
	return v.(*albumIndex)
}
