package fusefs

import (
	"errors"
	"io/fs"
	"syscall"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// toErrno is the one place where errors become FUSE status codes. Expected
// conditions map to their errno; anything else is logged here, once, with the
// inode and path, and becomes EIO.
func (f *FS) toErrno(op op, ino uint64, err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.Is(err, fs.ErrNotExist):
		errno = syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		errno = syscall.EACCES
	case errors.Is(err, origins.ErrTimeout), errors.Is(err, origins.ErrOffline):
		errno = syscall.EIO
	case errors.As(err, &errno):
	default:
		errno = syscall.EIO
	}
	f.log.Warn("origin error", zap.String("op", op.String()), zap.Uint64("ino", ino),
		zap.String("path", f.path(ino)), zap.Error(err), zap.String("errno", errno.Error()))
	return errno
}
