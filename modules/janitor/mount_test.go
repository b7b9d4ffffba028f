package janitor_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// childMountEnv makes the test binary a FUSE server that mounts the given
// directory, prints "ready" and serves until killed.
const childMountEnv = "JANITOR_TEST_CHILD_MOUNT"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childMountEnv); dir != "" {
		srv, err := mount(dir, &testRoot{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ready")
		srv.Wait()
		return
	}
	os.Exit(m.Run())
}

// testRoot is a directory with one file whose Getattr and Statfs block
// while block holds a channel.
type testRoot struct {
	fs.Inode
	block atomic.Pointer[chan struct{}]
}

var (
	_ = (fs.NodeOnAdder)((*testRoot)(nil))
	_ = (fs.NodeGetattrer)((*testRoot)(nil))
	_ = (fs.NodeStatfser)((*testRoot)(nil))
)

func (r *testRoot) OnAdd(ctx context.Context) {
	f := r.NewPersistentInode(ctx, &fs.MemRegularFile{Data: []byte("hello\n"), Attr: fuse.Attr{Mode: 0o644}}, fs.StableAttr{})
	r.AddChild("hello.txt", f, false)
}

func (r *testRoot) Getattr(ctx context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if c := r.block.Load(); c != nil {
		<-*c
	}
	out.Mode = 0o755
	return 0
}

func (r *testRoot) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	if c := r.block.Load(); c != nil {
		<-*c
	}
	return 0
}

func mount(dir string, root fs.InodeEmbedder) (*fuse.Server, error) {
	zero := time.Duration(0)
	return fs.Mount(dir, root, &fs.Options{
		// No caching: every stat must reach the server.
		EntryTimeout: &zero,
		AttrTimeout:  &zero,
		MountOptions: fuse.MountOptions{
			DirectMount: true, // as root; falls back to fusermount3
			FsName:      "janitortest",
			Name:        "janitortest",
		},
	})
}

// mountInProcess mounts root on dir for the test's duration.
func mountInProcess(t *testing.T, dir string, root fs.InodeEmbedder) *fuse.Server {
	t.Helper()
	requireFUSE(t)
	srv, err := mount(dir, root)
	if err != nil {
		t.Fatalf("mount %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if mounted(t, dir) {
			if err := srv.Unmount(); err != nil {
				t.Logf("unmount %s: %v; detaching", dir, err)
				_ = unix.Unmount(dir, unix.MNT_DETACH)
			}
		}
	})
	return srv
}

// mountInChild mounts dir from a child process; kill ends it with SIGKILL,
// leaving a dead mount whose stat gives ENOTCONN.
func mountInChild(t *testing.T, dir string) (kill func()) {
	t.Helper()
	requireFUSE(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childMountEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("child said %q", line)
		}
		ready <- err
	}()
	kill = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Cleanup(kill)
	select {
	case err = <-ready:
	case <-time.After(10 * time.Second):
		err = errors.New("child did not mount within 10s")
	}
	if err != nil {
		t.Fatal(err)
	}
	return kill
}

// deadMount leaves n dead mounts stacked on dir.
func deadMount(t *testing.T, dir string, n int) {
	t.Helper()
	var kills []func()
	for range n { // each mounts over the live one below
		kills = append(kills, mountInChild(t, dir))
	}
	for _, kill := range kills {
		kill()
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); !errors.Is(err, unix.ENOTCONN) {
		t.Fatalf("stat of the dead mount = %v, want ENOTCONN", err)
	}
}

func requireFUSE(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no FUSE: %v", err)
		}
		t.Skipf("no FUSE: %v", err)
	}
}

func mounted(t *testing.T, dir string) bool {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	return len(ms) > 0
}

// leaveNoMount fails the test if anything is still mounted on dir when the
// test ends, and detaches it so later tests are not affected.
func leaveNoMount(t *testing.T, dir string) {
	t.Cleanup(func() {
		for i := 0; mounted(t, dir) && i < 16; i++ {
			t.Errorf("%s is still mounted after the test", dir)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
}

func mountFSType(t *testing.T, dir string) string {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(dir))
	if err != nil || len(ms) == 0 {
		t.Fatalf("%s not in mountinfo: %v", dir, err)
	}
	return ms[0].FSType
}

func hasWarning(logs []string, want string) bool {
	for _, l := range logs {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}
