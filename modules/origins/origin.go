// Package origins is the registry of origin directories: the source of every
// file MusicFS shows. Everything that touches an origin's files goes through
// the Origin interface, so tests can swap in slow, failing or panicking
// origins with fx.Decorate.
package origins

import (
	"context"
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

// File is an open origin file. ReadAt must be safe for concurrent use.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	Close() error
}

// Origin is one library root.
type Origin interface {
	Name() string
	// Root is the absolute path of the origin directory.
	Root() string
	// Online reports whether the last health check found the root readable.
	Online() bool
	// Walk calls fn for every regular file under the root, without following
	// symlinks that leave the root. Unreadable subdirectories are logged and
	// skipped, and the walk then ends with an error wrapping ErrIncomplete
	// (an *IncompleteError naming them, from a *Local). It stops early when
	// ctx is done or fn returns an error.
	Walk(ctx context.Context, fn func(Entry) error) error
	// Open opens relpath for reading. relpath must be a ValidRelPath (an
	// Entry.RelPath is one); anything else gets fs.ErrNotExist.
	Open(relpath string) (File, error)
	// Stat returns the file's metadata, with the same path rules as Open.
	Stat(relpath string) (fs.FileInfo, error)
}

// Set is the collection of configured origins, in configuration order.
type Set interface {
	List() []Origin
	Get(name string) (Origin, bool)
}

// Checker is implemented by origins that can re-check their health (the root
// is there and readable); Online reports the result afterwards. Callers use
// it before a rescan, through a type assertion, so wrappers need not have it.
type Checker interface {
	Check(ctx context.Context) bool
}
