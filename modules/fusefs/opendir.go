package fusefs

import (
	"sync/atomic"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// noOpendir spares the kernel a round trip per directory open. The tree is
// static between swaps, so once the kernel supports it (FUSE_NO_OPENDIR_SUPPORT)
// OPENDIR answers ENOSYS: the kernel then stops sending OPENDIR/RELEASEDIR
// and caches listings (which a swap invalidates). A warm `find` otherwise
// spends nearly all its time on those round trips. READDIR then arrives
// without a handle; go-fuse's bridge needs one, so each such call opens a
// short-lived handle of its own.
type noOpendir struct {
	fuse.RawFileSystem
	server  atomic.Pointer[fuse.Server]
	enabled atomic.Int32 // 0 unknown, 1 on, 2 off (decided at the first OPENDIR)
}

func (n *noOpendir) Init(s *fuse.Server) {
	n.server.Store(s)
	n.RawFileSystem.Init(s)
}

func (n *noOpendir) on() bool {
	if e := n.enabled.Load(); e != 0 {
		return e == 1
	}
	e := int32(2)
	if s := n.server.Load(); s != nil && s.KernelSettings().Flags64()&fuse.CAP_NO_OPENDIR_SUPPORT != 0 {
		e = 1
	}
	n.enabled.Store(e)
	return e == 1
}

func (n *noOpendir) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if n.on() {
		return fuse.ENOSYS
	}
	return n.RawFileSystem.OpenDir(cancel, in, out)
}

func (n *noOpendir) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return n.withHandle(cancel, in, out, n.RawFileSystem.ReadDir)
}

func (n *noOpendir) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return n.withHandle(cancel, in, out, n.RawFileSystem.ReadDirPlus)
}

func (n *noOpendir) ReleaseDir(in *fuse.ReleaseIn) {
	if in.Fh != 0 {
		n.RawFileSystem.ReleaseDir(in)
	}
}

type readDirFunc func(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status

// withHandle runs read with in's handle, or with a temporary one when the
// kernel sent none. The handle seeks to in.Offset, so a listing that spans
// several calls continues where it left off.
func (n *noOpendir) withHandle(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList, read readDirFunc) fuse.Status {
	if in.Fh != 0 {
		return read(cancel, in, out)
	}
	var opened fuse.OpenOut
	if st := n.RawFileSystem.OpenDir(cancel, &fuse.OpenIn{InHeader: in.InHeader}, &opened); !st.Ok() {
		return st
	}
	withFh := *in
	withFh.Fh = opened.Fh
	st := read(cancel, &withFh, out)
	n.RawFileSystem.ReleaseDir(&fuse.ReleaseIn{InHeader: in.InHeader, Fh: opened.Fh})
	return st
}
