package origins

import (
	"context"
	"errors"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// watched is the watching of one origin. Two goroutines own it: run, which
// debounces events into Changes and never blocks on I/O, and work, which
// does everything that touches the filesystem or the backend (adding and
// dropping watches, stats, health checks) in event order.
type watched struct {
	w     *Watcher
	name  string
	root  string
	watch bool                       // inotify wanted
	every time.Duration              // rescan_interval
	src   *Local                     // walks directories for watches
	check func(context.Context) bool // the set's own, so everyone sees a return
	log   *zap.Logger

	events  chan event    // from dispatch
	results chan result   // from work to run
	overrun chan struct{} // events were lost; capacity 1
	ops     opQueue       // from run to work, unbounded so run never blocks

	mu   sync.Mutex          // guards dirs
	dirs map[string]struct{} // watched directories, origin-relative

	verifying atomic.Bool // an opVerify is queued: poll ticks do not pile up
}

func newWatched(w *Watcher, oc OriginConfig, o Origin, readTimeout time.Duration) *watched {
	return &watched{
		w:       w,
		name:    oc.Name,
		root:    o.Root(),
		watch:   oc.Watch && o.Root() != "", // inotify needs a local directory
		every:   oc.RescanInterval,
		log:     w.log.With(zap.String("origin", oc.Name)),
		events:  make(chan event, 64),
		results: make(chan result),
		overrun: make(chan struct{}, 1),
		ops:     opQueue{ready: make(chan struct{}, 1)},
		dirs:    map[string]struct{}{},
		check:   o.Check,
		// Watches are of the directory itself, whatever wraps the origin:
		// its directories are walked through a private Local of the root.
		src: NewLocal(OriginConfig{Name: oc.Name, Path: o.Root()}, readTimeout, zap.NewNop()),
	}
}

func (o *watched) start(ctx context.Context) {
	if o.watch && o.w.backend != nil {
		o.ops.push(op{kind: opSetup})
		o.w.wg.Go(func() { o.work(ctx) })
	}
	o.w.wg.Go(func() { o.run(ctx) })
}

// lost signals that events may have been lost; it never blocks.
func (o *watched) lost() {
	select {
	case o.overrun <- struct{}{}:
	default:
	}
}

// Operations for work, and its results for run.
type opKind int

const (
	opSetup   opKind = iota // watch the whole tree
	opCreated               // rel appeared: if a directory, watch its tree
	opGone                  // rel was removed or renamed away: drop watches under it
	opChmod                 // rel's attributes changed: report if readability did
	opDrop                  // drop every watch (root gone)
	opProbe                 // root was gone: check it, and watch it again if back
	opVerify                // check the root is still the directory watched
)

type op struct {
	kind opKind
	rel  string
}

type resultKind int

const (
	resReport   resultKind = iota // rel changed
	resWatching                   // the whole tree is watched (again)
	resLimit                      // the inotify limit was hit; watches dropped
	resDown                       // the root is gone or unreadable
)

type result struct {
	kind    resultKind
	back    bool // resWatching after a probe found the root back
	remount bool // resWatching after the root was found replaced
	rel     string
	dirs    int
	took    time.Duration
	err     error
}

// opQueue is an unbounded FIFO: run pushes without blocking, work takes.
type opQueue struct {
	mu    sync.Mutex
	ops   []op
	ready chan struct{} // capacity 1: something was pushed
}

func (q *opQueue) push(o op) {
	q.mu.Lock()
	q.ops = append(q.ops, o)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for operations and returns them all, or nil when ctx is done.
func (q *opQueue) take(ctx context.Context) []op {
	for {
		q.mu.Lock()
		ops := q.ops
		q.ops = nil
		q.mu.Unlock()
		if len(ops) > 0 {
			return ops
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.ready:
		}
	}
}

// run turns events and results into debounced Changes.
func (o *watched) run(ctx context.Context) {
	s := &debouncer{origin: o.name, pending: map[string]struct{}{}}
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	defer s.timer.Stop()

	var (
		rescan *time.Ticker // periodic rescans: rescan_interval, or the limit fallback
		poll   *time.Ticker // root checks while watching: for a remount, or its return when gone
		down   bool         // root gone: events are stale, watches dropped
		limit  bool         // watches given up for the inotify limit
		setup  = o.watch && o.w.backend != nil
	)
	startRescans := func(every time.Duration) {
		if rescan != nil {
			rescan.Stop()
		}
		rescan = time.NewTicker(every)
	}
	if o.every > 0 {
		startRescans(o.every)
	}
	if setup {
		poll = time.NewTicker(o.w.pollEvery)
	}
	if o.watch && o.w.backend == nil {
		limit = true // no inotify at all: the same fallback as the limit
		if o.every == 0 {
			startRescans(o.w.limitEvery)
		}
	}
	defer func() {
		if rescan != nil {
			rescan.Stop()
		}
		if poll != nil {
			poll.Stop()
		}
	}()
	// goDown stops trusting events until the root is back. The consumer
	// gets a Rescan and decides, through the health check, whether the
	// origin is offline; at start it is scanning anyway.
	goDown := func(report bool) {
		if down || limit {
			return
		}
		down = true
		o.log.Warn("origin root gone: watches dropped, checking for its return", zap.String("path", o.root))
		o.ops.push(op{kind: opDrop})
		if report {
			s.rescanNow()
		}
	}

	for {
		// Select evaluates the value to send even when out is nil.
		var out chan<- Change
		var next Change
		if s.ready != nil {
			out, next = o.w.changes, *s.ready
		}
		var rescanC, pollC <-chan time.Time
		if rescan != nil {
			rescanC = rescan.C
		}
		if poll != nil {
			pollC = poll.C
		}
		select {
		case <-ctx.Done():
			return
		case ev := <-o.events:
			if down || limit {
				continue
			}
			o.event(s, ev, func() { goDown(true) })
		case r := <-o.results:
			switch r.kind {
			case resReport:
				if !down {
					s.add(r.rel)
				}
			case resWatching:
				fields := []zap.Field{zap.Int("dirs", r.dirs), zap.Duration("took", r.took)}
				if r.err != nil {
					fields = append(fields, zap.Error(r.err))
				}
				switch {
				case down && !r.back:
					// The root went while it was being watched: the
					// drop queued behind this undoes it; keep polling.
				case down:
					o.log.Info("origin root back: watching again", fields...)
					down = false
					s.rescanNow()
				case r.remount:
					o.log.Warn("origin root replaced (remounted?): watching it again", fields...)
					s.rescanNow()
				default:
					o.log.Info("watching origin", fields...)
				}
				setup = false
			case resLimit:
				o.log.Warn("inotify watch limit reached: watches dropped, falling back to periodic rescans; raise the sysctl fs.inotify.max_user_watches",
					zap.Int("dirs_dropped", r.dirs), zap.Error(r.err))
				limit = true
				down = false
				if poll != nil {
					poll.Stop()
					poll = nil
				}
				if o.every == 0 {
					startRescans(o.w.limitEvery)
				}
				if !setup { // at start the consumer is scanning anyway
					s.rescanNow()
				}
				setup = false
			case resDown:
				goDown(!setup)
				setup = false
			}
		case <-o.overrun:
			s.rescanNow()
		case <-rescanC:
			s.rescanNow()
		case <-pollC:
			switch {
			case down:
				o.ops.push(op{kind: opProbe})
			case o.verifying.CompareAndSwap(false, true):
				o.ops.push(op{kind: opVerify})
			}
		case <-s.timer.C:
			s.flush()
		case out <- next:
			o.log.Debug("origin changed", zap.Strings("paths", next.Paths), zap.Bool("rescan", next.Rescan))
			s.ready = nil
		}
	}
}

// event handles one backend event in run: paths are reported at once, and
// work learns what it must do about watches, in event order.
func (o *watched) event(s *debouncer, ev event, goDown func()) {
	if ev.rel == "." {
		switch {
		case ev.op.Has(fsnotify.Remove) || ev.op.Has(fsnotify.Rename):
			goDown()
		case ev.op.Has(fsnotify.Chmod):
			o.ops.push(op{kind: opChmod, rel: "."})
		}
		return
	}
	if ev.op.Has(fsnotify.Remove) || ev.op.Has(fsnotify.Rename) {
		s.add(ev.rel)
		o.ops.push(op{kind: opGone, rel: ev.rel})
	}
	if ev.op.Has(fsnotify.Create) {
		// Reported now for a file; a directory is reported again once its
		// watches are in, so a walk after that misses nothing.
		s.add(ev.rel)
		o.ops.push(op{kind: opCreated, rel: ev.rel})
	}
	if ev.op.Has(fsnotify.Write) {
		s.add(ev.rel)
	}
	if ev.op == fsnotify.Chmod {
		o.ops.push(op{kind: opChmod, rel: ev.rel})
	}
}

// debouncer collects paths until debounceQuiet passes without a new one, or
// debounceMax after the first; the result waits in ready for the consumer,
// and merges with what follows while it waits.
type debouncer struct {
	origin  string
	pending map[string]struct{}
	rescan  bool
	first   time.Time
	timer   *time.Timer
	ready   *Change
}

func (s *debouncer) add(rel string) {
	now := time.Now()
	if len(s.pending) == 0 && !s.rescan {
		s.first = now
	}
	s.pending[rel] = struct{}{}
	s.timer.Reset(max(min(debounceQuiet, s.first.Add(debounceMax).Sub(now)), 0))
}

// rescanNow makes a Rescan change ready at once: there is nothing to wait
// for, and a full walk covers whatever is pending.
func (s *debouncer) rescanNow() {
	s.rescan = true
	s.flush()
}

func (s *debouncer) flush() {
	if len(s.pending) == 0 && !s.rescan {
		return
	}
	s.timer.Stop()
	c := Change{Origin: s.origin, Rescan: s.rescan}
	if s.ready != nil {
		c.Rescan = c.Rescan || s.ready.Rescan
		for _, p := range s.ready.Paths {
			s.pending[p] = struct{}{}
		}
	}
	if !c.Rescan {
		c.Paths = compact(s.pending)
	}
	s.ready = &c
	clear(s.pending)
	s.rescan = false
}

// compact sorts paths and drops those under another listed path: the
// consumer walks a listed directory whole.
func compact(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for p := range set {
		covered := false
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := set[d]; ok {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// work does the filesystem side of watching, one operation at a time, in
// the order of the events that caused them.
func (o *watched) work(ctx context.Context) {
	var (
		watching   bool                // the tree is watched: not down, not over the limit
		gaveUp     bool                // the inotify limit was hit: never watch again
		unreadable = map[string]bool{} // paths a chmod made unreadable
		id         rootID              // the root watched, taken just before its watches
	)
	send := func(r result) bool {
		select {
		case o.results <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// watchTree adds watches under rel. On the inotify limit it drops them
	// all and tells run; limit is then true.
	watchTree := func(rel string) (n int, limit bool, err error) {
		n, err = o.addTree(ctx, rel)
		if !isWatchLimit(err) {
			return n, false, err
		}
		dropped := o.dropUnder(".")
		watching, gaveUp = false, true
		if !send(result{kind: resLimit, dirs: dropped, err: err}) {
			return n, true, ctx.Err()
		}
		return n, true, nil
	}
	setup := func(back, remount bool) bool {
		start := time.Now()
		// Taken first, so that a remount during the walk shows as a
		// difference at the next check. On an error id is zero: the next
		// check then watches again, at worst once too often.
		id, _ = o.statRoot(ctx)
		n, limit, err := watchTree(".")
		switch {
		case limit:
			return err == nil
		case ctx.Err() != nil:
			return false
		case errors.Is(err, ErrOffline):
			o.dropUnder(".")
			return send(result{kind: resDown, err: err})
		}
		watching = true
		return send(result{kind: resWatching, back: back, remount: remount, dirs: n, took: time.Since(start), err: err})
	}

	for {
		ops := o.ops.take(ctx)
		if ops == nil {
			return
		}
		for _, op := range ops {
			ok := true
			switch op.kind {
			case opSetup:
				ok = setup(false, false)
			case opProbe:
				if !watching && !gaveUp && o.check(ctx) {
					ok = setup(true, false)
				}
			case opVerify:
				o.verifying.Store(false)
				if !watching {
					continue
				}
				// An unmount drops every watch under the mount without an
				// event fsnotify passes on (IN_UNMOUNT, IN_IGNORED): the root
				// is then another directory, or none, and nothing would ever
				// be reported again.
				now, err := o.statRoot(ctx)
				switch {
				case ctx.Err() != nil:
					return
				case errors.Is(err, ErrTimeout):
					// A hung mount says nothing about a remount; its
					// reads time out for the consumer already.
					o.log.Debug("origin root check timed out", zap.Error(err))
				case err != nil: // vanished, or a stale NFS handle
					watching = false
					o.dropUnder(".")
					ok = send(result{kind: resDown, err: err})
				case now != id:
					// Dropped first: fsnotify still knows the old watches by
					// path until it reads their IN_IGNORED, and would mix
					// them up with the new ones.
					watching = false
					o.dropUnder(".")
					ok = setup(false, true)
				}
			case opDrop:
				watching = false
				o.dropUnder(".")
			case opGone:
				o.dropUnder(op.rel)
			case opCreated:
				if !watching {
					continue
				}
				if fi, err := o.lstat(ctx, op.rel); err != nil || !fi.IsDir() {
					continue
				}
				_, limit, err := watchTree(op.rel)
				switch {
				case limit:
					ok = err == nil
				case ctx.Err() != nil:
					ok = false
				default:
					ok = send(result{kind: resReport, rel: op.rel})
				}
			case opChmod:
				if !watching {
					continue
				}
				fi, err := o.lstat(ctx, op.rel)
				if err != nil {
					continue
				}
				readable := o.readable(ctx, op.rel, fi.IsDir())
				if op.rel == "." {
					if !readable {
						watching = false
						o.dropUnder(".")
						ok = send(result{kind: resDown})
					}
					continue
				}
				if readable == !unreadable[op.rel] {
					continue // readability unchanged: a chmod that does not matter
				}
				if readable {
					delete(unreadable, op.rel)
					if fi.IsDir() {
						// Its subdirectories could not be watched while
						// it was unreadable.
						if _, limit, err := watchTree(op.rel); limit {
							ok = err == nil
							continue
						}
					}
				} else {
					unreadable[op.rel] = true
				}
				ok = send(result{kind: resReport, rel: op.rel})
			}
			if !ok {
				return
			}
		}
	}
}

// addTree adds a watch on rel and every directory under it, each just before
// it is listed, and returns how many were added.
func (o *watched) addTree(ctx context.Context, rel string) (int, error) {
	var n atomic.Int64
	err := o.src.walk(ctx, rel, nil, func(dir string) error {
		if err := o.w.backend.Add(o.absPath(dir)); err != nil {
			if isWatchLimit(err) {
				return err
			}
			// Vanished or unreadable: the listing that follows says which.
			o.log.Debug("directory not watched", zap.String("dir", dir), zap.Error(err))
			return nil
		}
		o.mu.Lock()
		o.dirs[dir] = struct{}{}
		o.mu.Unlock()
		n.Add(1)
		return nil
	})
	return int(n.Load()), err
}

// dropUnder removes the watches on rel and under it ("." for all). A
// renamed directory's watches must go before its new name is watched: the
// kernel keeps one watch per inode, and the backend would keep reporting
// it under the old name.
func (o *watched) dropUnder(rel string) int {
	o.mu.Lock()
	var gone []string
	if _, ok := o.dirs[rel]; ok || rel == "." {
		for d := range o.dirs {
			if rel == "." || d == rel || strings.HasPrefix(d, rel+"/") {
				gone = append(gone, d)
				delete(o.dirs, d)
			}
		}
	}
	o.mu.Unlock()
	for _, d := range gone {
		// An error means the kernel already dropped it (directory deleted).
		_ = o.w.backend.Remove(o.absPath(d))
	}
	return len(gone)
}

// rootID identifies the directory at an origin root. Device and inode are
// not enough: a new mount of the same NAS export, or a new tmpfs, usually
// gets the device number of the old one back, and the same root inode. The
// mount ID tells them apart; where the kernel has it (Linux 6.8), the
// unique one, never reused.
type rootID struct{ dev, ino, mnt uint64 }

// statRoot returns the identity of the root, bounded by the read timeout.
// It follows symlinks and triggers an automount, like the walk does.
func (o *watched) statRoot(ctx context.Context) (rootID, error) {
	return call(ctx, &o.src.b, func() (rootID, error) {
		var st unix.Statx_t
		err := unix.Statx(unix.AT_FDCWD, o.root, 0, unix.STATX_TYPE|unix.STATX_INO|unix.STATX_MNT_ID_UNIQUE, &st)
		if errors.Is(err, unix.ENOSYS) { // no statx (old kernel, seccomp)
			var s unix.Stat_t
			if err := unix.Stat(o.root, &s); err != nil {
				return rootID{}, &os.PathError{Op: "stat", Path: o.root, Err: err}
			}
			return rootID{dev: s.Dev, ino: s.Ino}, nil
		}
		if err != nil {
			return rootID{}, &os.PathError{Op: "statx", Path: o.root, Err: err}
		}
		id := rootID{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino}
		if st.Mask&(unix.STATX_MNT_ID|unix.STATX_MNT_ID_UNIQUE) != 0 {
			id.mnt = st.Mnt_id
		}
		return id, nil
	}, nil)
}

func (o *watched) lstat(ctx context.Context, rel string) (os.FileInfo, error) {
	return call(ctx, &o.src.b, func() (os.FileInfo, error) { return os.Lstat(o.absPath(rel)) }, nil)
}

// readable reports whether this process may read rel (and search it, for a
// directory).
func (o *watched) readable(ctx context.Context, rel string, dir bool) bool {
	mode := uint32(unix.R_OK)
	if dir {
		mode |= unix.X_OK
	}
	_, err := call(ctx, &o.src.b, func() (struct{}, error) { return struct{}{}, unix.Access(o.absPath(rel), mode) }, nil)
	return err == nil
}
