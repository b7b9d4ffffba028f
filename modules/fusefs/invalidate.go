package fusefs

import (
	"context"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/tree"
)

// invalidate follows snapshot swaps after prev and tells the kernel to
// forget what changed: the long cache timeouts are only safe because of this.
func (f *FS) invalidate(ctx context.Context, prev *tree.Snapshot) {
	defer f.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.tree.Swapped():
		}
		cur := f.tree.Current()
		if cur == prev {
			continue
		}
		f.applyDiffSafely(prev, cur)
		// A lookup that read the old snapshot just before the swap may
		// answer the kernel after the invalidation above and re-cache a
		// stale (often negative) entry. Lookups take microseconds, so a
		// second pass a little later clears what such a race left.
		select {
		case <-ctx.Done():
			return
		case <-time.After(renotifyDelay):
		}
		f.applyDiffSafely(prev, cur)
		prev = cur
	}
}

// renotifyDelay is how long after a swap its invalidations are sent again.
const renotifyDelay = 100 * time.Millisecond

// applyDiffSafely contains a panic in one invalidation pass: the kernel
// keeps some stale entries until their timeout, the daemon stays up.
func (f *FS) applyDiffSafely(prev, cur *tree.Snapshot) {
	defer func() {
		if r := recover(); r != nil {
			f.metrics.panics.Inc()
			f.log.Error("panic while invalidating kernel caches", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
		}
	}()
	f.applyDiff(prev, cur)
}

func (f *FS) applyDiff(prev, cur *tree.Snapshot) {
	dirs, files := tree.Diff(prev, cur)
	var notified int
	for _, d := range dirs {
		in := f.kernelInode(prev, cur, d.Ino)
		if in == nil {
			continue // the kernel never saw this directory
		}
		for _, name := range d.Removed {
			f.notify(in.NotifyEntry(name), "entry", d.Ino)
		}
		for _, name := range d.Added {
			f.notify(in.NotifyEntry(name), "entry", d.Ino) // drops a cached negative entry
		}
		f.notify(in.NotifyContent(0, 0), "listing", d.Ino)
		notified++
	}
	for _, ino := range files {
		in := f.kernelInode(prev, cur, ino)
		if in == nil {
			continue
		}
		f.notify(in.NotifyContent(0, 0), "content", ino)
		notified++
		// A new version is a new kernel inode (see generation): drop the
		// name so the next lookup finds it.
		if n := cur.Node(ino); n != nil {
			if dir := f.kernelInode(prev, cur, cur.Parent(n).Ino); dir != nil {
				f.notify(dir.NotifyEntry(n.Name), "entry", ino)
			}
		}
	}
	if notified > 0 {
		f.log.Debug("invalidated kernel caches", zap.Int("inodes", notified))
	}
}

// kernelInode finds go-fuse's inode for ino by walking its path from the
// root; nil if the kernel does not know it.
func (f *FS) kernelInode(prev, cur *tree.Snapshot, ino uint64) *fs.Inode {
	n, snap := cur.Node(ino), cur
	if n == nil {
		n, snap = prev.Node(ino), prev
	}
	if n == nil {
		return nil
	}
	in := &f.root.Inode
	p := snap.Path(n)
	if p == "." {
		return in
	}
	for _, name := range strings.Split(p, "/") {
		if in = in.GetChild(name); in == nil {
			return nil
		}
	}
	return in
}

func (f *FS) notify(errno syscall.Errno, what string, ino uint64) {
	// ENOENT: the kernel had already dropped it, which is what we wanted.
	if errno != 0 && errno != syscall.ENOENT {
		f.log.Debug("kernel cache invalidation", zap.String("what", what), zap.Uint64("ino", ino), zap.Error(errno))
	}
}
