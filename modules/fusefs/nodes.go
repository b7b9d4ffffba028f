package fusefs

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/musicfs/musicfs/modules/tree"
)

// Interface checks, gathered in one place.
var (
	_ = (fs.NodeLookuper)((*dirNode)(nil))
	_ = (fs.NodeGetattrer)((*dirNode)(nil))
	_ = (fs.NodeOpendirHandler)((*dirNode)(nil))
	_ = (fs.NodeStatfser)((*dirNode)(nil))
	_ = (fs.NodeGetattrer)((*fileNode)(nil))
	_ = (fs.NodeOpener)((*fileNode)(nil))
)

const (
	dirMode  = syscall.S_IFDIR | 0o555
	fileMode = syscall.S_IFREG | 0o444
	blkSize  = 4096
)

// dirNode is a directory of the virtual tree. It holds only the inode number:
// the directory's contents come from whatever snapshot is current.
type dirNode struct {
	fs.Inode
	fsys *FS
	ino  uint64
}

// fileNode is a file of the virtual tree; its origin is resolved at open.
type fileNode struct {
	fs.Inode
	fsys *FS
	ino  uint64
}

// newChild returns the inode for n, reusing the one go-fuse already has for
// that inode number.
func (f *FS) newChild(ctx context.Context, parent *fs.Inode, n *tree.Node) *fs.Inode {
	if n.Dir {
		return parent.NewInode(ctx, &dirNode{fsys: f, ino: n.Ino}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: n.Ino})
	}
	return parent.NewInode(ctx, &fileNode{fsys: f, ino: n.Ino}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: n.Ino, Gen: generation(n)})
}

// generation tells versions of a file apart: a file whose origin changed
// keeps its inode number (it is derived from the path) but becomes a new
// kernel inode. The kernel keeps one I/O mode and passthrough file per
// inode, so without this a player still holding the old version would
// have every new open served the old version's cached file.
func generation(n *tree.Node) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(n.Size()))
	binary.LittleEndian.PutUint64(b[8:], uint64(n.ModTime().UnixNano()))
	h.Write(b[:])
	return h.Sum64() | 1 // never 0, which would mean "no generation"
}

func (f *FS) fillAttr(n *tree.Node, a *fuse.Attr) {
	a.Ino = n.Ino
	a.Nlink = 1
	a.Owner = f.owner
	a.Blksize = blkSize
	t := n.ModTime()
	if n.Dir {
		a.Mode = dirMode
		a.Nlink = 2
	} else {
		a.Mode = fileMode
		a.Size = uint64(n.Size())
		a.Blocks = (a.Size + 511) / 512
	}
	if t.IsZero() {
		t = f.started
	}
	a.SetTimes(&t, &t, &t)
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (_ *fs.Inode, errno syscall.Errno) {
	defer d.fsys.track(opLookup, d.ino, d.fsys.begin(), &errno)
	return d.fsys.lookup(ctx, d.fsys.tree.Current(), &d.Inode, d.ino, name, out)
}

// lookup resolves name in directory ino of snap and returns its inode
// under parent, with its attributes in out.
func (f *FS) lookup(ctx context.Context, snap *tree.Snapshot, parent *fs.Inode, ino uint64, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	child := snap.Lookup(snap.Node(ino), name) // nil for a dir that is gone
	if child == nil {
		return nil, syscall.ENOENT
	}
	f.fillAttr(child, &out.Attr)
	return f.newChild(ctx, parent, child), 0
}

func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) (errno syscall.Errno) {
	defer d.fsys.track(opGetattr, d.ino, d.fsys.begin(), &errno)
	n := d.fsys.tree.Current().Node(d.ino)
	if n == nil {
		return syscall.ENOENT
	}
	d.fsys.fillAttr(n, &out.Attr)
	return 0
}

// OpendirHandle lists the directory as it is in the current snapshot. The
// kernel may cache the listing: a swap that changes it invalidates the cache.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (_ fs.FileHandle, _ uint32, errno syscall.Errno) {
	defer d.fsys.track(opOpendir, d.ino, d.fsys.begin(), &errno)
	snap := d.fsys.tree.Current()
	n := snap.Node(d.ino)
	if n == nil || !n.Dir {
		return nil, 0, syscall.ENOENT
	}
	return &dirHandle{fsys: d.fsys, dir: &d.Inode, ino: d.ino, snap: snap, children: snap.Children(n)},
		fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) (errno syscall.Errno) {
	defer d.fsys.track(opStatfs, d.ino, d.fsys.begin(), &errno)
	snap := d.fsys.tree.Current()
	out.Bsize = blkSize
	out.Frsize = blkSize
	out.NameLen = 255
	out.Files = uint64(snap.Len())
	return 0
}

func (n *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) (errno syscall.Errno) {
	defer n.fsys.track(opGetattr, n.ino, n.fsys.begin(), &errno)
	if h, ok := fh.(interface{ handle() *fileHandle }); ok {
		// An open file keeps the attributes it was opened with, even if a
		// swap has since removed or changed it.
		n.fsys.fillAttr(&h.handle().node, &out.Attr)
		return 0
	}
	tn := n.fsys.tree.Current().Node(n.ino)
	if tn == nil {
		return syscall.ENOENT
	}
	n.fsys.fillAttr(tn, &out.Attr)
	return 0
}

// writeFlags are open flags that could modify a file. The mount is read-only,
// but refusing them here too means no open can ever reach an origin file
// with write access.
const writeFlags = syscall.O_WRONLY | syscall.O_RDWR | syscall.O_TRUNC | syscall.O_APPEND | syscall.O_CREAT

func (n *fileNode) Open(ctx context.Context, flags uint32) (_ fs.FileHandle, _ uint32, errno syscall.Errno) {
	defer n.fsys.track(opOpen, n.ino, n.fsys.begin(), &errno)
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	tn := n.fsys.tree.Current().Node(n.ino)
	if tn == nil || tn.Dir {
		return nil, 0, syscall.ENOENT
	}
	octx, end := readContext(ctx)
	defer end()
	h, err := n.fsys.open(octx, n.ino, tn)
	if err != nil {
		return nil, 0, n.fsys.toErrno(opOpen, n.ino, err)
	}
	if !h.content.Cached() {
		// The tree is static between swaps and a swap that changes this
		// file invalidates its pages, so the kernel may keep them across
		// opens.
		return h, fuse.FOPEN_KEEP_CACHE, 0
	}
	return n.fsys.pickIO(h)
}

// open opens a file node's contents.
func (f *FS) open(ctx context.Context, ino uint64, tn *tree.Node) (*fileHandle, error) {
	c, err := f.contents.Open(ctx, tn.Track())
	if err != nil {
		return nil, err
	}
	return &fileHandle{fsys: f, ino: ino, node: *tn, content: c}, nil
}

// pickIO chooses how the kernel reads a cached file (see ioMode): handed
// its complete, verified copy (passthrough) when it has one and the inode's
// other opens allow it, else through the daemon. An open the kernel could
// only serve from a cached file the daemon no longer vouches for (found
// damaged while another open holds it) fails with EIO: never wrong bytes.
func (f *FS) pickIO(h *fileHandle) (fs.FileHandle, uint32, syscall.Errno) {
	if f.cfg.NoPassthrough || f.passthroughRefused.Load() {
		return h, fuse.FOPEN_KEEP_CACHE, 0 // ioUntracked
	}
	var id blobID
	blob, ok := h.content.Blob()
	if ok {
		id, ok = blobIDOf(blob)
	}
	mode, err := f.backing.open(h.kernelInode(), id, ok)
	if err != nil {
		h.Release(context.Background())
		return nil, 0, f.toErrno(opOpen, h.ino, err)
	}
	h.mode = mode
	if mode == ioPassthrough {
		f.metrics.passthrough.Inc()
		h.content.PassedThrough()
		return &passthroughHandle{fileHandle: h, blob: blob}, 0, 0 // go-fuse adds FOPEN_PASSTHROUGH
	}
	return h, fuse.FOPEN_KEEP_CACHE, 0
}
