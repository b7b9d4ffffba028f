package bench

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/daemontest"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

// daemon is a musicfs process mounted over one origin named "lib".
type daemon struct {
	mp, lib, state, cache string // mountpoint, origin, state_dir, cache.dir
	proc                  *daemontest.Proc
	stopped               bool
}

// startDaemon runs the musicfs binary over lib and returns once it has sent
// READY=1. The first scan goes on in the background: see waitTree and
// waitFiles. At cleanup the daemon gets SIGTERM and the mount is checked gone.
func startDaemon(tb testing.TB, lib string) *daemon {
	tb.Helper()
	mounttest.RequireFUSE(tb)
	d := &daemon{mp: filepath.Join(tb.TempDir(), "music"), lib: lib, state: tb.TempDir(), cache: tb.TempDir()}
	// Registered before stop, so it runs after it: a last resort only.
	mounttest.CleanupMount(tb, d.mp)
	d.start(tb)
	return d
}

// start runs the binary over d's directories and waits for READY=1.
func (d *daemon) start(tb testing.TB) {
	tb.Helper()
	d.stopped = false
	// JSON at info: benchmarks read figures off the daemon's log lines.
	d.proc = daemontest.Start(tb, []string{"MUSICFS_LOG__FORMAT=json"}, "--mountpoint", d.mp, "--origin", "lib="+d.lib,
		"--state-dir", d.state, "--cache-dir", d.cache, "--log-level", "info")
	tb.Cleanup(func() { d.stop(tb) })
	d.proc.WaitReady(tb, readyTimeout)
}

// stop sends SIGTERM and waits for a clean exit and the mount to be gone.
func (d *daemon) stop(tb testing.TB) {
	if d.stopped {
		return
	}
	d.stopped = true
	select {
	case <-d.proc.Done():
		tb.Errorf("musicfs exited before the benchmark ended (%v):\n%s", d.proc.Err(), d.proc.Output())
		return
	default:
	}
	d.proc.Signal(tb, syscall.SIGTERM)
	if code := d.proc.Wait(tb, stopTimeout); code != 0 {
		tb.Errorf("musicfs exit code %d:\n%s", code, d.proc.Output())
	}
	if mounttest.Mounted(d.mp) {
		tb.Errorf("%s still mounted after musicfs exited", d.mp)
	}
}

// pid is the daemon's process id.
func (d *daemon) pid() int { return d.proc.Cmd.Process.Pid }

// path is p, slash-separated and relative to the mount root, on the mount.
func (d *daemon) path(p string) string { return filepath.Join(d.mp, filepath.FromSlash(p)) }

// waitFiles waits until every rel path exists under Origins/lib, the raw
// view of the origin, as the background scan adds them.
func (d *daemon) waitFiles(tb testing.TB, rels []string, timeout time.Duration) {
	tb.Helper()
	mounttest.Eventually(tb, timeout, "every file under Origins/lib", func() bool {
		for _, rel := range rels {
			if _, err := os.Stat(d.path("Origins/lib/" + rel)); err != nil {
				return false
			}
		}
		return d.alive(tb)
	})
}

// waitTree waits until the view dir of the mount holds n regular files.
func (d *daemon) waitTree(tb testing.TB, dir string, n int, timeout time.Duration) {
	tb.Helper()
	got := -1
	mounttest.Eventually(tb, timeout, "all tracks in "+dir, func() bool {
		var err error
		got, err = mounttest.CountFiles(d.path(dir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			tb.Logf("count files in %s: %v", dir, err)
		}
		return got == n && d.alive(tb)
	})
}

// alive fails the benchmark at once if the daemon has exited.
func (d *daemon) alive(tb testing.TB) bool {
	select {
	case <-d.proc.Done():
		tb.Fatalf("musicfs exited (%v):\n%s", d.proc.Err(), d.proc.Output())
		return false
	default:
		return true
	}
}

// logLine returns the fields of the first JSON log line whose message is
// msg, or nil.
func (d *daemon) logLine(msg string) map[string]any {
	for _, line := range strings.Split(d.proc.Output(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			return m
		}
	}
	return nil
}
