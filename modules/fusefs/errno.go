package fusefs

import (
	"errors"
	"io/fs"
	"syscall"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// toErrno is the one place where errors become FUSE status codes. Expected
// conditions map to their errno; anything else becomes EIO. Each is logged
// here, once, with the inode and path (at warn level once per file per
// errLogEvery).
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
	level := zap.WarnLevel
	if !f.errLog.allow(ino) {
		level = zap.DebugLevel // logged at warn level recently
	}
	f.log.Log(level, "request failed", zap.String("op", op.String()), zap.Uint64("ino", ino),
		zap.String("path", f.path(ino)), zap.Error(err), zap.String("errno", errno.Error()))
	return errno
}
