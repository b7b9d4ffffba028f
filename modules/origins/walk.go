package origins

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"
)

// walkParallelism is how many directories a Walk reads at once: enough to
// hide network latency, few enough not to swamp a NAS.
const walkParallelism = 8

// Walk calls fn, from the calling goroutine, for every regular file under the
// root. Directories are read in parallel; the order of entries is not
// defined. A symlink to a regular file inside the root is listed with its
// target's size and mtime; symlinks to directories (no loops), to anything
// outside the root, and absolute symlinks (os.Root refuses them) are skipped.
// Hidden files are included. A directory that vanished during the walk is
// skipped silently; an unreadable one (or one whose listing timed out) is
// logged (warn, once while it stays unreadable) and skipped, and Walk then
// returns an *IncompleteError naming the skipped directories (it wraps
// ErrIncomplete) after visiting everything else. A root that cannot be
// opened returns an error wrapping ErrOffline.
func (l *Local) Walk(ctx context.Context, fn func(Entry) error) error {
	return l.walk(ctx, ".", fn, nil)
}

// WalkDir is Walk restricted to dir ("." is the root), with the same rules;
// RelPaths stay relative to the origin root. A dir that is missing, is not a
// directory, or is reached through a symlink (which Walk never descends)
// gets an error wrapping fs.ErrNotExist.
func (l *Local) WalkDir(ctx context.Context, dir string, fn func(Entry) error) error {
	if dir != "." && !ValidRelPath(dir) {
		return &fs.PathError{Op: "walk", Path: dir, Err: fs.ErrNotExist}
	}
	return l.walk(ctx, dir, fn, nil)
}

// walk lists dir and everything under it. With fn nil it only visits
// directories and stats no files. visit, if set, is called for each
// directory just before it is listed (the watcher adds its watch there, so a
// file created after the listing cannot be missed); an error from visit ends
// the walk with that error.
func (l *Local) walk(ctx context.Context, dir string, fn func(Entry) error, visit func(dir string) error) error {
	root, err := call(ctx, &l.b, l.openRoot, func(r *os.Root) { r.Close() })
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("walk %s: %w", l.name, ctx.Err())
		}
		if !errors.Is(err, ErrOffline) { // timed out
			err = fmt.Errorf("origin %s: open root: %w: %w", l.name, err, ErrOffline)
		}
		l.setHealth(err)
		return fmt.Errorf("walk: %w", err)
	}
	defer root.Close()
	if dir != "." {
		if _, err := call(ctx, &l.b, func() (struct{}, error) { return struct{}{}, walkable(root, dir) }, nil); err != nil {
			return fmt.Errorf("walk %s: %w", l.name, err)
		}
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &walker{l: l, root: root, ctx: wctx, cancel: cancel, queue: []string{dir},
		out: make(chan []Entry, walkParallelism), dirsOnly: fn == nil, visit: visit}
	w.cond = sync.NewCond(&w.mu)
	stop := context.AfterFunc(wctx, w.stop)
	defer stop()

	var wg sync.WaitGroup
	for range walkParallelism {
		wg.Go(w.work)
	}
	// Closes out once every worker is done; it ends with them.
	go func() {
		wg.Wait()
		close(w.out)
	}()

	var fnErr error
	for batch := range w.out {
		if fnErr != nil {
			continue // drain until the workers have noticed the cancel
		}
		for _, e := range batch {
			if fnErr = fn(e); fnErr != nil {
				cancel()
				break
			}
		}
	}
	switch {
	case fnErr != nil:
		return fnErr
	case w.visitErr.Load() != nil:
		return fmt.Errorf("walk %s: %w", l.name, *w.visitErr.Load())
	case ctx.Err() != nil:
		return fmt.Errorf("walk %s: %w", l.name, ctx.Err())
	}
	if ie := w.skips.incomplete(l.name); ie != nil {
		return ie
	}
	l.setHealth(nil)
	return nil
}

// walkable succeeds when dir and each of its parents is a directory and not
// a symlink, that is when Walk would reach it.
func walkable(root *os.Root, dir string) error {
	for p := dir; p != "."; p = path.Dir(p) {
		fi, err := root.Lstat(p)
		if errors.Is(err, syscall.ENOTDIR) || (err == nil && !fi.IsDir()) {
			err = &fs.PathError{Op: "walk", Path: dir, Err: fs.ErrNotExist}
		}
		if err != nil {
			return escapeIsNotExist("walk", dir, err)
		}
	}
	return nil
}

// walker is a work queue of directories shared by walkParallelism workers.
type walker struct {
	l        *Local
	root     *os.Root
	ctx      context.Context
	cancel   context.CancelFunc
	out      chan []Entry // one batch per directory
	dirsOnly bool         // list subdirectories only, stat no files
	visit    func(dir string) error

	// visitErr is visit's first error. Atomic: a visit abandoned after a
	// timeout may still set it while the walk returns.
	visitErr atomic.Pointer[error]

	mu      sync.Mutex // guards queue, active, stopped
	cond    *sync.Cond // signalled when queue grows, active drops to 0, or stopped
	queue   []string   // directories (relpaths, "." for the root) still to read
	active  int        // directories being read
	stopped bool

	skips skipList // unreadable directories
}

// maxSkippedListed bounds IncompleteError.Skipped: a walk of a tree whose
// every directory fails must not build a list as large as the tree.
const maxSkippedListed = 1000

// skipList records the directories a walk skipped.
type skipList struct {
	mu   sync.Mutex // guards n, dirs
	n    int        // how many were skipped
	dirs []string   // the first maxSkippedListed of them
}

func (s *skipList) add(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if len(s.dirs) < maxSkippedListed {
		s.dirs = append(s.dirs, dir)
	}
}

func (s *skipList) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// incomplete returns the walk's error, nil if nothing was skipped. Past
// maxSkippedListed directories, or when the root itself was skipped, Skipped
// is just the root ("."): anything may be missing.
func (s *skipList) incomplete(origin string) *IncompleteError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return nil
	}
	set := make(map[string]struct{}, len(s.dirs))
	for _, d := range s.dirs {
		set[d] = struct{}{}
	}
	skipped := []string{"."}
	if _, root := set["."]; !root && s.n <= maxSkippedListed {
		// A directory whose listing failed halfway may have had some of its
		// subdirectories queued, and skipped in turn.
		skipped = compact(set)
	}
	return &IncompleteError{Origin: origin, Skipped: skipped, count: s.n}
}

func (w *walker) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.cond.Broadcast()
}

// next blocks until there is a directory to read, or returns false when the
// walk is over (nothing queued and nothing being read) or stopped.
func (w *walker) next() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) == 0 && w.active > 0 && !w.stopped {
		w.cond.Wait()
	}
	if w.stopped || len(w.queue) == 0 {
		return "", false
	}
	dir := w.queue[len(w.queue)-1]
	w.queue = w.queue[:len(w.queue)-1]
	w.active++
	return dir, true
}

// done queues subdirs and marks one directory read.
func (w *walker) done(subdirs []string) {
	w.mu.Lock()
	w.queue = append(w.queue, subdirs...)
	w.active--
	w.mu.Unlock()
	w.cond.Broadcast()
}

func (w *walker) work() {
	for {
		dir, ok := w.next()
		if !ok {
			return
		}
		entries, subdirs := w.readDir(dir)
		w.done(subdirs)
		if len(entries) == 0 {
			continue
		}
		select {
		case w.out <- entries:
		case <-w.ctx.Done():
			return
		}
	}
}

type dirContents struct {
	entries []Entry
	subdirs []string
	err     error // a listing error after some entries were read
}

// readDir lists one directory, bounded by the read timeout.
func (w *walker) readDir(dir string) ([]Entry, []string) {
	c, err := call(w.ctx, &w.l.b, func() (dirContents, error) {
		if w.visit != nil {
			if err := w.visit(dir); err != nil {
				w.visitErr.CompareAndSwap(nil, &err)
				w.cancel()
				return dirContents{}, err
			}
		}
		return w.list(dir)
	}, nil)
	if err == nil {
		err = c.err
	}
	switch {
	case err == nil:
		w.l.warned.Delete(dir)
	case w.ctx.Err() != nil:
		// Cancelled: the walk reports that.
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		w.l.log.Debug("directory vanished during walk", zap.String("dir", dir), zap.Error(err))
	default:
		w.skips.add(dir)
		if _, seen := w.l.warned.LoadOrStore(dir, struct{}{}); seen {
			w.l.log.Debug("directory still unreadable, skipped", zap.String("dir", dir), zap.Error(err))
		} else {
			w.l.log.Warn("unreadable directory skipped", zap.String("dir", dir), zap.Error(err))
		}
	}
	return c.entries, c.subdirs
}

func (w *walker) list(dir string) (dirContents, error) {
	d, err := w.root.Open(dir)
	if err != nil {
		return dirContents{}, err
	}
	defer d.Close()
	// Inside a Root, ReadDir lstats each entry relative to the directory
	// descriptor, so Info below costs no further path lookup.
	des, err := d.ReadDir(-1)
	c := dirContents{err: err}
	for _, de := range des {
		rel := de.Name()
		if dir != "." {
			rel = path.Join(dir, rel)
		}
		switch t := de.Type(); {
		case t.IsDir():
			c.subdirs = append(c.subdirs, rel)
		case w.dirsOnly:
		case t.IsRegular():
			if fi, err := de.Info(); err == nil {
				c.entries = append(c.entries, Entry{RelPath: rel, Size: fi.Size(), ModTime: fi.ModTime()})
			}
		case t&fs.ModeSymlink != 0:
			// Root.Stat follows the link and refuses targets outside the root.
			fi, err := w.root.Stat(rel)
			if err != nil || !fi.Mode().IsRegular() {
				w.l.log.Debug("symlink skipped", zap.String("relpath", rel), zap.Error(err))
				continue
			}
			c.entries = append(c.entries, Entry{RelPath: rel, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}
	return c, nil
}
