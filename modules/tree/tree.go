package tree

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

	"github.com/musicfs/musicfs/modules/index"
)

// DefaultMinInterval is the default minimum time between two rebuilds.
const DefaultMinInterval = time.Second

// Options tune the tree module; the zero value means the defaults.
type Options struct {
	// MinInterval is the minimum time between two rebuilds: a burst of
	// index updates costs one rebuild per interval, not one per update.
	MinInterval time.Duration
}

// Params are the tree module's dependencies.
type Params struct {
	fx.In

	Source     index.Source
	Config     Config
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	Options    Options `optional:"true"`
}

// Tree publishes snapshots of the virtual tree, rebuilt whenever the index
// changes.
type Tree struct {
	src         index.Source
	cfg         Config
	log         *zap.Logger
	minInterval time.Duration

	cur     atomic.Pointer[Snapshot]
	swapped chan struct{}

	// freeMemory returns free heap to the OS once rebuilds settle;
	// debug.FreeOSMemory, replaced in tests.
	freeMemory func()

	nodes, tracks prometheus.Gauge
	panics        prometheus.Counter

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{} // closed when the rebuild goroutine exits; nil before Start
}

// New validates the configuration and registers the metrics. It does no
// I/O; Start builds the first snapshot.
func New(p Params) (*Tree, error) {
	cfg := p.Config.withDefaults()
	if len(cfg.Views) == 0 {
		cfg.Views = DefaultViews()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tree{
		src:         p.Source,
		cfg:         cfg,
		log:         p.Logger,
		minInterval: p.Options.MinInterval,
		swapped:     make(chan struct{}, 1),
		freeMemory:  debug.FreeOSMemory,
		stop:        make(chan struct{}),
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "musicfs_tree_nodes", Help: "Files and directories in the current virtual tree.",
		}),
		tracks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "musicfs_tracks", Help: "Audio tracks in the current virtual tree.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_tree_rebuild_panics_total", Help: "Tree rebuilds that panicked; the previous tree kept serving.",
		}),
	}
	if t.log == nil {
		t.log = zap.NewNop()
	}
	if t.minInterval <= 0 {
		t.minInterval = DefaultMinInterval
	}
	if p.Registerer != nil {
		for _, c := range []prometheus.Collector{t.nodes, t.tracks, t.panics} {
			if err := p.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register tree metrics: %w", err)
			}
		}
	}
	return t, nil
}

// Current returns the published snapshot; never nil after Start.
func (t *Tree) Current() *Snapshot { return t.cur.Load() }

// Swapped is signalled after each publish. Signals coalesce: a receiver
// learns that at least one swap happened since it last looked.
func (t *Tree) Swapped() <-chan struct{} { return t.swapped }

// Start builds the first snapshot and starts rebuilding on index updates.
// It never fails: if the first build panics, an empty tree (just the view
// directories) is published and the next update retries.
func (t *Tree) Start(context.Context) error {
	began := time.Now()
	s := t.build()
	if s == nil {
		t.log.Warn("serving an empty tree until the next index update")
		s = t.empty()
	}
	t.log.Info("tree built", zap.Int("tracks", s.Tracks()), zap.Int("nodes", s.Len()), zap.Duration("took", time.Since(began)))
	t.publish(s)

	t.done = make(chan struct{})
	// The first update after start is applied at once, not MinInterval
	// later: on a first run it is the scan's first batch, and the mount
	// should show the library as soon as there is any.
	go t.run(time.Time{})
	return nil
}

// Stop stops the rebuild goroutine and waits for it (or for ctx).
func (t *Tree) Stop(ctx context.Context) error {
	t.stopOnce.Do(func() { close(t.stop) })
	if t.done == nil {
		return nil
	}
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop tree rebuilds: %w", ctx.Err())
	}
}

func (t *Tree) run(last time.Time) {
	defer close(t.done)
	updated := t.src.Updated()
	// Fires when no update came for minInterval after a rebuild: a scan's
	// burst of rebuilds releases memory once, at its end.
	settled := time.NewTimer(t.minInterval)
	defer settled.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-settled.C:
			t.release()
			continue
		case <-updated:
		}
		if wait := t.minInterval - time.Since(last); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-t.stop:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		// Updates that came in while waiting are part of this rebuild.
		select {
		case <-updated:
		default:
		}
		last = time.Now()
		t.rebuild()
		settled.Reset(t.minInterval)
	}
}

// release returns the memory that rebuilds freed to the OS. Without it the
// heap stays at the high-water mark of the last rebuild (both snapshots and
// the build's garbage, about twice the live heap) until more allocation
// brings a GC and the scavenger catches up, which in an idle daemon can take
// minutes. run waits for rebuilds to pause: just after a swap readers still
// hold the old snapshot, and each release costs a full GC.
func (t *Tree) release() {
	began := time.Now()
	t.freeMemory()
	t.log.Debug("returned free memory to the OS", zap.Duration("took", time.Since(began)))
}

func (t *Tree) rebuild() {
	began := time.Now()
	s := t.build()
	if s == nil {
		return // logged; the previous snapshot keeps serving
	}
	level := zap.DebugLevel
	if prev := t.Current(); prev == nil || prev.Tracks() != s.Tracks() {
		level = zap.InfoLevel
	}
	// Logged before the swap signal, so that whoever reacts to it finds
	// the log line already written.
	t.log.Log(level, "tree rebuilt", zap.Int("tracks", s.Tracks()), zap.Int("nodes", s.Len()), zap.Duration("took", time.Since(began)))
	t.publish(s)
}

// build reads the index and builds a snapshot. It returns nil, after
// logging why, if that fails; a panic is also counted and logged with its
// stack.
func (t *Tree) build() (s *Snapshot) {
	defer func() {
		if r := recover(); r != nil {
			t.panics.Inc()
			t.log.Error("tree build panicked", zap.Any("panic", r), zap.String("stack", string(debug.Stack())))
			s = nil
		}
	}()
	s, err := Build(t.src.Tracks(), t.cfg)
	if err != nil { // unreachable: New validated the configuration
		t.log.Error("build tree", zap.Error(err))
	}
	return s
}

// empty is the tree shown when not even the first build succeeded.
func (t *Tree) empty() *Snapshot {
	s, err := Build(nil, t.cfg)
	if err != nil { // unreachable: New validated the configuration
		s, _ = Build(nil, Config{})
	}
	return s
}

func (t *Tree) publish(s *Snapshot) {
	t.cur.Store(s)
	t.nodes.Set(float64(s.Len()))
	t.tracks.Set(float64(s.Tracks()))
	select {
	case t.swapped <- struct{}{}:
	default:
	}
}
