package index

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// Params are the dependencies of New.
type Params struct {
	fx.In

	Config     Config `optional:"true"`
	Origins    origins.Set
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	// Mounted replaces the mount point check (mountinfo.Mounted) in tests.
	Mounted MountChecker `optional:"true"`
}

// Stats describes the index for status lines and tests.
type Stats struct {
	Files  int // records: every origin file, audio or not
	Audio  int // records of audio files
	Tagged int // audio files whose tags were read
	Failed int // audio files whose tags could not be read (listed under Unknown)
	// Untagged counts the Failed files by Reason.
	Untagged [nReasons]int
	Scanning bool // a scan is running
	ScanDone int  // scans completed since start
}

// Index scans the origins and holds a record for every file, persisted in
// <StateDir>/index.db. Published slices and records are immutable, so
// readers share them without locks.
type Index struct {
	cfg     Config
	origins origins.Set
	log     *zap.Logger
	m       *metrics
	// untaggedLog is log, rate-limited for the line each untagged file
	// gets; untaggedDropped counts the lines it dropped since the last
	// summary.
	untaggedLog     *zap.Logger
	untaggedDropped atomic.Int64
	mounted         MountChecker

	tracks  atomic.Pointer[[]*Track]
	counts  atomic.Pointer[Stats] // counts of the published slice
	updated chan struct{}         // cap 1: coalesced "Tracks changed"
	wake    chan struct{}         // cap 1: coalesced "requests queued"
	scanned chan struct{}         // closed after the first complete scan

	reqMu sync.Mutex // guards reqs
	reqs  requests

	offMu   sync.Mutex        // guards offline
	offline map[string]string // origin → why the index treats it as offline

	scanning atomic.Bool
	scanDone atomic.Int64
	progress progress

	// Owned by Start, then by the run goroutine, then by Stop.
	lockWait     time.Duration // for index.db's lock, at Start
	st           *store        // nil: in memory only
	storeFailing bool          // the last write failed (logged once)
	in           interner
	meta         map[string]originMeta
	lastFiles    int // file count of the last complete full scan
	// retry holds the keys of files whose tags could not be read because of
	// the origin (I/O error, timeout): they are read again on the next scan
	// even if unchanged.
	retry map[string]struct{}

	runMu    sync.Mutex // guards ctx, cancel, running, wantScan
	ctx      context.Context
	cancel   context.CancelFunc
	running  bool          // the run goroutine was started
	wantScan bool          // StartScanning came before Start
	done     chan struct{} // closed when the run goroutine returns
}

var _ Source = (*Index)(nil)

// New builds an empty index; it does no I/O. Registerer may be nil when the
// index is used without fx.
func New(p Params) (*Index, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	ix := &Index{
		cfg:     p.Config.withDefaults(),
		origins: p.Origins,
		log:     p.Logger,
		m:       m,
		mounted: p.Mounted,
		updated: make(chan struct{}, 1),
		wake:    make(chan struct{}, 1),
		scanned: make(chan struct{}),
		offline: map[string]string{},
		in:      newInterner(0),
		meta:    map[string]originMeta{},
		retry:   map[string]struct{}{},
		done:    make(chan struct{}),

		lockWait: storeLockWait,
	}
	ix.untaggedLog = newUntaggedLog(ix.log, &ix.untaggedDropped)
	if ix.mounted == nil {
		ix.mounted = defaultMountChecker
	}
	ix.counts.Store(&Stats{})
	return ix, nil
}

// Start loads the persisted index, if any, and publishes it before
// returning, so the first tree (and the mount) show the library at once.
// With nothing persisted (first run, in-memory index, or a store that had to
// be rebuilt) the first full scan starts now, in the background, and the
// records grow in batches; otherwise scanning waits for StartScanning, so
// READY is not held up by a rescan. A store that stays locked by another
// process, or cannot be read for a reason other than damage, fails Start:
// better a restart than an empty library.
func (ix *Index) Start(context.Context) error {
	if ix.cfg.StateDir != "" {
		began := time.Now()
		st, l, err := openState(ix.cfg.StateDir, ix.in, ix.log, ix.lockWait)
		if err != nil {
			return err // names the file and the reason
		}
		ix.st = st
		ix.retry, ix.meta, ix.lastFiles = l.retry, l.origins, l.files
		if len(l.tracks) > 0 {
			ix.publish(l.tracks)
			ix.log.Info("index loaded", zap.String("path", st.path), zap.Int("files", len(l.tracks)),
				zap.Duration("took", time.Since(began)))
		}
	}
	ix.runMu.Lock()
	ix.ctx, ix.cancel = context.WithCancel(context.Background())
	want := ix.wantScan
	ix.runMu.Unlock()
	if want || len(ix.Tracks()) == 0 {
		ix.StartScanning()
	}
	return nil
}

// StartScanning starts the background work: a full scan (which, after a
// restart, reconciles the persisted index with the origins) and then the
// queued Rescan, RescanOrigin and Refresh requests. Call it once READY is
// sent. It is idempotent; before it, requests are queued.
func (ix *Index) StartScanning() {
	ix.runMu.Lock()
	defer ix.runMu.Unlock()
	switch {
	case ix.running:
		return
	case ix.ctx == nil:
		ix.wantScan = true
		return
	case ix.ctx.Err() != nil: // stopped
		return
	}
	ix.running = true
	ix.request(func(r *requests) { r.all = true })
	go ix.run(ix.ctx)
}

// Stop cancels the background work and waits for it (a scan in progress
// persists what it found first), then closes the store. Tag reads abandoned
// after a timeout are not waited for: they are blocked in the kernel,
// already cancelled, and end when their origin read returns.
func (ix *Index) Stop(ctx context.Context) error {
	ix.runMu.Lock()
	cancel, running := ix.cancel, ix.running
	ix.runMu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	if running {
		select {
		case <-ix.done:
		case <-ctx.Done():
			// The run goroutine may still be writing: leave the store open.
			return fmt.Errorf("stop index scan: %w", ctx.Err())
		}
	}
	if ix.st != nil {
		st := ix.st
		ix.st = nil
		return st.close()
	}
	return nil
}

// Tracks returns the current records. Do not modify the slice or records.
func (ix *Index) Tracks() []*Track {
	if p := ix.tracks.Load(); p != nil {
		return *p
	}
	return nil
}

// Updated is signalled (coalesced, never closed) whenever Tracks changes.
func (ix *Index) Updated() <-chan struct{} { return ix.updated }

// Scanned is closed when the first full scan has finished.
func (ix *Index) Scanned() <-chan struct{} { return ix.scanned }

// Stats returns the counts of the current records and the scan state.
func (ix *Index) Stats() Stats {
	s := *ix.counts.Load()
	s.Scanning = ix.scanning.Load()
	s.ScanDone = int(ix.scanDone.Load())
	return s
}

// publish makes tracks (owned by the caller, never modified afterwards) the
// current records and signals Updated.
func (ix *Index) publish(tracks []*Track) {
	var s Stats
	s.Files = len(tracks)
	for _, t := range tracks {
		if t.Audio {
			s.Audio++
			if t.Tagged {
				s.Tagged++
			} else {
				s.Untagged[t.Untagged]++
			}
		}
	}
	s.Failed = s.Audio - s.Tagged
	ix.tracks.Store(&tracks)
	ix.counts.Store(&s)
	ix.m.tracks.Set(float64(s.Audio))
	for r := ReasonNoTags; r < nReasons; r++ {
		ix.m.untagged.WithLabelValues(r.String()).Set(float64(s.Untagged[r]))
	}
	select {
	case ix.updated <- struct{}{}:
	default:
	}
}

// persist writes b to the store. A failure is logged once (until a write
// succeeds again): the records stay in memory and are found again by the
// scan after a restart.
func (ix *Index) persist(b batch) {
	if ix.st == nil || b.empty() {
		return
	}
	if err := ix.st.write(b); err != nil {
		ix.m.errors.Inc()
		if !ix.storeFailing {
			ix.log.Error("index store not written; changes kept in memory and found again by the next scan after a restart", zap.Error(err))
		}
		ix.storeFailing = true
		return
	}
	if ix.storeFailing {
		ix.log.Info("index store written again")
		ix.storeFailing = false
	}
}

// run owns the scans and refreshes: it serves the queued requests, full or
// per-origin scans first, then refreshes of single paths; refreshes queued
// during a scan are applied by the scan between its batches. A scan that
// panics is logged and retried with backoff.
func (ix *Index) run(ctx context.Context) {
	defer close(ix.done)
	const minBackoff, maxBackoff = time.Second, time.Minute
	backoff := minBackoff
	for {
		// A scan may have taken the wake-up of requests it left queued.
		if !ix.queued() {
			select {
			case <-ix.wake:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		req := ix.takeRequests()
		if req.all || len(req.origins) > 0 {
			only := req.origins
			if req.all {
				only = nil
			}
			for name := range req.paths {
				if req.all || req.origins[name] {
					delete(req.paths, name) // the scan sees them
				}
			}
			completed, panicked := ix.supervisedScan(ctx, only)
			if ctx.Err() != nil {
				return
			}
			if completed {
				backoff = minBackoff
				ix.scanDone.Add(1)
				if req.all && !ix.scannedOnce() {
					close(ix.scanned)
				}
			}
			if panicked {
				ix.requeue(req)
				select {
				case <-time.After(backoff):
					backoff = min(2*backoff, maxBackoff)
					continue
				case <-ctx.Done():
					return
				}
			}
		}
		if len(req.paths) > 0 {
			ix.supervisedRefresh(ctx, req.paths)
		}
	}
}

func (ix *Index) scannedOnce() bool {
	select {
	case <-ix.scanned:
		return true
	default:
		return false
	}
}

func (ix *Index) supervisedScan(ctx context.Context, only map[string]bool) (completed, panicked bool) {
	ix.scanning.Store(true)
	defer ix.scanning.Store(false)
	defer func() {
		if v := recover(); v != nil {
			ix.m.panics.Inc()
			ix.log.Error("scan panicked; retrying", zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			completed, panicked = false, true
		}
	}()
	return ix.scan(ctx, only), false
}
