package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// A configuration the daemon cannot use is exit 2 for check-config and for
// a start alike, with a message naming the key; a start never mounts or
// sends READY.
func TestUnusableConfigExits2InCheckAndStart(t *testing.T) {
	lib := writeLib(t, audiogen.StandardLibrary())
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args func(mp string) []string
		key  string
	}{
		{"mountpoint parent missing", func(string) []string {
			return []string{"--mountpoint", filepath.Join(t.TempDir(), "no/such/parent/music"), "--origin", "lib=" + lib}
		}, "mountpoint"},
		{"mountpoint a file", func(string) []string {
			return []string{"--mountpoint", file, "--origin", "lib=" + lib}
		}, "mountpoint"},
		{"cache dir under a file", func(mp string) []string {
			return []string{"--mountpoint", mp, "--origin", "lib=" + lib, "--cache-dir", filepath.Join(file, "cache")}
		}, "cache.dir"},
		{"state dir under a file", func(mp string) []string {
			return []string{"--mountpoint", mp, "--origin", "lib=" + lib, "--state-dir", filepath.Join(file, "state")}
		}, "state_dir"},
		{"cache dir inside the mountpoint", func(mp string) []string {
			return []string{"--mountpoint", mp, "--origin", "lib=" + lib, "--cache-dir", filepath.Join(mp, "cache")}
		}, "cache.dir"},
		{"origin inside the mountpoint", func(mp string) []string {
			return []string{"--mountpoint", mp, "--origin", "lib=" + filepath.Join(mp, "lib")}
		}, "origins[0].path"},
		{"mountpoint inside the origin", func(string) []string {
			return []string{"--mountpoint", filepath.Join(lib, "music"), "--origin", "lib=" + lib}
		}, "mountpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp := filepath.Join(t.TempDir(), "music")
			mounttest.CleanupMount(t, mp)
			args := tc.args(mp)
			for _, cmd := range [][]string{append([]string{"check-config"}, args...), args} {
				p := run(t, []string{"MUSICFS_STATE_DIR=" + t.TempDir(), "MUSICFS_CACHE__DIR=" + t.TempDir()}, cmd...)
				if code := p.Wait(t, 10*time.Second); code != 2 {
					t.Fatalf("%q: exit code %d, want 2\n%s", cmd, code, p.Output())
				}
				if !strings.Contains(p.Output(), tc.key) {
					t.Fatalf("%q: message does not name %q:\n%s", cmd, tc.key, p.Output())
				}
				if p.Notify.Seen("READY=1") || mounttest.Mounted(mp) {
					t.Fatalf("%q: an unusable config mounted or sent READY", cmd)
				}
			}
		})
	}
}

// The config file is read only if it is a regular file of at most 1 MiB:
// /dev/zero, a FIFO nobody writes to, a directory and a huge file all fail
// fast with exit 2 and say why.
func TestConfigFileMustBeASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte("# "+strings.Repeat("x", 2<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, why string }{
		{"/dev/zero", "/dev/zero", "not a regular file"},
		{"fifo", fifo, "not a regular file"},
		{"directory", dir, "not a regular file"},
		{"over 1 MiB", huge, "larger than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sub := range [][]string{{"check-config"}, nil} {
				start := time.Now()
				p := run(t, nil, append(sub, "--config", tc.path)...)
				if code := p.Wait(t, 5*time.Second); code != 2 {
					t.Fatalf("%v --config %s: exit code %d, want 2\n%s", sub, tc.path, code, p.Output())
				}
				if out := p.Output(); !strings.Contains(out, tc.path) || !strings.Contains(out, tc.why) {
					t.Fatalf("%v --config %s: message does not name the file and %q:\n%s", sub, tc.path, tc.why, out)
				}
				if took := time.Since(start); took > 3*time.Second {
					t.Fatalf("%v --config %s took %v", sub, tc.path, took)
				}
			}
		})
	}
}

// An origin that suddenly looks empty (its share unmounted under the
// mountpoint directory) is offline: its tracks stay listed, and an
// uncached read gets EIO, as for a missing root, not ENOENT.
func TestOfflineBecauseEmptyReadsEIO(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib, rels := cacheLib(t, 2, 1<<20)
	// Without the watcher, which would first see the renamed root as
	// missing, only the SIGHUP scan looks at it, and sees it empty.
	mp := filepath.Join(t.TempDir(), "music")
	mounttest.CleanupMount(t, mp)
	cfg := filepath.Join(t.TempDir(), "musicfs.yaml")
	body := fmt.Sprintf("mountpoint: %s\nstate_dir: %s\ncache: {dir: %s}\norigins: [{name: lib, path: %s, watch: false}]\n",
		mp, t.TempDir(), t.TempDir(), lib)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p := run(t, nil, "--config", cfg)
	p.WaitReady(t, 10*time.Second)
	for _, rel := range rels {
		waitFile(t, filepath.Join(mp, "Origins/lib", rel))
	}
	if err := os.Rename(lib, lib+".aside"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	p.Signal(t, syscall.SIGHUP)
	mounttest.Eventually(t, 10*time.Second, "the origin reported offline for looking empty", func() bool {
		return strings.Contains(p.Output(), "root is empty")
	})
	for _, rel := range rels {
		_, err := os.ReadFile(filepath.Join(mp, "Origins/lib", rel))
		if !errors.Is(err, syscall.EIO) {
			t.Fatalf("uncached read of %s from an origin offline for looking empty: %v, want EIO", rel, err)
		}
	}
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
