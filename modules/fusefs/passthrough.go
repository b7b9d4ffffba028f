package fusefs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

var _ = (fs.FilePassthroughFder)((*passthroughHandle)(nil))

// passthroughHandle is an open file whose complete, verified cached copy
// the kernel reads directly (FUSE passthrough), at page-cache speed and
// without asking the daemon. Read is still there for when the kernel
// refuses the backing file (not root, an older kernel).
type passthroughHandle struct {
	*fileHandle
	blob *os.File
}

// PassthroughFd is asked once per inode by go-fuse, which then reuses the
// registered file for every open of the inode while one is open: backing
// makes sure that is this very file.
func (h *passthroughHandle) PassthroughFd() (int, bool) {
	return int(h.blob.Fd()), true
}

// blobID is a cached file's identity on disk. A changed origin file or a
// blob dropped as damaged and fetched again is another file.
type blobID struct{ dev, ino uint64 }

func blobIDOf(f *os.File) (blobID, bool) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return blobID{}, false
	}
	return blobID{uint64(st.Dev), st.Ino}, true
}

// ioMode is how an open file is read, as the kernel sees it. The kernel
// keeps one mode per inode while files are open: once one open passes a
// backing file through (go-fuse registers it once per inode and reuses it),
// every other open of the inode must pass the same file through, and
// passthrough is refused while opens through the page cache are there.
type ioMode int

const (
	ioUntracked   ioMode = iota // passthrough is off: nothing to track
	ioCached                    // through the page cache, served by the daemon
	ioPassthrough               // the kernel reads the cached file itself
)

// errStaleBacking is the error of an open that could only be passed a
// cached file the daemon has since dropped (found damaged) or replaced.
var errStaleBacking = errors.New("the kernel holds a cached copy of this file that is no longer valid, for another open: retry once that one is closed")

// backing tracks the opens of each inode of a cached origin, to pick a mode
// the kernel accepts for the next one and never let it pass through a file
// other than the one already registered (a player still holds the old
// version of a file that changed, or a blob later found damaged).
type backing struct {
	mu sync.Mutex // guards m and the inodeOpens in it
	m  map[kernelInode]*inodeOpens
}

// kernelInode is one inode as the kernel knows it: a file's versions share
// the inode number but not the generation (see generation).
type kernelInode struct{ ino, gen uint64 }

type inodeOpens struct {
	blob                blobID // of the passthrough opens
	passthrough, cached int    // open handles in each mode
}

// open picks the mode of a new open of ino; blob is its complete cached
// file, if it has one (ok). It counts the open until close.
func (b *backing) open(ino kernelInode, blob blobID, ok bool) (ioMode, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[kernelInode]*inodeOpens{}
	}
	e := b.m[ino]
	if e == nil {
		e = &inodeOpens{}
		b.m[ino] = e
	}
	switch {
	case e.passthrough > 0 && (!ok || e.blob != blob):
		return 0, fmt.Errorf("open: %w", errStaleBacking)
	case ok && e.cached == 0:
		e.blob = blob
		e.passthrough++
		return ioPassthrough, nil
	default:
		e.cached++
		return ioCached, nil
	}
}

// close ends an open counted by open.
func (b *backing) close(ino kernelInode, mode ioMode) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[ino]
	if e == nil {
		return
	}
	switch mode {
	case ioPassthrough:
		e.passthrough--
	case ioCached:
		e.cached--
	}
	if e.passthrough <= 0 && e.cached <= 0 {
		delete(b.m, ino)
	}
}
