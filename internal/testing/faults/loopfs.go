package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// LoopFS is an ext4 filesystem in an image file, loop-mounted, so that a
// test can damage a file's data below the filesystem, as a failing disk
// does, without the filesystem noticing.
type LoopFS struct {
	Dir   string // where it is mounted
	image string
}

const loopBlockSize = 4096

// NewLoopFS makes and mounts a LoopFS of size bytes under tb.TempDir; it
// is unmounted at cleanup. It needs root and mkfs.ext4, and skips without
// them (fails with CI=true, like mounttest.RequireTool).
func NewLoopFS(tb testing.TB, size int64) *LoopFS {
	tb.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			tb.Fatal("loop mounts need root")
		}
		tb.Skip("loop mounts need root")
	}
	mkfs := mounttest.RequireTool(tb, "mkfs.ext4")
	mount := mounttest.RequireTool(tb, "mount")
	dir := tb.TempDir()
	l := &LoopFS{Dir: filepath.Join(dir, "fs"), image: filepath.Join(dir, "ext4.img")}
	if err := os.Mkdir(l.Dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(l.image, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(l.image, size); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-b", fmt.Sprint(loopBlockSize), l.image).CombinedOutput(); err != nil {
		tb.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	if out, err := exec.Command(mount, "-o", "loop", l.image, l.Dir).CombinedOutput(); err != nil {
		tb.Fatalf("mount -o loop: %v: %s", err, out)
	}
	tb.Cleanup(func() {
		// Lazily: a test that failed may leave a file open there.
		if err := unix.Unmount(l.Dir, unix.MNT_DETACH); err != nil {
			tb.Errorf("unmount %s: %v", l.Dir, err)
		}
	})
	return l
}

// fibmap is FIBMAP, _IO(0x00, 1): the physical block of a logical one.
const fibmap = 1

// FlipUnderneath flips the byte at off of path, a file on l, by writing to
// l's image: the filesystem never sees the write, so the file keeps its
// size, mtime and ctime, as with silent disk corruption. It then drops the
// file's cached pages, so that the next read gets the damaged byte.
func (l *LoopFS) FlipUnderneath(tb testing.TB, path string, off int64) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil { // its blocks allocated and written
		tb.Fatal(err)
	}
	blk := int32(off / loopBlockSize)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fibmap, uintptr(unsafe.Pointer(&blk))); errno != 0 || blk == 0 {
		tb.Fatalf("FIBMAP %s block %d: %v (physical %d)", path, off/loopBlockSize, errno, blk)
	}
	img, err := os.OpenFile(l.image, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer img.Close()
	at := int64(blk)*loopBlockSize + off%loopBlockSize
	b := make([]byte, 1)
	if _, err := img.ReadAt(b, at); err != nil {
		tb.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := img.WriteAt(b, at); err != nil {
		tb.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		tb.Fatal(err)
	}
	got := make([]byte, 1)
	if _, err := f.ReadAt(got, off); err != nil || got[0] != b[0] {
		tb.Fatalf("the damage did not reach %s (read %x, %v; wrote %x): its pages still cached?", path, got, err, b)
	}
}
