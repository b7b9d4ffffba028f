// Package origins is the registry of origin directories: the source of every
// file MusicFS shows. Everything that touches an origin's files goes through
// the Origin interface, so tests can swap in slow, failing or panicking
// origins with fx.Decorate.
package origins

import (
	"context"
	"fmt"
	"io/fs"
	"time"
)

// Entry is one regular file found under an origin root.
type Entry struct {
	// RelPath is slash-separated and relative to the origin root, which it
	// never escapes (a ValidRelPath). Its elements are the names' bytes as
	// they are on disk: not always UTF-8 (Latin-1 names on old shares).
	RelPath string
	Size    int64
	ModTime time.Time
}

// File is an open origin file. Its methods are safe for concurrent use.
// Every call that may wait on the origin takes the caller's context: it
// returns once ctx is done (a FUSE request interrupted, a daemon stopping,
// every reader of a shared fetch gone), and at the latest after the
// origin's read timeout.
type File interface {
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	// Stat returns the open file's current size and mtime: the cache
	// compares them with the index's to notice a file that changed while
	// it was being fetched. An origin that cannot tell returns an error
	// wrapping errors.ErrUnsupported.
	Stat(ctx context.Context) (fs.FileInfo, error)
	Close() error
}

// Origin is one library root. Wrappers (tests, fault injection) embed an
// Origin and override what they change: every capability is a method
// here, so a wrapped origin keeps all of them.
type Origin interface {
	Name() string
	// Root is the absolute path of the origin directory on this machine,
	// which is watched with inotify and checked for being a mount point;
	// "" for an origin that is not a local directory.
	Root() string
	// Online reports whether the last health check found the root readable.
	Online() bool
	// Check re-checks the origin's health (the root is there and readable)
	// within ctx and the read timeout; Online reports the result afterwards.
	// If ctx ends first the state is left as it was.
	Check(ctx context.Context) bool
	// Walk calls fn for every regular file under the root, without following
	// symlinks that leave the root. Unreadable subdirectories are logged and
	// skipped, and the walk then ends with an error wrapping ErrIncomplete
	// (an *IncompleteError naming them, from a *Local). It stops early when
	// ctx is done or fn returns an error.
	Walk(ctx context.Context, fn func(Entry) error) error
	// WalkDir is Walk restricted to dir (origin-relative, "." = root), with
	// the same entry rules and RelPaths relative to the origin root.
	WalkDir(ctx context.Context, dir string, fn func(Entry) error) error
	// Open opens relpath for reading. relpath must be a ValidRelPath (an
	// Entry.RelPath is one); anything else gets fs.ErrNotExist.
	Open(ctx context.Context, relpath string) (File, error)
	// Stat returns the file's metadata, with the same path rules as Open.
	Stat(ctx context.Context, relpath string) (fs.FileInfo, error)
}

// Set is the collection of configured origins, in configuration order.
type Set interface {
	List() []Origin
	Get(name string) (Origin, bool)
}

// ErrUnknownOrigin is wrapped by the error of opening a file of an origin
// that is not configured (a stale record). It is an fs.ErrNotExist.
var ErrUnknownOrigin = fmt.Errorf("origin is not configured: %w", fs.ErrNotExist)

// OpenIn opens relpath in the origin of set named origin: how every reader
// of an origin file (the cache, pinning, prefetch) finds it.
func OpenIn(ctx context.Context, set Set, origin, relpath string) (File, error) {
	o, ok := set.Get(origin)
	if !ok {
		return nil, fmt.Errorf("open %s: origin %q: %w", relpath, origin, ErrUnknownOrigin)
	}
	return o.Open(ctx, relpath)
}
