package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// slowFile is an origin file on a NAS that has stopped answering for a
// while: each read blocks for delay (or until the test ends). A thread in a
// read the kernel has already sent to such a filesystem cannot be killed,
// so the delay is finite: the daemon can only exit once the read returns.
type slowFile struct {
	fs.Inode
	delay   time.Duration
	release chan struct{}
}

var (
	_ = (fs.NodeOpener)((*slowFile)(nil))
	_ = (fs.NodeReader)((*slowFile)(nil))
	_ = (fs.NodeGetattrer)((*slowFile)(nil))
)

func (h *slowFile) Open(context.Context, uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_DIRECT_IO, 0
}

func (h *slowFile) Read(ctx context.Context, _ fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	select {
	case <-time.After(h.delay):
	case <-h.release:
	}
	return fuse.ReadResultData(nil), syscall.EIO
}

func (h *slowFile) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = 0o644
	out.Size = 1 << 20
	return 0
}

// slowOrigin mounts, in this test process, a directory with one slow file.
func slowOrigin(t *testing.T, delay time.Duration) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "nas")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	root := &fs.Inode{}
	server, err := fs.Mount(dir, root, &fs.Options{
		// Through fusermount3, whose /dev/fuse descriptor is close-on-exec:
		// go-fuse's direct mount leaves it inheritable, and the daemon this
		// test starts would then hold this test's FUSE connection open.
		MountOptions: fuse.MountOptions{FsName: "slownas", Name: "slownas"},
		OnAdd: func(ctx context.Context) {
			f := root.NewPersistentInode(ctx, &slowFile{delay: delay, release: release}, fs.StableAttr{})
			root.AddChild("hang.bin", f, false)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() { close(release) })
		if err := server.Unmount(); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// A stop that cannot finish within shutdown_timeout (a player is stuck in a
// read from an origin that does not answer) ends with a lazy unmount and
// exit 1; so does a second SIGINT, without waiting for the timeout. Without
// either, the stop would wait for the read and exit 0.
func TestStuckShutdown(t *testing.T) {
	mounttest.RequireFUSE(t)
	for _, tc := range []struct {
		name        string
		timeout     string
		signals     []syscall.Signal
		within      time.Duration
		wantMessage string
	}{
		{"shutdown_timeout", "1s", []syscall.Signal{syscall.SIGTERM}, 8 * time.Second, `shutdown did not finish in time\t\{"shutdown_timeout": 1, "stuck_in": "[^"]*fusefs\.\(\*FS\)\.Stop`},
		{"second SIGINT", "60s", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 8 * time.Second, "second interrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp, args := mountArgs(t, slowOrigin(t, 2500*time.Millisecond))
			p := run(t, []string{"MUSICFS_SHUTDOWN_TIMEOUT=" + tc.timeout, "MUSICFS_READ_TIMEOUT=60s"}, args...)
			p.WaitReady(t, 10*time.Second)
			file := filepath.Join(mp, "Origins/lib/hang.bin")
			waitFile(t, file)

			// A player stuck in a read of the slow origin.
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			go func() { _, _ = f.Read(make([]byte, 4096)) }()
			mounttest.Eventually(t, 5*time.Second, "the read to reach the origin", func() bool {
				return originReadBlocked(p.Cmd.Process.Pid)
			})

			start := time.Now()
			for _, s := range tc.signals {
				p.Signal(t, s)
				time.Sleep(100 * time.Millisecond)
			}
			if code := p.Wait(t, tc.within); code != 1 {
				t.Fatalf("exit code %d, want 1\n%s", code, p.Output())
			}
			t.Logf("exited after %v", time.Since(start))
			// wantMessage is a regexp; %s stands for the mountpoint.
			want := regexp.MustCompile(strings.ReplaceAll(tc.wantMessage, "%s", regexp.QuoteMeta(mp)))
			if !want.MatchString(p.Output()) {
				t.Fatalf("no %q in the log:\n%s", want, p.Output())
			}
			if mounttest.Mounted(mp) {
				t.Fatal("still mounted after exit")
			}
		})
	}
}

// originReadBlocked reports whether one of the daemon's threads waits for a
// FUSE answer: its read of the slow origin.
func originReadBlocked(pid int) bool {
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "wchan"))
	for _, w := range tasks {
		b, _ := os.ReadFile(w)
		if strings.Contains(string(b), "wait_answer") {
			return true
		}
	}
	return false
}
