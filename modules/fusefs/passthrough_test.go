package fusefs

import (
	"errors"
	"testing"
)

// The modes the kernel accepts for concurrent opens of one inode: one
// backing file for all passthrough opens, none beside page-cache opens.
func TestBackingPicksModesTheKernelAccepts(t *testing.T) {
	var b backing
	ino := kernelInode{ino: 7, gen: 1}
	blobA, blobB := blobID{1, 10}, blobID{1, 11}
	open := func(id blobID, ok bool) (ioMode, error) { return b.open(ino, id, ok) }

	if m, err := open(blobID{}, false); m != ioCached || err != nil {
		t.Fatalf("partial track: %v, %v; want cached", m, err)
	}
	if m, err := open(blobA, true); m != ioCached || err != nil {
		t.Fatalf("complete beside a page-cache open: %v, %v; want cached", m, err)
	}
	b.close(ino, ioCached)
	b.close(ino, ioCached)

	if m, err := open(blobA, true); m != ioPassthrough || err != nil {
		t.Fatalf("complete, alone: %v, %v; want passthrough", m, err)
	}
	if m, err := open(blobA, true); m != ioPassthrough || err != nil {
		t.Fatalf("same blob again: %v, %v; want passthrough", m, err)
	}
	if _, err := open(blobB, true); !errors.Is(err, errStaleBacking) {
		t.Fatalf("another blob while one is passed through: %v; want errStaleBacking", err)
	}
	if _, err := open(blobID{}, false); !errors.Is(err, errStaleBacking) {
		t.Fatalf("blob dropped while passed through: %v; want errStaleBacking", err)
	}
	if other, err := b.open(kernelInode{ino: 7, gen: 2}, blobB, true); other != ioPassthrough || err != nil {
		t.Fatalf("the file's new version (another kernel inode): %v, %v; want passthrough", other, err)
	}
	b.close(ino, ioPassthrough)
	b.close(ino, ioPassthrough)
	if m, err := open(blobB, true); m != ioPassthrough || err != nil {
		t.Fatalf("after the holders closed: %v, %v; want passthrough of the new blob", m, err)
	}
}
