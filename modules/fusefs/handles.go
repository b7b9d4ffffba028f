package fusefs

import (
	"context"
	"errors"
	"io"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/musicfs/musicfs/modules/content"
	"github.com/musicfs/musicfs/modules/tree"
)

var (
	_ = (fs.FileReader)((*fileHandle)(nil))
	_ = (fs.FileReleaser)((*fileHandle)(nil))
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
)

// fileHandle is an open file. It keeps a copy of the tree node it was
// opened from, so it reads on correctly across snapshot swaps.
type fileHandle struct {
	fsys    *FS
	ino     uint64
	node    tree.Node
	content *content.Handle
	mode    ioMode // of a cached file's open
}

func (h *fileHandle) handle() *fileHandle { return h }

func (h *fileHandle) kernelInode() kernelInode { return kernelInode{h.ino, generation(&h.node)} }

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (_ fuse.ReadResult, errno syscall.Errno) {
	defer h.fsys.track(opRead, h.ino, h.fsys.begin(), &errno)
	if h.mode == ioPassthrough && h.fsys.passthroughRefused.CompareAndSwap(false, true) {
		// The kernel would not take the backing file: go-fuse stopped
		// trying, so stop offering it.
		h.fsys.log.Info("FUSE passthrough refused by the kernel; the daemon serves cached files")
	}
	rctx, end := readContext(ctx)
	defer end()
	n, err := h.content.ReadAt(rctx, dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, h.fsys.toErrno(opRead, h.ino, err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *fileHandle) Release(ctx context.Context) (errno syscall.Errno) {
	defer h.fsys.track(opRelease, h.ino, h.fsys.begin(), &errno)
	if h.mode != ioUntracked {
		h.fsys.backing.close(h.kernelInode(), h.mode)
	}
	if err := h.content.Close(); err != nil {
		return h.fsys.toErrno(opRelease, h.ino, err)
	}
	return 0
}

// dirHandle lists a directory from the snapshot that was current when it was
// opened, so one listing is always consistent.
type dirHandle struct {
	fsys     *FS
	dir      *fs.Inode
	ino      uint64
	snap     *tree.Snapshot
	children []tree.Node
	pos      int // guarded by go-fuse's per-handle lock
}

func (h *dirHandle) Readdirent(ctx context.Context) (_ *fuse.DirEntry, errno syscall.Errno) {
	defer h.fsys.track(opReaddir, h.ino, h.fsys.begin(), &errno)
	if h.pos >= len(h.children) {
		return nil, 0
	}
	c := &h.children[h.pos]
	h.pos++
	mode := uint32(fileMode)
	if c.Dir {
		mode = dirMode
	}
	return &fuse.DirEntry{Name: c.Name, Ino: c.Ino, Mode: mode, Off: uint64(h.pos)}, 0
}

// Lookup answers READDIRPLUS from the same snapshot as the listing.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (_ *fs.Inode, errno syscall.Errno) {
	defer h.fsys.track(opLookup, h.ino, h.fsys.begin(), &errno)
	return h.fsys.lookup(ctx, h.snap, h.dir, h.ino, name, out)
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off > uint64(len(h.children)) {
		return syscall.EINVAL
	}
	h.pos = int(off)
	return 0
}
