package cas

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// maybeVerity enables fs-verity on b's file, once it has been verified:
// the kernel then checks every page it reads from disk against a Merkle
// tree, passthrough reads included, and a damaged page fails with EIO
// instead of being read. The file becomes read-only, so such a blob is
// never repaired in place; it needs no repair. Where the kernel or the
// cache filesystem lacks fs-verity, that is said once and never tried
// again; while a Reader still holds the file open for writing (the fill
// it was before its promotion), it is tried at the next verification.
func (s *Store) maybeVerity(b *blob) {
	if s.verityOff.Load() {
		return
	}
	s.mu.Lock()
	skip := b.verity || s.blobs[b.hash] != b || b.repairing != nil
	s.mu.Unlock()
	if skip {
		return
	}
	path := s.path(blobRel(b.hash))
	err := enableVerity(path)
	switch {
	case err == nil:
		s.mu.Lock()
		b.verity = true
		s.mu.Unlock()
		s.log.Debug("fs-verity enabled", zap.String("blob", blobRel(b.hash)))
	case errors.Is(err, unix.ETXTBSY):
	case errors.Is(err, os.ErrNotExist):
	default:
		if s.verityOff.CompareAndSwap(false, true) {
			s.log.Info("fs-verity not available on the cache filesystem; blobs are verified by the daemon only",
				zap.String("dir", s.cfg.Dir), zap.Error(err))
		}
	}
}

// enableVerity enables fs-verity on the file at path (nil if it has it
// already). It needs the file opened read-only and no writer.
func enableVerity(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var stx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, &stx); err == nil &&
		stx.Attributes&unix.STATX_ATTR_VERITY != 0 {
		return nil
	}
	arg := unix.FsverityEnableArg{
		Version:        1,
		Hash_algorithm: unix.FS_VERITY_HASH_ALG_SHA256,
		Block_size:     uint32(os.Getpagesize()),
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.FS_IOC_ENABLE_VERITY, uintptr(unsafe.Pointer(&arg)))
	switch errno {
	case 0, unix.EEXIST:
		return nil
	default:
		return fmt.Errorf("enable fs-verity: %w", errno)
	}
}
