package fusefs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"
)

const fuseSuperMagic = 0x65735546

func minor(dev uint64) uint32 { return unix.Minor(dev) }

// unmount removes the mount at mp, using umount2 as root and fusermount
// otherwise. A busy mount fails with EBUSY: see mount.Detach for the lazy
// form.
func unmount(mp string) error {
	err := unix.Unmount(mp, 0)
	if err == nil || !errors.Is(err, unix.EPERM) {
		if err != nil {
			return fmt.Errorf("umount %s: %w", mp, err)
		}
		return nil
	}
	for _, bin := range []string{"fusermount3", "fusermount"} {
		out, err := exec.Command(bin, "-u", mp).CombinedOutput()
		if err == nil {
			return nil
		}
		if !errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s -u %s: %w: %s", bin, mp, err, out)
		}
	}
	return fmt.Errorf("umount %s: no permission and no fusermount found", mp)
}

// abortConn aborts FUSE connection id through fusectl: every pending and
// future request on it fails with ENOTCONN and the server's read loop ends.
// fusectl is mounted privately when the system has not mounted it.
func abortConn(id uint32) error {
	if id == 0 {
		return errors.New("unknown connection")
	}
	name := fmt.Sprintf("%d/abort", id)
	if err := os.WriteFile(filepath.Join("/sys/fs/fuse/connections", name), []byte("1"), 0); err == nil {
		return nil
	}
	dir, err := os.MkdirTemp("", "musicfs-fusectl-")
	if err != nil {
		return fmt.Errorf("fusectl dir: %w", err)
	}
	defer os.Remove(dir)
	if err := unix.Mount("fusectl", dir, "fusectl", 0, ""); err != nil {
		return fmt.Errorf("mount fusectl: %w", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH) //nolint:errcheck // best effort cleanup of a private mount
	if err := os.WriteFile(filepath.Join(dir, name), []byte("1"), 0); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
