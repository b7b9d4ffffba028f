package origins

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a fresh tmpfs at dir until the test ends.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	must(t, unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

// drain reads Changes until none comes for quiet, and reports whether one
// of them was a Rescan.
func (wt *watchTest) drain(quiet time.Duration) bool {
	rescan := false
	for {
		c, ok := wt.next(quiet)
		if !ok {
			return rescan
		}
		rescan = rescan || c.Rescan
	}
}

// waitRescan waits for a Rescan of origin, skipping path changes.
func (wt *watchTest) waitRescan(origin string, timeout time.Duration, why string) {
	wt.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, ok := wt.next(time.Until(deadline))
		if !ok {
			wt.t.Fatalf("no rescan within %s %s", timeout, why)
		}
		if c.Rescan && c.Origin == origin {
			return
		}
	}
}

func statID(t *testing.T, path string) [2]uint64 {
	var st unix.Stat_t
	must(t, unix.Stat(path, &st))
	return [2]uint64{st.Dev, st.Ino}
}

// A NAS unmounted and mounted again under a watched root: inotify drops the
// watches (fsnotify swallows IN_UNMOUNT and IN_IGNORED), so the watcher must
// notice the root is another directory, watch it again and ask for a rescan.
func TestWatcherSeesRemount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	for _, tc := range []struct {
		name    string
		sub     string        // the origin root inside the mount; "" for the mount point itself
		poll    time.Duration // the watcher's pollEvery
		atOnce  bool          // mounted again right away, between two checks
		goneLog bool          // while unmounted the root is missing
	}{
		{name: "root is the mount point, seen unmounted", poll: 50 * time.Millisecond},
		// The new tmpfs gets the same st_dev and the same root inode: only
		// the mount differs.
		{name: "root is the mount point, remounted between checks", poll: 250 * time.Millisecond, atOnce: true},
		{name: "root inside the mount", sub: "music", poll: 50 * time.Millisecond, goneLog: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mnt := filepath.Join(t.TempDir(), "nas")
			must(t, os.Mkdir(mnt, 0o755))
			mountTmpfs(t, mnt)
			root := filepath.Join(mnt, tc.sub)
			writeFile(t, root, "a/1.mp3", nil)
			wt := startWatcher(t, []OriginConfig{{Name: "nas", Path: root, Watch: true}}, nil,
				func(w *Watcher) { w.pollEvery = tc.poll })
			wt.watching()
			writeFile(t, root, "a/2.mp3", nil)
			wt.waitPaths(2*time.Second, "a/2.mp3")
			if wt.drain(3 * tc.poll) {
				t.Fatal("rescan while the root stayed the same")
			}
			before := statID(t, root)

			must(t, unix.Unmount(mnt, 0))
			if !tc.atOnce {
				wt.waitRescan("nas", 2*time.Second, "after the unmount")
				if tc.goneLog {
					wt.waitLog("origin root gone: watches dropped, checking for its return", time.Second)
				}
			}
			mountTmpfs(t, mnt)
			writeFile(t, root, "a/1.mp3", nil)
			if after := statID(t, root); after == before {
				t.Logf("st_dev and st_ino are the same after the remount: %v", after)
			}
			wt.waitRescan("nas", 2*time.Second, "after the remount")

			// Watched again: a change on the new mount is reported.
			wt.drain(300 * time.Millisecond)
			writeFile(t, root, "a/3.mp3", nil)
			wt.waitPaths(2*time.Second, "a/3.mp3")
		})
	}
}
