package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/daemontest"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// persistentArgs are the flags of a daemon whose mountpoint, state and cache
// survive it, so that a restart finds what the last run left.
func persistentArgs(t *testing.T, lib string) (mp, state, cache string, args []string) {
	mp = filepath.Join(t.TempDir(), "music")
	state, cache = t.TempDir(), t.TempDir()
	mounttest.CleanupMount(t, mp)
	return mp, state, cache, []string{"--mountpoint", mp, "--origin", "lib=" + lib, "--state-dir", state, "--cache-dir", cache}
}

// kill9 kills the daemon and waits for it to be gone.
func kill9(t *testing.T, p *daemontest.Proc) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Wait(t, 5*time.Second)
}

// stop sends SIGTERM and expects a clean exit.
func stop(t *testing.T, p *daemontest.Proc) {
	t.Helper()
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// kill -9 while a track is being fetched into the cache: the next start
// leaves no temp files, and every byte served equals the origin's.
func TestKill9DuringFetch(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib := t.TempDir()
	if err := audiogen.WriteBig(lib, 1, 64<<20); err != nil {
		t.Fatal(err)
	}
	rel, _ := audiogen.BigTrack(0)
	mp, _, cache, args := persistentArgs(t, lib)

	first := run(t, nil, args...)
	first.WaitReady(t, 10*time.Second)
	track := filepath.Join(mp, "Origins/lib", rel)
	waitFile(t, track)
	f, err := os.OpenFile(track, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		buf := make([]byte, 256<<10)
		for off := int64(0); ; off += int64(len(buf)) {
			if _, err := f.ReadAt(buf, off); err != nil {
				read <- err
				return
			}
		}
	}()
	// Kill once part of the track is in the cache and the rest is coming.
	mounttest.Eventually(t, 10*time.Second, "a partly fetched track", func() bool {
		fills, _ := filepath.Glob(filepath.Join(cache, "fill", "*"))
		return len(fills) > 0
	})
	kill9(t, first)
	if err := <-read; err == nil {
		t.Fatal("reading on after kill -9 gave no error")
	}
	f.Close()

	second := run(t, nil, args...)
	second.WaitReady(t, 10*time.Second)
	var tmp []string
	filepath.Walk(filepath.Join(cache, "tmp"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			tmp = append(tmp, p)
		}
		return nil
	})
	if len(tmp) > 0 {
		t.Fatalf("temp files left after the restart: %q", tmp)
	}
	got, err := play(track)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, filepath.Join(lib, rel)); !bytes.Equal(got, want) {
		t.Fatalf("after kill -9 and restart: %d bytes served differ from the origin's %d", len(got), len(want))
	}
	stop(t, second)
}

// kill -9 halfway through the first scan of a large library: the next start
// serves what was indexed at once (before any rescan), with no duplicates,
// and finishes the scan.
func TestKill9DuringFirstScan(t *testing.T) {
	mounttest.RequireFUSE(t)
	const tracks = 20000
	lib := t.TempDir()
	if err := audiogen.WriteLarge(lib, tracks, 1024); err != nil {
		t.Fatal(err)
	}
	mp, _, _, args := persistentArgs(t, lib)
	count := func() int {
		n, err := mounttest.CountFiles(filepath.Join(mp, "Origins/lib"))
		if err != nil {
			return -1
		}
		return n
	}

	first := run(t, nil, args...)
	first.WaitReady(t, 10*time.Second)
	var before int
	mounttest.Eventually(t, 30*time.Second, "the first batches of the scan", func() bool {
		before = count()
		return before > 0
	})
	kill9(t, first)
	if before >= tracks {
		t.Skipf("the scan finished (%d files) before the kill; nothing to recover", before)
	}

	second := run(t, nil, args...)
	second.WaitReady(t, 10*time.Second)
	if n := count(); n < before {
		t.Fatalf("right after the restart the mount lists %d files, fewer than the %d indexed before the kill", n, before)
	}
	mounttest.Eventually(t, 60*time.Second, "the scan to finish", func() bool { return count() == tracks })
	// No duplicates: every track once under Artists/, none with a collision suffix.
	artists, err := mounttest.CountFiles(filepath.Join(mp, "Artists"))
	if err != nil || artists != tracks {
		t.Fatalf("Artists/ holds %d tracks (%v), want %d", artists, err, tracks)
	}
	// Loaded, then READY, then the rescan that finishes the job.
	out := second.Output()
	loaded, ready, scan := strings.Index(out, "index loaded"), strings.Index(out, "notified systemd: ready"), strings.Index(out, "scan started")
	if loaded < 0 || ready < loaded || scan < ready {
		t.Fatalf("want the index loaded, then READY, then the rescan; got:\n%s", out)
	}
	t.Logf("%d of %d files indexed at the kill; the restart listed them at once", before, tracks)
	stop(t, second)
}
