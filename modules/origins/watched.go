package origins

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
