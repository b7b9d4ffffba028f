package cache

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Disk is the size of the cache filesystem, in bytes.
type Disk struct {
	Total int64
	Avail int64 // available to unprivileged users: the conservative figure
}

// Statfs reports the filesystem holding dir, through statfs(2).
func Statfs(dir string) (Disk, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Disk{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(st.Bsize) // its type differs between platforms
	return Disk{Total: int64(st.Blocks) * bs, Avail: int64(st.Bavail) * bs}, nil
}
