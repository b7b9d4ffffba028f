package cas

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// fill is a partial track: a sparse file of the track's size in which the
// present blocks have been written.
type fill struct {
	id        string
	size      int64
	blockSize int64
	n         int // number of blocks

	// Guarded by Store.mu.
	present      []bool
	hashes       [][hashLen]byte
	npresent     int
	presentBytes int64
	onDisk       bool  // the file exists (its bytes are accounted)
	bytes        int64 // allocated bytes of the file
	// verified[i]: block i was hashed (or written by us) while the file had
	// stamp, so a read finding the same stamp need not rehash it. Any other
	// change to the file (size, mtime or ctime) clears them all: a hot block
	// is not rehashed on every small read, yet an edited file is.
	verified []bool
	stamp    stamp
	// writing: a write of ours runs, so the file's stamp is not fl.stamp
	// and not yet its successor.
	writing bool

	// writeSlot lets one write at a time into the file: each write's
	// stamps from before and after must include no other write of ours,
	// or they could not tell ours from an outside edit. Held across the
	// pwrite as the fetch slots are across origin reads; hashing is done
	// before it is taken.
	writeSlot chan struct{}

	gone atomic.Bool // promoted or dropped: the file must not be recreated

	fmu   sync.Mutex // guards f, fd, users; held while opening, which every waiter needs
	f     *os.File
	fd    int
	users int
}

func newFill(id string, size, blockSize int64) *fill {
	n := int((size + blockSize - 1) / blockSize)
	return &fill{
		id: id, size: size, blockSize: blockSize, n: n,
		present:   make([]bool, n),
		hashes:    make([][hashLen]byte, n),
		verified:  make([]bool, n),
		writeSlot: make(chan struct{}, 1),
	}
}

// span returns block i's offset and length; the last block is short.
func (fl *fill) span(i int) (off, n int64) {
	off = int64(i) * fl.blockSize
	return off, min(fl.blockSize, fl.size-off)
}

// markLocked records block i as present with hash h.
func (fl *fill) markLocked(i int, h [hashLen]byte) {
	if !fl.present[i] {
		fl.present[i] = true
		fl.npresent++
		_, n := fl.span(i)
		fl.presentBytes += n
	}
	fl.hashes[i] = h
}

func (fl *fill) unmarkLocked(i int) {
	if fl.present[i] {
		fl.present[i] = false
		fl.npresent--
		_, n := fl.span(i)
		fl.presentBytes -= n
	}
	fl.verified[i] = false
}

// checkStampLocked compares st with the stamp the verified flags were set
// under; on a difference they are all cleared and st becomes the stamp.
func (fl *fill) checkStampLocked(st stamp) {
	if !st.same(fl.stamp) {
		clear(fl.verified)
	}
	fl.stamp = st
}

var errGone = errors.New("fill file gone")

// open returns the fill's file with a use counted, opening it (or creating
// it: in tmp/, sized, then renamed into place) for the first user. Every
// open must be paired with close. A file created for a fill that was
// dropped meanwhile is removed again: nobody accounts for it. (writeBlock
// handles the fill dropped after open returns.)
func (fl *fill) open(s *Store) (*os.File, int, error) {
	fl.fmu.Lock()
	defer fl.fmu.Unlock()
	if fl.f != nil {
		fl.users++
		return fl.f, fl.fd, nil
	}
	if fl.gone.Load() {
		return nil, 0, errGone
	}
	path := s.path(fillRel(fl.id))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		f, err = s.createFill(path, fl.size)
		if err == nil && fl.gone.Load() {
			_ = f.Close()
			s.unlink([]string{fillRel(fl.id)})
			return nil, 0, errGone
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open fill file %s: %w", fl.id, err)
	}
	fl.f, fl.fd, fl.users = f, int(f.Fd()), 1
	return f, fl.fd, nil
}

// close ends a use begun by open; the last one closes the file.
func (fl *fill) close() {
	fl.fmu.Lock()
	defer fl.fmu.Unlock()
	fl.users--
	if fl.users == 0 {
		_ = fl.f.Close()
		fl.f = nil
	}
}

func (s *Store) createFill(path string, size int64) (*os.File, error) {
	f, err := os.CreateTemp(s.path("tmp"), "fill-*")
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// stamp identifies a version of a file: any write through the filesystem
// changes its ctime (and mtime), and the kernel's multigrain timestamps
// make a change right after a stat visible even within one clock tick.
type stamp struct {
	ino, size, mtime, ctime int64
	blocks                  int64 // allocated 512-byte blocks; not part of identity
}

func (st stamp) same(o stamp) bool {
	return st.ino == o.ino && st.size == o.size && st.mtime == o.mtime && st.ctime == o.ctime
}

func (st stamp) bytes() int64 { return st.blocks * 512 }

func fstat(fd int) (stamp, error) {
	var sys unix.Stat_t
	if err := unix.Fstat(fd, &sys); err != nil {
		return stamp{}, err
	}
	return stampOf(&sys), nil
}

func stampOf(sys *unix.Stat_t) stamp {
	return stamp{
		ino:    int64(sys.Ino),
		size:   sys.Size,
		mtime:  sys.Mtim.Nano(),
		ctime:  sys.Ctim.Nano(),
		blocks: sys.Blocks,
	}
}
