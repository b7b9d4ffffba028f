package origins

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Change says something under Paths changed in Origin. Paths are
// slash-separated origin-relative paths of files or directories that were
// created, written, removed or renamed (both old and new names of a rename),
// sorted, without duplicates and without paths under another listed path.
// A listed directory is to be walked again as a whole. Rescan means events
// may have been lost (queue overflow, watch limit, periodic rescan, root gone,
// back or remounted): re-walk the whole origin; Paths is then empty.
type Change struct {
	Origin string
	Paths  []string
	Rescan bool
}

const (
	// debounceQuiet is the quiet time that ends a burst of events.
	debounceQuiet = 100 * time.Millisecond
	// debounceMax bounds the delay of a Change under a continuous stream.
	debounceMax = 500 * time.Millisecond
	// limitRescanInterval is the rescan period of an origin that lost its
	// watches to the inotify limit and has no rescan_interval.
	limitRescanInterval = time.Minute
	// offlinePollInterval is how often a watched origin's root is checked:
	// for its return when it disappeared, else for a remount (inotify drops
	// the watches of an unmounted filesystem without an event).
	offlinePollInterval = 5 * time.Second
	// changesBuffer lets a burst of Changes from several origins wait for
	// the consumer without stalling the watcher.
	changesBuffer = 64
)

// WatcherParams are the dependencies of NewWatcher.
type WatcherParams struct {
	fx.In

	Config Config
	Set    Set
	Logger *zap.Logger
	// Backend replaces inotify; nil means a real fsnotify watcher, opened in
	// Start. The Watcher closes the backend it used in Stop.
	Backend Backend `optional:"true"`
}

// Watcher watches every origin with watch: true and emits debounced Changes;
// it also emits Rescan changes every rescan_interval per origin. Events
// that may have been lost (queue overflow, the inotify watch limit, a root
// that disappeared or was remounted) become Rescan changes.
type Watcher struct {
	log     *zap.Logger
	origins []*watched // every origin that has something to report
	backend Backend
	changes chan Change

	// Periods, fields so that tests can shorten them.
	limitEvery time.Duration
	pollEvery  time.Duration

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// NewWatcher builds the watcher; it does no I/O.
func NewWatcher(p WatcherParams) (*Watcher, error) {
	if err := p.Config.withDefaults().Validate(); err != nil {
		return nil, err
	}
	w := &Watcher{
		log:        p.Logger.Named("watch"),
		backend:    p.Backend,
		changes:    make(chan Change, changesBuffer),
		limitEvery: limitRescanInterval,
		pollEvery:  offlinePollInterval,
	}
	for _, oc := range p.Config.Origins {
		if !oc.Watch && oc.RescanInterval == 0 {
			continue
		}
		o, ok := p.Set.Get(oc.Name)
		if !ok {
			return nil, fmt.Errorf("watch origin %s: not in the origin set", oc.Name)
		}
		w.origins = append(w.origins, newWatched(w, oc, o, p.Config.ReadTimeout))
	}
	return w, nil
}

// Changes returns the channel of Changes. It is buffered, never closed
// before Stop (Stop closes it), and the consumer must keep draining it:
// while it is full, Changes wait and merge.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Start opens inotify and starts the goroutines; adding the watches runs in
// the background, so Start returns at once even for a large tree.
func (w *Watcher) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	if w.backend == nil && w.anyWatch() {
		b, err := newFSNotifyBackend()
		if err != nil {
			w.log.Warn("inotify unavailable: watched origins fall back to periodic rescans", zap.Error(err))
		} else {
			w.backend = b
		}
	}
	if w.backend != nil {
		w.wg.Go(func() { w.dispatch(ctx) })
	}
	for _, o := range w.origins {
		o.start(ctx)
	}
	return nil
}

// Stop stops every goroutine, closes the backend and then the Changes
// channel.
func (w *Watcher) Stop(context.Context) error {
	var err error
	w.stopOnce.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
		w.wg.Wait()
		if w.backend != nil {
			if cerr := w.backend.Close(); cerr != nil {
				err = fmt.Errorf("close watches: %w", cerr)
			}
		}
		close(w.changes)
	})
	return err
}

func (w *Watcher) anyWatch() bool {
	for _, o := range w.origins {
		if o.watch {
			return true
		}
	}
	return false
}

// dispatch routes backend events to the origins they belong to.
func (w *Watcher) dispatch(ctx context.Context) {
	events, errs := w.backend.Events(), w.backend.Errors()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			for _, o := range w.origins {
				rel, ok := o.relPath(ev.Name)
				if !ok || !o.watch {
					continue
				}
				select {
				case o.events <- event{op: ev.Op, rel: rel}:
				case <-ctx.Done():
					return
				}
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("inotify queue overflowed: rescanning watched origins", zap.Error(err))
				for _, o := range w.origins {
					if o.watch {
						o.lost()
					}
				}
				continue
			}
			w.log.Warn("watch error", zap.Error(err))
		}
	}
}

// event is a backend event for one origin.
type event struct {
	op  fsnotify.Op
	rel string // origin-relative, "." for the root itself
}

// relPath turns an absolute event path into a path relative to o's root.
func (o *watched) relPath(abs string) (string, bool) {
	if abs == o.root {
		return ".", true
	}
	prefix := o.root
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	rel, ok := strings.CutPrefix(abs, prefix)
	if !ok || rel == "" {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// absPath is the inverse of relPath.
func (o *watched) absPath(rel string) string {
	return filepath.Join(o.root, filepath.FromSlash(rel))
}
