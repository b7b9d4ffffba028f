package origins

import (
	"errors"
	"syscall"

	"github.com/fsnotify/fsnotify"
)

// Backend is the inotify layer under the Watcher: non-recursive watches on
// directories, by absolute path. Tests swap it through fx (for example for
// one whose Add fails with syscall.ENOSPC).
type Backend interface {
	Add(path string) error
	Remove(path string) error
	Events() <-chan fsnotify.Event
	Errors() <-chan error
	Close() error
}

// eventBuffer lets the kernel queue drain while the dispatcher is busy.
const eventBuffer = 1024

// fsnotifyBackend is the real Backend.
type fsnotifyBackend struct{ w *fsnotify.Watcher }

var _ Backend = fsnotifyBackend{}

// newFSNotifyBackend opens an inotify instance (I/O: called from Start).
func newFSNotifyBackend() (Backend, error) {
	w, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, err
	}
	return fsnotifyBackend{w}, nil
}

func (b fsnotifyBackend) Add(path string) error         { return b.w.Add(path) }
func (b fsnotifyBackend) Remove(path string) error      { return b.w.Remove(path) }
func (b fsnotifyBackend) Events() <-chan fsnotify.Event { return b.w.Events }
func (b fsnotifyBackend) Errors() <-chan error          { return b.w.Errors }
func (b fsnotifyBackend) Close() error                  { return b.w.Close() }

// isWatchLimit reports whether err from Add means the kernel's inotify limits
// are exhausted (fs.inotify.max_user_watches, or descriptors), not a
// problem with one directory.
func isWatchLimit(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE)
}
