package origins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Health states of a Local origin.
const (
	stateUnknown int32 = iota // not checked yet
	stateOnline
	stateOffline
)

// Local is an origin in a directory of the local filesystem (which may be a
// network mount). Every access goes through os.Root, so no relpath, ".."
// component or symlink can reach outside the root, and every syscall is
// bounded by the read timeout.
type Local struct {
	name string
	root string
	log  *zap.Logger
	b    calls
	bufs bufferPool

	state atomic.Int32
	// warned holds the directories whose read failure was logged at warn
	// level, so a directory that stays unreadable warns once, not per walk.
	warned sync.Map
}

var _ Origin = (*Local)(nil)

// NewLocal returns the origin for cfg. It does no I/O: Online is false until
// Check (or a Walk) has found the root readable. readTimeout <= 0 means
// DefaultReadTimeout.
func NewLocal(cfg OriginConfig, readTimeout time.Duration, log *zap.Logger) *Local {
	if readTimeout <= 0 {
		readTimeout = DefaultReadTimeout
	}
	root := filepath.Clean(cfg.Path)
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	l := &Local{
		name: cfg.Name,
		root: root,
		log:  log.With(zap.String("origin", cfg.Name), zap.String("path", root)),
	}
	l.b.timeout = readTimeout
	return l
}

// Name returns the configured origin name.
func (l *Local) Name() string { return l.name }

// Root returns the absolute path of the origin directory.
func (l *Local) Root() string { return l.root }

// Online reports whether the last health check (or walk) found the root
// readable.
func (l *Local) Online() bool { return l.state.Load() == stateOnline }

// Check stats the root and reads one directory entry, bounded by ctx and
// the read timeout, and records the result. Health changes are logged once: a warning
// when the origin goes offline, info when it is (back) online. If ctx ends
// first, the state is left as it was: our own cancellation says nothing
// about the origin.
func (l *Local) Check(ctx context.Context) bool {
	_, err := call(ctx, &l.b, func() (struct{}, error) { return struct{}{}, probe(l.root) }, nil)
	if err != nil && ctx.Err() != nil {
		return l.Online()
	}
	l.setHealth(err)
	return err == nil
}

// probe succeeds when root is a directory we can open and list.
func probe(root string) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	d, err := r.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// setHealth records the outcome of an access to the root and logs changes.
func (l *Local) setHealth(err error) {
	if err == nil {
		switch l.state.Swap(stateOnline) {
		case stateOffline:
			l.log.Info("origin back online")
		case stateUnknown:
			l.log.Info("origin online")
		}
		return
	}
	if l.state.Swap(stateOffline) != stateOffline {
		l.log.Warn("origin offline: its tracks stay listed, uncached reads fail", zap.Error(err))
	}
}

// openRoot opens the root directory. A failure marks the origin offline.
func (l *Local) openRoot() (*os.Root, error) {
	r, err := os.OpenRoot(l.root)
	if err != nil {
		// The cause is kept as text only: a missing root must not look like
		// a missing file (ENOENT) to callers that map errors to errnos.
		return nil, fmt.Errorf("origin %s: open root: %v: %w", l.name, err, ErrOffline)
	}
	return r, nil
}

// Open opens relpath for reading. relpath must be a ValidRelPath, its
// bytes those of the names on disk (not necessarily UTF-8); anything else,
// a path resolving outside the root (through ".." or a symlink) and
// anything but a regular file get an error wrapping fs.ErrNotExist.
func (l *Local) Open(ctx context.Context, relpath string) (File, error) {
	if !ValidRelPath(relpath) {
		return nil, &fs.PathError{Op: "open", Path: relpath, Err: fs.ErrNotExist}
	}
	f, err := call(ctx, &l.b, func() (*os.File, error) { return l.open(relpath) },
		func(f *os.File) { f.Close() })
	if err != nil {
		return nil, err
	}
	return &localFile{f: f, l: l, rel: relpath}, nil
}

func (l *Local) open(rel string) (*os.File, error) {
	r, err := l.openRoot()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// O_NONBLOCK: opening a FIFO must not block waiting for a writer.
	f, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, escapeIsNotExist("open", rel, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: rel, Err: fs.ErrNotExist}
	}
	// Back to blocking reads: some network and FUSE filesystems honour
	// O_NONBLOCK on regular files.
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.SetNonblock(int(fd), false) })
	}
	return f, nil
}

// Stat returns relpath's metadata, following symlinks inside the root, with
// the same path rules as Open.
func (l *Local) Stat(ctx context.Context, relpath string) (fs.FileInfo, error) {
	if !ValidRelPath(relpath) {
		return nil, &fs.PathError{Op: "stat", Path: relpath, Err: fs.ErrNotExist}
	}
	return call(ctx, &l.b, func() (fs.FileInfo, error) {
		r, err := l.openRoot()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		fi, err := r.Stat(relpath)
		if err != nil {
			return nil, escapeIsNotExist("stat", relpath, err)
		}
		return fi, nil
	}, nil)
}

// ValidRelPath reports whether rel is a path Open, Stat and WalkDir accept:
// clean, slash-separated and relative, with no empty, "." or ".." element
// and no NUL byte. It is fs.ValidPath without its demand for UTF-8: an
// origin's names are bytes (Latin-1 on old Samba and NFS shares), and
// Entry.RelPath carries them as they are, so that the file can be opened
// again by that name. Nothing in such a path can leave the root.
func ValidRelPath(rel string) bool {
	if rel == "" || strings.IndexByte(rel, 0) >= 0 {
		return false
	}
	for elem := range strings.SplitSeq(rel, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return false
		}
	}
	return true
}

// escapeIsNotExist turns os.Root's "path escapes from parent" (the only error
// it returns that is not an errno) into fs.ErrNotExist: from the caller's
// point of view, nothing outside the root exists.
func escapeIsNotExist(op, rel string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if _, isErrno := pe.Err.(syscall.Errno); !isErrno {
			return &fs.PathError{Op: op, Path: rel, Err: fs.ErrNotExist}
		}
	}
	return err
}

// localFile is an open origin file. ReadAt is bounded by ctx and the read
// timeout, and safe for concurrent use (pread has no shared offset).
type localFile struct {
	f   *os.File
	l   *Local
	rel string
}

// ReadAt reads into a private buffer and copies: after a timeout the blocked
// pread may still write into its buffer, which must not be the caller's.
func (f *localFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	bp := f.l.bufs.get(len(p))
	type result struct {
		n   int
		err error
	}
	r, err := call(ctx, &f.l.b, func() (result, error) {
		n, err := f.f.ReadAt(*bp, off)
		return result{n, err}, nil
	}, nil)
	if err != nil {
		// The buffer now belongs to the blocked read; it is never reused.
		return 0, fmt.Errorf("origin %s: read %s at %d: %w", f.l.name, f.rel, off, err)
	}
	n := copy(p, (*bp)[:r.n])
	f.l.bufs.put(bp)
	return n, r.err
}

// Stat returns the open file's current size and mtime (fstat, bounded like
// a read).
func (f *localFile) Stat(ctx context.Context) (fs.FileInfo, error) {
	fi, err := call(ctx, &f.l.b, f.f.Stat, nil)
	if err != nil {
		return nil, fmt.Errorf("origin %s: stat %s: %w", f.l.name, f.rel, err)
	}
	return fi, nil
}

// Close closes the file. It does not wait for a read still blocked after a
// timeout: the descriptor is released when that read returns.
func (f *localFile) Close() error {
	return f.f.Close()
}
