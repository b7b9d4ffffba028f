// Package mounttest has helpers for tests that mount for real: finding mounts
// in mountinfo, requiring FUSE, building the musicfs binary, and cleaning up.
package mounttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// RequireFUSE skips the test when FUSE mounts cannot be made here, except in
// CI, where that is a failure.
func RequireFUSE(t testing.TB) {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "needs root for FUSE mounts"
	default:
		if _, err := os.Stat("/dev/fuse"); err != nil {
			why = "no /dev/fuse"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s", why)
	}
	t.Skip(why)
}

// RequireTool finds an external program; a missing one skips the test
// locally and fails it in CI, where the image must provide it.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed: %v", name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
	return p
}

// MountType returns the filesystem type mounted exactly at dir ("" if none),
// read from /proc/self/mountinfo.
func MountType(dir string) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	want := filepath.Clean(dir)
	typ := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint opts [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || unescape(fields[4]) != want {
			continue
		}
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) {
				typ = fields[i+1] // the last match is the top mount
			}
		}
	}
	return typ
}

func unescape(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// Mounted reports whether anything is mounted at dir.
func Mounted(dir string) bool { return MountType(dir) != "" }

// CleanupMount makes sure nothing is left mounted at dir when the test ends.
func CleanupMount(t testing.TB, dir string) {
	t.Cleanup(func() {
		for i := 0; i < 5 && Mounted(dir); i++ {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				t.Logf("cleanup: unmount %s: %v", dir, err)
			}
		}
	})
}

// WaitUnmounted waits until dir is no longer a mount point.
func WaitUnmounted(t testing.TB, dir string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for Mounted(dir) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still mounted after %v", dir, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Eventually polls cond every 20ms until it returns true or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// Binary builds cmd/musicfs once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "musicfs-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "musicfs")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binPath, "github.com/musicfs/musicfs/cmd/musicfs")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build musicfs: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// CountFiles counts the regular files under dir.
func CountFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("count files in %s: %w", dir, err)
	}
	return n, nil
}

// DiskUsage is the disk space (allocated blocks) of the regular files under
// dir, such as a cache directory's blobs, fill files and database. A file
// removed while the walk runs (an eviction) is skipped.
func DiskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err == nil {
			n += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("disk usage of %s: %w", dir, err)
	}
	return n, nil
}
