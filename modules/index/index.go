package index

import (
	"context"
	"fmt"
	"runtime/debug"
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
	Lifecycle  fx.Lifecycle
	Registerer prometheus.Registerer
}

// Stats describes the index for status lines and tests.
type Stats struct {
	Files    int  // records: every origin file, audio or not
	Audio    int  // records of audio files
	Tagged   int  // audio files whose tags were read
	Failed   int  // audio files whose tags could not be read (listed under Unknown)
	Scanning bool // a scan is running
	ScanDone int  // scans completed since start
}

// Index scans the origins and holds a record for every file. It is in
// memory for now. Published slices and records are immutable, so readers
// share them without locks.
type Index struct {
	cfg     Config
	origins origins.Set
	log     *zap.Logger
	m       *metrics

	tracks  atomic.Pointer[[]*Track]
	counts  atomic.Pointer[Stats] // counts of the published slice
	updated chan struct{}         // cap 1: coalesced "Tracks changed"
	rescan  chan struct{}         // cap 1: coalesced rescan requests
	scanned chan struct{}         // closed after the first complete scan

	scanning atomic.Bool
	scanDone atomic.Int64
	// readers counts tag reads in flight, including ones abandoned after a
	// timeout that are still blocked in an origin read.
	readers atomic.Int64

	// retry holds the keys of files whose tags could not be read because of
	// the origin (I/O error, timeout): they are read again on the next scan
	// even if unchanged. Owned by the run goroutine.
	retry map[string]struct{}

	cancel context.CancelFunc
	done   chan struct{} // closed when the run goroutine returns
}

var _ Source = (*Index)(nil)

// New builds an empty index; it does no I/O. Lifecycle and Registerer may be
// nil when the index is used without fx.
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
		updated: make(chan struct{}, 1),
		rescan:  make(chan struct{}, 1),
		scanned: make(chan struct{}),
		retry:   map[string]struct{}{},
		done:    make(chan struct{}),
	}
	ix.counts.Store(&Stats{})
	if p.Lifecycle != nil {
		p.Lifecycle.Append(fx.StartStopHook(ix.Start, ix.Stop))
	}
	return ix, nil
}

// Start launches the first full scan in the background and returns.
func (ix *Index) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	ix.cancel = cancel
	go ix.run(ctx)
	return nil
}

// Stop cancels the scan and waits for it. Tag reads abandoned after a
// timeout are not waited for: they are blocked in the kernel, already
// cancelled, and end when their origin read returns.
func (ix *Index) Stop(ctx context.Context) error {
	if ix.cancel == nil {
		return nil
	}
	ix.cancel()
	select {
	case <-ix.done:
	case <-ctx.Done():
		return fmt.Errorf("stop index scan: %w", ctx.Err())
	}
	if n := ix.readers.Load(); n > 0 {
		ix.log.Info("tag reads still blocked in origin reads; they end when the reads return", zap.Int64("reads", n))
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

// Rescan asks for a rescan without waiting for it. Requests made while a
// scan runs are coalesced into one rescan after it.
func (ix *Index) Rescan() {
	select {
	case ix.rescan <- struct{}{}:
	default:
	}
}

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
			}
		}
	}
	s.Failed = s.Audio - s.Tagged
	ix.tracks.Store(&tracks)
	ix.counts.Store(&s)
	ix.m.tracks.Set(float64(s.Audio))
	select {
	case ix.updated <- struct{}{}:
	default:
	}
}

// run owns the scans: the first at start, then one per coalesced Rescan. A
// scan that panics is logged and retried with backoff.
func (ix *Index) run(ctx context.Context) {
	defer close(ix.done)
	const minBackoff, maxBackoff = time.Second, time.Minute
	backoff := minBackoff
	for {
		completed, panicked := ix.supervisedScan(ctx)
		if ctx.Err() != nil {
			return
		}
		if completed {
			backoff = minBackoff
			if ix.scanDone.Add(1) == 1 {
				close(ix.scanned)
			}
		}
		if panicked {
			select {
			case <-time.After(backoff):
				backoff = min(2*backoff, maxBackoff)
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ix.rescan:
		case <-ctx.Done():
			return
		}
	}
}

func (ix *Index) supervisedScan(ctx context.Context) (completed, panicked bool) {
	ix.scanning.Store(true)
	defer ix.scanning.Store(false)
	defer func() {
		if v := recover(); v != nil {
			ix.m.panics.Inc()
			ix.log.Error("scan panicked; retrying", zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			completed, panicked = false, true
		}
	}()
	return ix.scan(ctx), false
}
