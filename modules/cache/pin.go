package cache

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// PinStatus is the progress of fetching the pinned tracks.
type PinStatus struct {
	Tracks, TracksCached int   // pinned tracks; those complete in the cache
	Bytes, BytesCached   int64 // their size; bytes of them present
}

// PinStatus returns the progress of the pin worker as of its last step.
func (c *Cache) PinStatus() PinStatus {
	if st := c.status.Load(); st != nil {
		return *st
	}
	return PinStatus{}
}

func (c *Cache) setStatus(st PinStatus) {
	c.status.Store(&st)
	c.pinnedBytes.Set(float64(st.BytesCached))
}

// pinMatcher matches cache.pin patterns against virtual paths.
type pinMatcher struct {
	patterns []pinPattern
	uncached map[string]bool // origins never read through the cache
}

type pinPattern struct {
	glob string // cleaned, matched against whole virtual paths
	base string // the directory below which it can match; "" for the root
}

// compilePins returns nil for no patterns.
func compilePins(patterns, uncached []string) (*pinMatcher, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	m := &pinMatcher{uncached: map[string]bool{}}
	for _, o := range uncached {
		m.uncached[o] = true
	}
	for i, p := range patterns {
		glob, err := cleanPattern(p)
		if err != nil {
			return nil, fmt.Errorf("cache.pin[%d]: %w", i, err)
		}
		base, _ := doublestar.SplitPattern(glob)
		if base == "." || strings.ContainsRune(base, '\\') { // escapes: walk it all
			base = ""
		}
		m.patterns = append(m.patterns, pinPattern{glob: glob, base: base})
	}
	return m, nil
}

// resolve returns the identities of the files the patterns select in s: a
// matching file, and every file below a matching directory. A track shown
// in several views is returned once.
func (m *pinMatcher) resolve(s *tree.Snapshot) []Key {
	if m == nil {
		return nil
	}
	r := resolver{s: s, seen: map[keyID]bool{}, uncached: m.uncached}
	for _, p := range m.patterns {
		if dir := s.LookupPath(p.base); dir != nil && dir.Dir {
			r.walk(dir, p.base, p.glob)
		}
	}
	return r.keys
}

type resolver struct {
	s        *tree.Snapshot
	seen     map[keyID]bool
	uncached map[string]bool
	keys     []Key
}

// walk matches the entries below dir (whose path is dirPath) against glob.
// Snapshot paths are sanitised names, never containing a slash, so a
// match on the joined path is a match on the segments.
func (r *resolver) walk(dir *tree.Node, dirPath, glob string) {
	kids := r.s.Children(dir)
	for i := range kids {
		n := &kids[i]
		p := n.Name
		if dirPath != "" {
			p = dirPath + "/" + n.Name
		}
		switch {
		case doublestar.MatchUnvalidated(glob, p):
			r.addAll(n)
		case n.Dir:
			r.walk(n, p, glob)
		}
	}
}

// addAll adds n if it is a file, or every file below it.
func (r *resolver) addAll(n *tree.Node) {
	if !n.Dir {
		if n.Origin() == "" || r.uncached[n.Origin()] {
			return
		}
		k := Key{Origin: n.Origin(), RelPath: n.RelPath(), Size: n.Size(), ModTime: n.ModTime()}
		if id := idOf(k); !r.seen[id] {
			r.seen[id] = true
			r.keys = append(r.keys, k)
		}
		return
	}
	kids := r.s.Children(n)
	for i := range kids {
		r.addAll(&kids[i])
	}
}

// pinSet is a resolved pin list; the zero (nil) set pins nothing.
type pinSet struct {
	keys []Key
	ids  map[keyID]bool
}

func newPinSet(keys []Key) *pinSet {
	ps := &pinSet{keys: keys, ids: make(map[keyID]bool, len(keys))}
	for _, k := range keys {
		ps.ids[idOf(k)] = true
	}
	return ps
}

// has reports whether any identity of e is pinned: identical files share
// one entry, and pinning one of them keeps it.
func (ps *pinSet) has(e Entry) bool {
	if ps == nil {
		return false
	}
	for _, k := range e.Keys {
		if ps.ids[idOf(k)] {
			return true
		}
	}
	return false
}

// pinWorker fetches the pinned tracks, one at a time. Its fields belong to
// its goroutine (and to Start, before the goroutine exists).
type pinWorker struct {
	c         *Cache
	w         *Worker
	snap      *tree.Snapshot // the snapshot the pins were resolved against
	set       *pinSet
	retry     map[keyID]*backoff
	complete  bool // the last pass found every pinned track cached
	announced bool // the work on the current pins was logged
	lastLog   time.Time
}

type backoff struct {
	at    time.Time
	delay time.Duration
}

// progressEvery is how often progress is logged during a long pass.
const progressEvery = 10 * time.Second

func (w *Worker) newPinWorker() *pinWorker {
	return &pinWorker{c: w.c, w: w, retry: map[keyID]*backoff{}}
}

// refresh re-resolves the pins if the tree has changed and reports whether
// it had.
//
// The tree's Swapped channel is not used: it has one slot, and the FUSE
// layer's kernel-cache invalidation relies on receiving every signal. A
// pointer comparison every TreePoll costs nothing.
func (w *pinWorker) refresh() bool {
	cur := w.w.tree.Current()
	if cur == nil || cur == w.snap {
		return false
	}
	w.snap = cur
	keys := w.c.pins.resolve(cur)
	var bytes int64
	for _, k := range keys {
		bytes += k.Size
	}
	level := zap.DebugLevel
	if old := w.set; old == nil || len(old.keys) != len(keys) {
		level = zap.InfoLevel
	}
	w.set = newPinSet(keys)
	w.c.pinned.Store(w.set)
	for id := range w.retry {
		if !w.set.ids[id] {
			delete(w.retry, id)
		}
	}
	w.complete, w.announced = false, false
	w.c.log.Log(level, "pins resolved", zap.Int("patterns", len(w.c.pins.patterns)), zap.Int("tracks", len(keys)), zap.Int64("bytes", bytes))
	return true
}

func (w *pinWorker) run(ctx context.Context) {
	poll := time.NewTicker(w.c.opt.TreePoll)
	defer poll.Stop()
	for {
		w.refresh()
		next := w.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		timer := time.NewTimer(next)
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
				break wait
			case <-poll.C:
				if cur := w.w.tree.Current(); cur != nil && cur != w.snap {
					timer.Stop()
					break wait
				}
			}
		}
	}
}

// pass fetches the pinned tracks that are not complete and returns how
// long to wait before the next pass: until the earliest retry, or
// PinRecheck when all are cached. It returns early when the tree changes.
func (w *pinWorker) pass(ctx context.Context) time.Duration {
	c := w.c
	if w.set == nil {
		return c.opt.TreePoll // no snapshot yet
	}
	var st PinStatus
	type todo struct {
		k       Key
		present int64
	}
	var work []todo
	for _, k := range w.set.keys {
		present, complete := w.w.store.Cached(k)
		st.Tracks++
		st.Bytes += k.Size
		st.BytesCached += present
		if complete {
			st.TracksCached++
			continue
		}
		work = append(work, todo{k, present})
	}
	c.setStatus(st)
	if len(work) == 0 {
		if !w.complete {
			w.complete = true
			c.log.Info("pinned tracks cached", zap.Int("tracks", st.Tracks), zap.Int64("bytes", st.Bytes))
		}
		return c.opt.PinRecheck
	}
	w.complete = false
	if !w.announced {
		w.announced = true
		w.logProgress(st, true)
	}

	next := c.opt.PinRecheck
	for _, t := range work {
		if ctx.Err() != nil || w.w.tree.Current() != w.snap {
			return 0
		}
		id := idOf(t.k)
		now := time.Now()
		if b := w.retry[id]; b != nil && now.Before(b.at) {
			next = min(next, b.at.Sub(now))
			continue
		}
		if o, ok := w.w.origins.Get(t.k.Origin); ok && !o.Online() {
			next = min(next, c.opt.PinRetry) // the origins module logs its health
			continue
		}
		if err := w.w.fetchPinned(ctx, t.k); err != nil {
			if ctx.Err() != nil {
				return 0
			}
			b := w.retry[id]
			if b == nil {
				b = &backoff{delay: c.opt.PinRetry}
				w.retry[id] = b
			} else {
				b.delay = min(2*b.delay, c.opt.PinRetryMax)
			}
			b.at = time.Now().Add(b.delay)
			next = min(next, b.delay)
			c.log.Warn("fetch pinned track", zap.String("origin", t.k.Origin), zap.String("relpath", t.k.RelPath),
				zap.Duration("retry_in", b.delay), zap.Error(err))
			continue
		}
		delete(w.retry, id)
		present, _ := w.w.store.Cached(t.k)
		st.TracksCached++
		st.BytesCached += present - t.present
		c.setStatus(st)
		c.log.Debug("pinned track cached", zap.String("origin", t.k.Origin), zap.String("relpath", t.k.RelPath))
		w.logProgress(st, false)
	}
	if st.TracksCached == st.Tracks {
		w.complete = true
		c.log.Info("pinned tracks cached", zap.Int("tracks", st.Tracks), zap.Int64("bytes", st.Bytes))
		return c.opt.PinRecheck
	}
	return next
}

// logProgress logs at most every progressEvery, unless forced.
func (w *pinWorker) logProgress(st PinStatus, force bool) {
	if !force && time.Since(w.lastLog) < progressEvery {
		return
	}
	w.lastLog = time.Now()
	w.c.log.Info("fetching pinned tracks",
		zap.Int("tracks_done", st.TracksCached), zap.Int("tracks", st.Tracks),
		zap.Int64("bytes_done", st.BytesCached), zap.Int64("bytes", st.Bytes))
}

// fetchPinned makes the whole track present in the store.
func (w *Worker) fetchPinned(ctx context.Context, k Key) error {
	if err := w.store.Fetch(ctx, k, w.opener(k), 0, k.Size); err != nil {
		return err
	}
	// A store that cannot keep the bytes may still serve them: then the
	// track is not cached, and the fetch is retried like a failure.
	if present, complete := w.store.Cached(k); !complete {
		return fmt.Errorf("fetched, but %d of %d bytes are cached", present, k.Size)
	}
	return nil
}

// opener opens k in its origin.
func (w *Worker) opener(k Key) cas.Opener {
	return func(ctx context.Context) (origins.File, error) {
		return origins.OpenIn(ctx, w.origins, k.Origin, k.RelPath)
	}
}
