// Package mount has the calls on a mount point that the janitor, fusefs
// and the daemon's last-resort shutdown share.
package mount

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/bounded"
)

// Statfs asks the filesystem mounted at mp for statfs, giving up when ctx
// ends. statfs, not stat: the kernel answers a stat from its attribute cache
// even after a FUSE server died, but always forwards statfs, so an answer
// proves the server serves. A call into a hung FUSE mount cannot be
// interrupted: it is abandoned when ctx ends (see package bounded) and
// returns when the server answers or the mount is aborted.
func Statfs(ctx context.Context, mp string) (unix.Statfs_t, error) {
	st, err := bounded.Call(ctx, 0, nil, func() (unix.Statfs_t, error) {
		var st unix.Statfs_t
		return st, unix.Statfs(mp, &st)
	}, nil)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return st, fmt.Errorf("statfs %s: %w", mp, err)
	}
	return st, err
}

// Detach lazily unmounts mp: it is detached now and the kernel finishes once
// nothing uses it. A path that is no longer a mount point is fine. Without
// CAP_SYS_ADMIN the setuid fusermount helpers may still do it. The janitor
// uses it on stale mounts, fusefs on a busy mount at stop, and the daemon
// as the last resort of a shutdown that ran out of time.
func Detach(mp string) error {
	err := unix.Unmount(mp, unix.MNT_DETACH)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL):
		return nil // no longer a mount point: someone else removed it
	case !errors.Is(err, unix.EPERM):
		return err
	}
	errs := []error{fmt.Errorf("umount2: %w", err)}
	for _, helper := range []string{"fusermount3", "fusermount"} {
		out, herr := exec.Command(helper, "-uz", mp).CombinedOutput()
		if herr == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s -uz: %w: %s", helper, herr, strings.TrimSpace(string(out))))
	}
	return errors.Join(errs...)
}
